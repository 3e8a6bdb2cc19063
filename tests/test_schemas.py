"""The JSON Schemas in the package are the ones hvtune's records generate,
and what every command writes, on the bundled examples and hosts, is valid
by them (bench, lab and the libvirt commands are held to theirs where
their tests run them)."""

from __future__ import annotations

import json
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from hypothesis import given, settings
from jsonschema import Draft202012Validator

from hvtune.bundled import bundled_examples
from hvtune.catalog import load_catalog
from hvtune.formats import json as json_format
from hvtune.host.profile_json import bundled_profile_names
from hvtune.schemas import generate, published, text

from strategies import configs
from support.cli import run
from support.schemas import assert_valid

FOLDER = files("hvtune").joinpath("schemas")
EXAMPLES = bundled_examples()
HOSTS = bundled_profile_names()


@pytest.mark.parametrize("document", published(), ids=[d.schema for d in published()])
def test_the_published_schema_is_the_generated_one(document) -> None:  # type: ignore[no-untyped-def]
    published_text = FOLDER.joinpath(document.file_name).read_text("utf-8")
    assert published_text == text(generate(document)), "run: PYTHONPATH=src python -m hvtune.schemas"
    Draft202012Validator.check_schema(json.loads(published_text))


def test_every_published_file_is_a_kind_hvtune_writes() -> None:
    names = {entry.name for entry in FOLDER.iterdir() if entry.name.endswith(".json")}
    assert names == {document.file_name for document in published()}
    assert len({document.schema for document in published()}) == len(published())


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_check_convert_and_fix_of_each_example(capsys: pytest.CaptureFixture[str], tmp_path: Path, example) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / example.name
    copy.write_text(example.read_text("utf-8"), "utf-8")
    assert_valid(run(capsys, "check", str(copy), "--format", "json")[1])
    assert_valid(run(capsys, "check", str(copy), "--host", "amd-avic", "--format", "json")[1])
    assert_valid(run(capsys, "doctor", str(copy), "--host", "intel-nested", "--format", "json")[1])
    for argv in (
        ["convert", str(copy), "--to", "json"],
        ["fix", str(copy), "--plan", "--os", "win11", "--diff", "--format", "json"],
        ["fix", str(copy), "--all", "--format", "json"],
    ):
        code, out, err = run(capsys, *argv)
        if "-broken-typo" in example.name:  # no configuration QEMU could read: one line, no document
            assert code == 2 and out == "" and "did you mean" in err
        else:
            assert_valid(out)


def test_doctor_on_the_bundled_examples_and_unusable_files(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = assert_valid(run(capsys, "doctor", "--host", "intel-nested", "--format", "json")[1])
    assert document["hosts"][0]["vms"]
    unusable = tmp_path / "notes.txt"
    unusable.write_text("one line\nand another\n")
    good = tmp_path / "good.sh"
    shutil.copy(next(e for e in EXAMPLES if e.name == "win11-good.sh"), good)  # type: ignore[call-overload]
    for command in ("doctor", "check"):
        document = assert_valid(run(capsys, command, str(good), str(unusable), "--format", "json")[1])
        assert (document["hosts"][0] if command == "doctor" else document)["unusable"]


@pytest.mark.parametrize("host", HOSTS)
def test_plan_compare_and_host_on_each_bundled_host(capsys: pytest.CaptureFixture[str], host: str) -> None:
    assert_valid(run(capsys, "host", "--host", host, "--format", "json")[1])
    for guest in ("win11", "win2022", "linux"):
        for goals in ([], ["--migratable", "--tsc-frequency", "2500000000"], ["--nested", "--overcommit"]):
            for to in ("qemu", "libvirt", "json"):
                assert_valid(
                    run(capsys, "plan", "--os", guest, "--host", host, *goals, "--to", to, "--format", "json")[1]
                )
            assert_valid(run(capsys, "plan", "--os", guest, "--host", host, *goals, "--to", "json")[1])
            assert_valid(run(capsys, "compare", "--os", guest, "--host", host, *goals, "--format", "json")[1])


def test_this_host_the_host_list_and_a_saved_profile(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    saved = tmp_path / "host.json"
    probed = assert_valid(run(capsys, "host", "--format", "json", "--save", str(saved))[1])
    assert assert_valid(saved.read_text()) == probed
    listed = assert_valid(run(capsys, "host", "--list", "--format", "json")[1])
    assert [p["name"] for p in listed["profiles"]] == HOSTS


def test_list_and_explain_of_every_entry(capsys: pytest.CaptureFixture[str]) -> None:
    for everything in ([], ["--all"]):
        assert_valid(run(capsys, "list", "--format", "json", *everything)[1])
    for entry in load_catalog().entries:
        assert assert_valid(run(capsys, "explain", entry.name, "--format", "json")[1])["name"] == entry.name


@settings(max_examples=150, deadline=None)
@given(config=configs())
def test_any_configuration_as_json(config) -> None:  # type: ignore[no-untyped-def]
    assert_valid(json_format.render(config))
