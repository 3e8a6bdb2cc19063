"""Hostile domain XML: whatever the bytes, hvtune answers with findings or
one line naming the file, never a traceback or a hang; it reads only what it
decoded as UTF-8, refuses every DTD from what libxml2 parsed, and opens no
file but the input (strace is the witness)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hvtune.bundled import bundled_examples

from support.domains import domain, hyperv
from support.hostile import assert_kept_promises, hvtune, hvtune_process
from support.programs import require_program

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
EXAMPLES = [e.read_text("utf-8") for e in bundled_examples() if e.name.endswith(".xml")]
# Characters that matter to XML, to C number parsers, and to terminals.
NASTY = "<>&'\"=/!?[]-;#%\x00\x01\x1b\r\n\t \u2028\u00b2\u0663\ufeff\ud7ff\U0001f600x0123456789"


@st.composite
def mutated_examples(draw: st.DrawFn) -> bytes:
    """A bundled domain with a few bytes changed, inserted or cut."""
    text = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 12))
        text = text[:at] + draw(st.text(NASTY, max_size=8)) + text[at + cut :]
    return text.encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("command", ["check", "doctor", "convert"])
@FUZZ
@given(data=mutated_examples())
def test_mutated_domains(capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str, data: bytes) -> None:
    path = tmp_path / "vm.xml"
    path.write_bytes(data)
    argv = [command, str(path), *(["--to", "qemu"] if command == "convert" else ["--host", "intel-nested"])]
    assert_kept_promises(hvtune(capsys, *argv), str(path))


@FUZZ
@given(
    element=st.sampled_from(["spinlocks retries", "vendor_id value", "relaxed state", "stimer state"]),
    value=st.text(NASTY, max_size=30),
)
def test_generated_attribute_values(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, element: str, value: str
) -> None:
    name, attribute = element.split()
    quoted = value.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
    state = "" if attribute == "state" else " state='on'"
    path = tmp_path / "vm.xml"
    path.write_text(domain(hyperv(f"<{name}{state} {attribute}='{quoted}'/>")), "utf-8", errors="surrogatepass")
    assert_kept_promises(hvtune(capsys, "check", str(path)), str(path))


def _utf7(text: str) -> bytes:
    """`text` as UTF-7 with every character in a base64 run, so that no '<'
    is visible to a search of the bytes."""
    return b"+" + base64.b64encode(text.encode("utf-16-be")).rstrip(b"=") + b"-"


DTD = "<!DOCTYPE domain [<!ENTITY x 'EXPANDED'>]>"
BODY = "<domain type='kvm'><name>&x;</name></domain>"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b'<?xml version="1.0" encoding="UTF-7"?>' + _utf7(DTD) + BODY.encode(), "declares encoding 'UTF-7'"),
        (b'<?xml version="1.0" encoding="ISO-8859-1"?>' + BODY.encode(), "declares encoding 'ISO-8859-1'"),
        ('<?xml version="1.0" encoding="IBM037"?><domain/>'.encode("cp500"), "not UTF-8 text"),
        ("\ufeff<?xml version='1.0' encoding='UTF-16'?><domain/>".encode("utf-16-le"), "UTF-16 text"),
        ("<domain/>".encode("utf-16-be"), "a NUL byte: not UTF-8 text"),
        ((DTD + BODY).encode(), "a DOCTYPE is not allowed"),
        (b"<!DOCTYPE domain PUBLIC 'x' 'http://example.com/d.dtd'><domain/>", "a DOCTYPE is not allowed"),
        (b"<domain><name>&x;</name></domain>", "Entity 'x' not defined"),
        (b"<domain><!-- secret\nbody -- here --></domain>", "Double hyphen within comment"),
    ],
)
def test_encodings_and_dtds_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, data: bytes, problem: str
) -> None:
    path = tmp_path / "vm.xml"
    path.write_bytes(data)
    outcome = hvtune(capsys, "check", str(path))
    assert outcome.code == 2
    assert_kept_promises(outcome, str(path))
    assert problem in outcome.err and "secret" not in outcome.err and "EXPANDED" not in outcome.err


@FUZZ
@given(encoding=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="\"'<>&"), min_size=1))
def test_any_declared_encoding_but_utf8_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "vm.xml"
    path.write_text(f'<?xml version="1.0" encoding="{encoding}"?>' + domain(), "utf-8")
    outcome = hvtune(capsys, "check", str(path))
    assert_kept_promises(outcome, str(path))
    if encoding.lower() in ("utf-8", "utf8", "us-ascii", "ascii"):
        assert outcome.code == 0
    else:
        assert outcome.code == 2


def test_a_comment_may_mention_a_doctype(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.xml"
    path.write_text("<!-- written without <!DOCTYPE domain> -->\n" + domain(), "utf-8")
    assert hvtune(capsys, "check", str(path)).code == 0


def _opened(log: Path) -> list[str]:
    return re.findall(r'open(?:at)?\([^"]*"([^"]*)"', log.read_text("utf-8", "replace"))


@pytest.mark.parametrize("kind", ["file", "fifo", "entity-file", "parameter-entity"])
def test_no_file_but_the_input_is_opened(tmp_path: Path, kind: str) -> None:
    """A DTD or entity naming a local file (or a FIFO, which would block a
    reader forever) is refused without that file ever being opened."""
    strace = require_program("strace")
    target = tmp_path / f"target-{kind}"
    if kind == "fifo":
        os.mkfifo(target)
    else:
        target.write_text("<!ENTITY s 'SECRET'>", "utf-8")
    doctypes = {
        "file": f"<!DOCTYPE domain SYSTEM '{target}'>",
        "fifo": f"<!DOCTYPE domain SYSTEM '{target}'>",
        "entity-file": f"<!DOCTYPE domain [<!ENTITY s SYSTEM '{target}'>]>",
        "parameter-entity": f"<!DOCTYPE domain [<!ENTITY % p SYSTEM '{target}'> %p;]>",
    }
    path = tmp_path / "vm.xml"
    path.write_text(doctypes[kind] + "\n<domain type='kvm'><name>&s;</name></domain>\n", "utf-8")
    log = tmp_path / "strace.log"
    command = [strace, "-f", "-qq", "-e", "trace=open,openat,openat2", "-o", str(log)]
    done = subprocess.run(
        [*command, sys.executable, "-m", "hvtune", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and str(path) in done.stderr
    assert "SECRET" not in done.stdout + done.stderr
    opened = _opened(log)
    assert str(path) in opened
    assert str(target) not in opened


def test_deep_nesting_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "vm.xml"
    path.write_text("<domain>" + "<a>" * 5000 + "</a>" * 5000 + "</domain>", "utf-8")
    outcome = hvtune(capsys, "check", str(path))
    assert outcome.code == 2
    assert_kept_promises(outcome, str(path))


def test_a_subprocess_run_keeps_the_promises_too(tmp_path: Path) -> None:
    """The same promises when hvtune runs as its own process (what users run)."""
    path = tmp_path / "vm.xml"
    path.write_bytes(b"<?xml version='1.0' encoding='UTF-7'?>" + _utf7(DTD) + BODY.encode())
    assert_kept_promises(hvtune_process("check", str(path)), str(path))
