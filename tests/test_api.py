"""The Python API other tools embed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import hvtune

EXAMPLES = Path(__file__).parent.parent / "examples"


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


def test_the_core_runs_without_the_command_line() -> None:
    """A webhook or an Ansible module imports the core alone: no click, and
    no module of the command line."""
    core = "hvtune.checking, hvtune.converting, hvtune.fixing, hvtune.doctor, hvtune.plan, hvtune.compare"
    code = (
        f"import sys, {core}, hvtune.formats.libvirt, hvtune.formats.json; "
        "print(sorted(m for m in sys.modules if m.startswith(('click', 'hvtune.cli'))))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_the_core_runs_no_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core judges by the releases it is given; only the command line
    asks the machine (virsh --version, the probe)."""
    import subprocess as spawning

    from hvtune.converting import translate
    from hvtune.doctor import run_doctor
    from hvtune.fixing import fix_text
    from hvtune.formats import read_file

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the core ran a program: {args}")

    monkeypatch.setattr(spawning, "run", refuse)
    monkeypatch.setattr(spawning, "Popen", refuse)
    domain = EXAMPLES / "libvirt" / "win2022-broken-stimer-without-timer.xml"
    assert fix_text(domain.read_text(), source="d").changed
    assert translate(read_file(domain), "qemu", libvirt_version="9.0.0").startswith("host")
    assert run_doctor([domain]).results
