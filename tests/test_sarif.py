"""``--format sarif`` on check and doctor: a SARIF 2.1.0 log, valid against
OASIS's schema (tests/data/sarif), each finding on the line of its file
that spells the property (the element, the -cpu token, the JSON key), or
where it would be written; what QEMU refuses outright on the refused
token's line; a daemon's domain or a --cpu value by name. The exit codes
are those of the text report."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft4Validator
from lxml import etree

import hvtune
from hvtune.catalog import load_catalog

from strategies import domains
from support.cli import run

SCHEMA = json.loads((Path(__file__).parent / "data" / "sarif" / "sarif-schema-2.1.0.json").read_text())
EXAMPLES = Path(hvtune.__file__).parent / "examples"
INTEL = ("--host", "intel-nested")


def _valid(text: str) -> dict[str, Any]:
    log = json.loads(text)
    errors = [f"{error.json_path}: {error.message}" for error in Draft4Validator(SCHEMA).iter_errors(log)]
    assert not errors, errors
    return log  # type: ignore[no-any-return]


def _results(log: dict[str, Any]) -> list[tuple[str, str, str | None, int | None]]:
    """Each result as (rule, level, file path or logical name, line)."""
    found = []
    for result in log["runs"][0]["results"]:
        (location,) = result["locations"]
        physical = location.get("physicalLocation")
        if physical:
            path = unquote(physical["artifactLocation"]["uri"]).removeprefix("file://")
            found.append((result["ruleId"], result["level"], path, physical["region"]["startLine"]))
        else:
            found.append((result["ruleId"], result["level"], location["logicalLocations"][0]["name"], None))
    return found


def _raw(log: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """Each result with its line."""
    return [(r, r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in log["runs"][0]["results"]]


def _line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_each_finding_is_on_the_line_that_spells_it(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    domain = tmp_path / "stimer-alone.xml"
    domain.write_text(
        "<domain type='kvm'>\n  <name>w</name>\n  <features>\n    <hyperv>\n      <relaxed state='on'/>\n"
        "      <stimer state='on'/>\n    </hyperv>\n  </features>\n  <clock offset='localtime'>\n"
        "    <timer name='hypervclock' present='yes'/>\n  </clock>\n</domain>\n"
    )
    command = tmp_path / "vm.sh"
    command.write_text("#!/bin/sh\nqemu-system-x86_64 \\\n  -m 4G \\\n  -cpu host,hv-relaxed,hv_stimer,hv-time \\\n")
    config = tmp_path / "vm.json"
    config.write_text('{\n  "model": "host",\n  "hv-time": true,\n  "hv-stimer": true\n}\n')
    code, out, _ = run(capsys, "check", "--format", "sarif", str(domain), str(command), str(config))
    assert code == 1
    found = _results(_valid(out))
    # stimer needs synic and vpindex: QEMU names the first it misses, on stimer's own line
    assert ("missing-dependency", "error", str(domain), _line_of(domain, "<stimer")) in found
    assert ("missing-dependency", "error", str(command), _line_of(command, "-cpu")) in found
    assert ("missing-dependency", "error", str(config), _line_of(config, '"hv-stimer"')) in found


def test_a_missing_element_is_placed_where_it_would_be_written(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """The Debian 12 virt-install domain lacks synic, stimer, ...: each
    missing benefit points at its <hyperv>."""
    example = EXAMPLES / "libvirt" / "win11-virt-install-debian12.xml"
    code, out, _ = run(capsys, "check", "--format", "sarif", *INTEL, str(example))
    assert code == 0
    found = _results(_valid(out))
    benefits = [line for rule, _, _, line in found if rule == "missing-benefit"]
    assert len(benefits) >= 5 and set(benefits) == {_line_of(example, "<hyperv")}


def test_a_proxmox_finding_is_on_the_line_qemu_server_builds_it_from(capsys: pytest.CaptureFixture[str]) -> None:
    """What the ostype gives is on ostype:, what a VM may say in cpu: flags
    (hv-tlbflush) on cpu:."""
    example = EXAMPLES / "proxmox" / "win11-proxmox-gui.conf"
    code, out, _ = run(capsys, "check", "--format", "sarif", *INTEL, str(example))
    assert code == 0
    found = {(rule, line) for rule, _, _, line in _results(_valid(out))}
    assert ("reset-discouraged", _line_of(example, "ostype:")) in found
    assert ("missing-benefit", _line_of(example, "cpu:")) in found


def test_a_kubevirt_finding_is_on_its_field(capsys: pytest.CaptureFixture[str]) -> None:
    """KubeVirt's own refusal on the field it names; what libvirt refuses on
    the field that spells the property."""
    example = EXAMPLES / "kubevirt" / "win2022-broken-synictimer-without-timer.yaml"
    code, out, _ = run(capsys, "check", "--format", "sarif", str(example))
    assert code == 1
    found = {(result["properties"].get("feature"), line) for result, line in _raw(_valid(out))}
    assert ("hv-synic", _line_of(example, "synic:")) in found
    assert ("hv-stimer", _line_of(example, "synictimer:")) in found


def test_what_qemu_refuses_is_a_result_on_the_refused_line(capsys: pytest.CaptureFixture[str]) -> None:
    example = EXAMPLES / "qemu" / "win11-broken-typo.sh"
    code, out, err = run(capsys, "check", "--format", "sarif", str(example))
    assert code == 2 and "hv-stimmer" in err  # unusable input, said as ever
    log = _valid(out)
    assert _results(log) == [("qemu-refuses", "error", str(example), _line_of(example, "hv-stimmer"))]
    assert "did you mean hv-stimer?" in log["runs"][0]["results"][0]["message"]["text"]
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_unusable_input_is_a_result_in_a_file_else_a_notification(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "--format", "sarif", "/dev/null", "--cpu", "host,hv-stimmer")
    assert code == 2
    log = _valid(out)
    assert _results(log) == [("unusable-input", "error", "/dev/null", 1)]
    invocation = log["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    (notification,) = invocation["toolExecutionNotifications"]
    assert notification["message"]["text"].startswith("--cpu: -cpu token 2 'hv-stimmer': ")


def test_rules_name_each_code_once_with_its_impact(capsys: pytest.CaptureFixture[str]) -> None:
    examples = sorted(str(path) for path in EXAMPLES.glob("*/*") if "typo" not in path.name)
    code, out, _ = run(capsys, "check", "--format", "sarif", *INTEL, *examples)
    assert code == 1
    run_ = _valid(out)["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert len({rule["id"] for rule in rules}) == len(rules)
    for result in run_["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        assert rule["properties"]["impact"] in {"start", "migration", "speed", "risk", "note"}
    described = {rule["id"] for rule in rules if "fullDescription" in rule}
    assert described == {rule["id"] for rule in rules} & set(load_catalog().impacts.impacts)


def test_doctor_places_files_and_names_the_examples(capsys: pytest.CaptureFixture[str]) -> None:
    example = EXAMPLES / "libvirt" / "win2022-broken-stimer-without-timer.xml"
    code, out, _ = run(capsys, "doctor", "--format", "sarif", *INTEL, str(example))
    assert code == 1
    found = _results(_valid(out))
    assert found and all(where == str(example) and line is not None for _, _, where, line in found)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(domain=domains())
def test_generated_domains_point_at_their_elements(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory, domain: str
) -> None:
    """Any domain, one element a line: the log is valid, and a finding about
    a property whose element the domain holds once is on that element's
    line."""
    root = etree.fromstring(domain)
    etree.indent(root)
    text = etree.tostring(root, encoding="unicode") + "\n"
    path = tmp_path_factory.mktemp("sarif") / "domain.xml"
    path.write_text(text)
    lines = text.splitlines()
    code, out, _ = run(capsys, "check", "--format", "sarif", *INTEL, str(path))
    assert code in (0, 1, 2)
    catalog = load_catalog()
    for result in _valid(out)["runs"][0]["results"]:
        line = result["locations"][0]["physicalLocation"]["region"]["startLine"]
        assert 1 <= line <= len(lines)
        feature = result.get("properties", {}).get("feature")
        entry = catalog.entry(feature) if feature else None
        if entry is None or entry.libvirt is None or len(root.xpath(entry.libvirt.path)) != 1:
            continue
        tag = re.sub(r"\[.*", "", entry.libvirt.path.rsplit("/", 1)[-1])
        assert f"<{tag}" in lines[line - 1], (result, lines[line - 1])
