"""The Python API other tools embed."""

from __future__ import annotations

import subprocess
import sys

import pytest

import hvtune


def test_public_names_resolve() -> None:
    assert set(hvtune.__all__) == {"__version__", *hvtune._WHERE}
    for name in hvtune.__all__:
        assert getattr(hvtune, name) is not None
    with pytest.raises(AttributeError):
        hvtune.no_such_name  # noqa: B018


def test_import_is_cheap() -> None:
    code = "import sys, hvtune; print(sorted(m for m in sys.modules if m.startswith(('hvtune.', 'click'))))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "['hvtune._version']"


def test_a_round_trip_through_the_api() -> None:
    reading = hvtune.read_cpu_option("host,hv-relaxed,hv-stimer")
    findings = hvtune.check(reading.config)
    assert findings[0].severity is hvtune.Severity.ERROR
    fixed = reading.config
    for finding in findings:
        if finding.fix:
            fixed = finding.fix.apply(fixed)
    assert hvtune.check(fixed) == []
    assert hvtune.render(fixed, "qemu") == ("host,hv-relaxed=on,hv-time=on,hv-vpindex=on,hv-synic=on,hv-stimer=on\n")
    assert hvtune.load_catalog().property("hv-stimer").requires == ("hv-time", "hv-synic")
