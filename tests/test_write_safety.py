"""Writes: hvtune never replaces what is not a plain file, follows links and
keeps them, refuses hard-linked files, keeps owner, group and mode, never
loses an edit made while it works, leaves no temporary behind when it is
stopped, and a run killed outright never blocks or confuses the next.

Everything here is real: device nodes, FIFOs and sockets made in temporary
folders, other owners' files, concurrent writers (this process, sh, mv,
flock(1), a second hvtune) and signals sent to a real hvtune process."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import hvtune.converting
from hvtune.bundled import bundled_examples
from hvtune.errors import InputError
from hvtune.fixing import Fixing, fix_file
from hvtune.live import backup_path

from support.cli import assert_one_line_error, run
from support.programs import require_program

EXAMPLE = next(e for e in bundled_examples() if e.name == "win2022-broken-stimer-without-timer.xml")
ORIGINAL = EXAMPLE.read_bytes()
PAUSED_WRITE = Path(__file__).parent / "support" / "paused_write.py"
HVTUNE = (sys.executable, "-m", "hvtune")
IN_PROCESS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CHANGED = "changed while hvtune was working; nothing written"


@functools.cache
def fixed(original: bytes = ORIGINAL) -> bytes:
    """What `hvtune fix` makes of `original`."""
    return Fixing().outcome(original.decode(), "vm.xml").fixed.encode()


@functools.cache
def big() -> bytes:
    """The example padded with comments to 8 MiB: reading, fixing and
    writing it take a measurable time."""
    text = ORIGINAL.decode()
    at = text.index("  <devices>")
    line = "  <!-- a domain that carries many comments, so that its file is big -->\n"
    return (text[:at] + line * (8 * 1024 * 1024 // len(line)) + text[at:]).encode()


def leftovers(*folders: Path) -> list[str]:
    """hvtune's temporaries in these folders."""
    return sorted(name for folder in folders for name in os.listdir(folder) if ".hvtune-" in name)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder for one generated case."""
    with tempfile.TemporaryDirectory(prefix="hvtune-writes-") as folder:
        yield Path(folder)


def domain_file(folder: Path, name: str = "vm.xml", content: bytes = ORIGINAL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


# Each link of a chain: the folder it lives in, and whether it points by an absolute path.
Hops = list[tuple[int, bool]]


def link_chains(min_size: int = 1) -> st.SearchStrategy[Hops]:
    return st.lists(st.tuples(st.integers(0, 2), st.booleans()), min_size=min_size, max_size=5)


def chain(folder: Path, target: Path, hops: Hops) -> tuple[Path, dict[Path, str]]:
    """Links (folder/dN/linkI) leading to `target`: the first one, and what each points to."""
    following, links = target, {}
    for index, (sub, absolute) in reversed(list(enumerate(hops))):
        place = folder / f"d{sub}"
        place.mkdir(exist_ok=True)
        link = place / f"link{index}"
        link.symlink_to(following if absolute else os.path.relpath(following, place))
        links[link] = os.readlink(link)
        following = link
    return following, links


def assert_links_kept(links: dict[Path, str]) -> None:
    assert {link: os.readlink(link) for link in links if link.is_symlink()} == links


def folders(root: Path) -> list[Path]:
    return [root, *(p for p in root.rglob("*") if p.is_dir() and not p.is_symlink())]


# --- what is not a plain file ---------------------------------------------

NODES = ("character device", "block device", "socket", "directory")


def make_node(path: Path, kind: str) -> None:
    if kind == "character device":
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null's numbers
    elif kind == "block device":
        os.mknod(path, stat.S_IFBLK | 0o600, os.makedev(7, 250))  # a loop device nobody sets up
    elif kind == "socket":
        with socket.socket(socket.AF_UNIX) as bound:
            bound.bind(str(path))
    else:
        path.mkdir()


def identity(path: Path) -> tuple[int, int, int]:
    found = os.lstat(path)
    return found.st_ino, stat.S_IFMT(found.st_mode), found.st_rdev


@IN_PROCESS
@given(
    kind=st.sampled_from(NODES),
    hops=link_chains(min_size=0),
    writer=st.sampled_from(("fix --output", "host --save", "convert --into")),
)
def test_what_is_not_a_plain_file_is_never_replaced(
    capsys: pytest.CaptureFixture[str], kind: str, hops: Hops, writer: str
) -> None:
    with scratch() as folder:
        node = folder / "node"
        make_node(node, kind)
        before = identity(node)
        target, links = chain(folder, node, hops)
        argv = {
            "fix --output": ("fix", str(domain_file(folder / "in")), "--output", str(target)),
            "host --save": ("host", "--host", "intel-nested", "--save", str(target)),
            "convert --into": ("convert", "--cpu", "host,hv-relaxed", "--into", str(target)),
        }[writer]
        code, out, err = run(capsys, *argv)
        assert identity(node) == before  # the same node, still what it was
        assert_links_kept(links)
        assert leftovers(*folders(folder)) == []
        if kind == "character device" and writer != "convert --into":
            assert code == 0 and err == ""  # written through, as to /dev/null
        else:
            assert code == 2 and out == ""
            assert_one_line_error(err, kind if kind != "directory" else "is a directory")
        if writer == "fix --output":
            assert (folder / "in" / "vm.xml").read_bytes() == ORIGINAL
            assert os.listdir(folder / "in") == ["vm.xml"]


def test_a_fifo_nobody_reads_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    source = domain_file(tmp_path / "in")
    done = subprocess.run(
        [*HVTUNE, "fix", str(source), "--output", str(fifo)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2 and done.stdout == ""
    assert_one_line_error(done.stderr, f"{fifo}: is a FIFO that nobody reads; nothing written")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and leftovers(tmp_path) == []


def test_a_fifo_with_a_reader_gets_the_fixed_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    before = identity(fifo)
    source = domain_file(tmp_path / "in")
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        code, out, _ = run(capsys, "fix", str(source), "--output", str(fifo))
        received = os.read(reader, 1 << 20)
    finally:
        os.close(reader)
    assert code == 0 and out.endswith(f"wrote {fifo}\n")
    assert received == fixed()
    assert identity(fifo) == before and leftovers(tmp_path) == []


# --- symbolic links -------------------------------------------------------


@IN_PROCESS
@given(hops=link_chains(), how=st.sampled_from(("in place", "--output the link", "the link, --output the link")))
def test_a_link_is_followed_its_file_replaced_and_the_link_kept(
    capsys: pytest.CaptureFixture[str], hops: Hops, how: str
) -> None:
    with scratch() as folder:
        real = domain_file(folder / "real")
        real.chmod(0o640)
        link, links = chain(folder, real, hops)
        argv = {
            "in place": ("fix", str(link)),
            "--output the link": ("fix", str(real), "--output", str(link)),
            "the link, --output the link": ("fix", str(link), "--output", str(link)),
        }[how]
        code, out, _ = run(capsys, *argv)
        written = os.path.realpath(real) if how != "--output the link" else str(real)
        assert code == 0 and out.endswith(f"wrote {written} (original kept as {written}.bak)\n")
        assert real.read_bytes() == fixed() and stat.S_IMODE(real.stat().st_mode) == 0o640
        assert (folder / "real" / "vm.xml.bak").read_bytes() == ORIGINAL
        assert_links_kept(links)
        assert leftovers(*folders(folder)) == []


@IN_PROCESS
@given(hops=link_chains())
def test_a_dangling_link_makes_the_file_it_points_to(capsys: pytest.CaptureFixture[str], hops: Hops) -> None:
    with scratch() as folder:
        source = domain_file(folder / "in")
        (folder / "out").mkdir()
        missing = folder / "out" / "new.xml"
        link, links = chain(folder, missing, hops)
        code, out, err = run(capsys, "fix", str(source), "--output", str(link), "--format", "json")
        assert code == 0, err
        assert missing.read_bytes() == fixed()
        assert f'"written": "{os.path.realpath(missing)}"' in out and '"backup": null' in out
        assert_links_kept(links)
        assert source.read_bytes() == ORIGINAL and os.listdir(folder / "out") == ["new.xml"]


@pytest.mark.parametrize("through", ["TARGET", "--output"])
def test_a_loop_of_links_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path, through: str) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    source = domain_file(tmp_path / "in")
    argv = (
        ("fix", str(tmp_path / "a")) if through == "TARGET" else ("fix", str(source), "--output", str(tmp_path / "a"))
    )
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert_one_line_error(err, str(tmp_path / "a"), "Too many levels of symbolic links")
    assert os.readlink(tmp_path / "a") == "b" and os.readlink(tmp_path / "b") == "a"


@pytest.mark.parametrize("kind", ["FIFO", "symbolic link", "directory"])
def test_the_backup_replaces_only_a_file_or_a_link(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, kind: str
) -> None:
    """FILE.bak is hvtune's own name: a link there is replaced, never
    followed; anything else makes hvtune write nothing."""
    path = domain_file(tmp_path / "files")
    backup = tmp_path / "files" / "vm.xml.bak"
    elsewhere = domain_file(tmp_path / "elsewhere", content=b"not hvtune's")
    if kind == "FIFO":
        os.mkfifo(backup)
    elif kind == "directory":
        backup.mkdir()
    else:
        backup.symlink_to(elsewhere)
    code, out, err = run(capsys, "fix", str(path))
    assert elsewhere.read_bytes() == b"not hvtune's"
    if kind == "symbolic link":
        assert code == 0 and not backup.is_symlink() and backup.read_bytes() == ORIGINAL
        assert path.read_bytes() == fixed()
    else:
        assert code == 2 and out == ""
        assert_one_line_error(err, f"{backup}: is a {kind}, where hvtune keeps the original; nothing written")
        assert path.read_bytes() == ORIGINAL
        assert (stat.S_ISFIFO if kind == "FIFO" else stat.S_ISDIR)(os.lstat(backup).st_mode)
    assert leftovers(tmp_path / "files") == []


# --- hard links, the file itself as --output ------------------------------


@IN_PROCESS
@given(names=st.integers(2, 4), pick=st.integers(0, 3), output=st.booleans())
def test_a_file_with_hard_links_is_refused(
    capsys: pytest.CaptureFixture[str], names: int, pick: int, output: bool
) -> None:
    with scratch() as folder:
        paths = [domain_file(folder / "files", "name0.xml")]
        for index in range(1, names):
            paths.append(folder / "files" / f"name{index}.xml")
            os.link(paths[0], paths[-1])
        chosen = paths[pick % names]
        source = domain_file(folder / "in")
        code, out, err = run(capsys, "fix", *((str(source), "--output") if output else ()), str(chosen))
        assert code == 2 and out == ""
        assert_one_line_error(
            err, f"has {names} hard links, and replacing it would leave the others with the old bytes"
        )
        assert {os.stat(p).st_ino for p in paths} == {os.stat(paths[0]).st_ino}
        assert all(p.read_bytes() == ORIGINAL for p in paths)
        assert sorted(os.listdir(folder / "files")) == sorted(p.name for p in paths)


@pytest.mark.parametrize("spelling", ["./vm.xml", "vm.xml", "sub/../vm.xml", "{folder}/vm.xml"])
def test_output_naming_the_input_is_a_fix_in_place(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    path = domain_file(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "fix", "vm.xml", "--output", spelling.format(folder=tmp_path))
    assert code == 0 and "(original kept as " in out
    assert path.read_bytes() == fixed() and (tmp_path / "vm.xml.bak").read_bytes() == ORIGINAL
    code, out, _ = run(capsys, "fix", "vm.xml", "--output", spelling.format(folder=tmp_path))
    assert code == 0 and out.endswith("nothing to change; wrote nothing\n")
    assert (tmp_path / "vm.xml.bak").read_bytes() == ORIGINAL


# --- owner, group and mode ------------------------------------------------

IDS = st.one_of(st.sampled_from((0, 1, 1000, 65534)), st.integers(1, 2**31 - 2))


@IN_PROCESS
@given(uid=IDS, gid=IDS, mode=st.integers(0, 0o7777), output=st.booleans())
def test_owner_group_and_mode_are_kept(
    capsys: pytest.CaptureFixture[str], uid: int, gid: int, mode: int, output: bool
) -> None:
    with scratch() as folder:
        target = domain_file(folder, "target.xml", b"<!-- to be replaced -->\n" if output else ORIGINAL)
        os.chown(target, uid, gid)
        os.chmod(target, mode)  # after chown, which clears the set-id bits
        argv = ("fix", str(domain_file(folder / "in")), "--output", str(target)) if output else ("fix", str(target))
        code, _, err = run(capsys, *argv)
        assert code == 0, err
        assert target.read_bytes() == fixed()
        kept = [target] if output else [target, folder / "target.xml.bak"]
        for path in kept:
            found = path.stat()
            assert (found.st_uid, found.st_gid, stat.S_IMODE(found.st_mode)) == (uid, gid, mode)
        assert sorted(os.listdir(folder)) == sorted([*(["in"] if output else []), *(p.name for p in kept)])


def test_a_user_who_cannot_give_the_owner_writes_nothing() -> None:
    """Someone else's file in a folder anyone may write: replacing it would
    make it the writer's, so hvtune (not root) refuses."""
    with scratch() as folder:
        folder.chmod(0o777)
        path = domain_file(folder)
        os.chown(path, 1000, 1000)
        path.chmod(0o666)
        message = _as_nobody(lambda: fix_file(str(path), Fixing()))
        assert message == (
            f"{path}: belongs to uid 1000, gid 1000, which hvtune cannot give its replacement "
            "(run it as that user or as root); nothing written"
        )
        assert path.read_bytes() == ORIGINAL and (path.stat().st_uid, path.stat().st_gid) == (1000, 1000)
        assert os.listdir(folder) == ["vm.xml"]


def _as_nobody(action: Callable[[], object]) -> str:
    """Run `action` in a child process as uid and gid 65534: its InputError, or "done"."""
    reading, writing = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe
        try:
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            action()
            message = "done"
        except InputError as error:
            message = str(error)
        except BaseException as error:
            message = repr(error)
        os.write(writing, message.encode())
        os._exit(0)
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        message = pipe.read().decode()
    os.waitpid(child, 0)
    return message


# --- edits made while hvtune works ----------------------------------------


def _append(path: Path, extra: bytes) -> None:
    with path.open("ab") as handle:
        handle.write(extra)


def _rewrite_in_place(path: Path, extra: bytes) -> None:
    path.write_bytes(path.read_bytes() + extra)  # truncates and writes the same inode


def _rename_over(path: Path, extra: bytes) -> None:
    new = path.with_name("edited.new")
    new.write_bytes(path.read_bytes() + extra)
    os.replace(new, path)


def _sh_append(path: Path, extra: bytes) -> None:
    subprocess.run(["sh", "-c", 'printf "%s" "$1" >> "$2"', "sh", extra.decode(), str(path)], check=True, timeout=30)


def _sh_and_mv(path: Path, extra: bytes) -> None:
    script = 'cp "$2" "$2.new" && printf "%s" "$1" >> "$2.new" && mv "$2.new" "$2"'
    subprocess.run(["sh", "-c", script, "sh", extra.decode(), str(path)], check=True, timeout=30)


EDITS: dict[str, Callable[[Path, bytes], None]] = {
    "append": _append,
    "rewrite in place": _rewrite_in_place,
    "rename over it": _rename_over,
    "the same bytes, renamed over it": lambda path, extra: _rename_over(path, b""),
    "sh appends": _sh_append,
    "sh and mv replace it": _sh_and_mv,
}


@IN_PROCESS
@given(
    edit=st.sampled_from(sorted(EDITS)),
    words=st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), min_size=1, max_size=30),
    command=st.sampled_from(("fix", "fix --output FILE", "convert --into")),
)
def test_an_edit_made_while_hvtune_works_is_never_lost(
    capsys: pytest.CaptureFixture[str], edit: str, words: str, command: str
) -> None:
    with scratch() as folder, pytest.MonkeyPatch.context() as patch:
        path = domain_file(folder)
        extra = f"<!-- {words} -->\n".encode()
        edited: list[bytes] = []

        def meanwhile(step: Callable[..., object]) -> Callable[..., object]:
            def stepped(*arguments: object, **options: object) -> object:
                result = step(*arguments, **options)
                EDITS[edit](path, extra)
                edited.append(path.read_bytes())
                return result

            return stepped

        if command == "convert --into":
            patch.setattr(hvtune.converting, "into_domain", meanwhile(hvtune.converting.into_domain))
            argv: tuple[str, ...] = ("convert", "--cpu", "host,hv-relaxed,hv-vapic", "--into", str(path))
        else:
            patch.setattr(Fixing, "outcome", meanwhile(Fixing.outcome))
            argv = ("fix", str(path), *(("--output", str(path)) if command.endswith("FILE") else ()))
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == ""
        assert_one_line_error(err, f"{path}: {CHANGED}")
        assert path.read_bytes() == edited[0]
        assert os.listdir(folder) == ["vm.xml"]  # no backup, no temporary


def test_hvtune_waits_for_a_lock_held_by_flock_and_reads_what_was_written_under_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = domain_file(tmp_path)
    comment = b"<!-- added under the lock -->\n"
    script = 'sleep 1; printf "%s\\n" "<!-- added under the lock -->" >> "$1"'
    holder = subprocess.Popen([require_program("flock"), str(path), "sh", "-c", script, "sh", str(path)])
    _wait_until_locked(path)
    code, out, _ = run(capsys, "fix", str(path))
    assert holder.wait(timeout=30) == 0
    assert code == 0 and out.endswith(f"wrote {path} (original kept as {path}.bak)\n")
    assert path.with_name("vm.xml.bak").read_bytes() == ORIGINAL + comment
    assert path.read_bytes() == fixed(ORIGINAL + comment)


def _has_open(pid: int, path: Path) -> bool:
    folder = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        return any(os.readlink(fd) == str(path) for fd in folder.iterdir())
    return False


def test_two_runs_on_one_file_keep_the_original_in_the_backup(tmp_path: Path) -> None:
    """Both runs are made to wait for the lock on the file as read; the
    second to get it finds the file replaced, reads the new one and has
    nothing left to change."""
    path = domain_file(tmp_path)
    with path.open("rb") as gate:
        fcntl.flock(gate, fcntl.LOCK_EX)
        runs = [
            subprocess.Popen([*HVTUNE, "fix", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(2)
        ]
        deadline = time.monotonic() + 60
        while not all(_has_open(r.pid, path) for r in runs) and time.monotonic() < deadline:
            time.sleep(0.01)
    results = [r.communicate(timeout=60) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], results
    assert sorted(out.splitlines()[-1] for out, _ in results) == [
        "nothing to change; wrote nothing",
        f"wrote {path} (original kept as {path}.bak)",
    ]
    assert path.read_bytes() == fixed() and path.with_name("vm.xml.bak").read_bytes() == ORIGINAL
    assert leftovers(tmp_path) == []


# --- signals, and runs killed outright ------------------------------------

KILLS = (signal.SIGTERM, signal.SIGINT, signal.SIGKILL)


def assert_old_or_new(path: Path, original: bytes) -> None:
    """The file is the original or the whole fixed text; its backup, if
    any, the original."""
    now = path.read_bytes()
    assert now in (original, fixed(original))
    event("the file was still the original" if now == original else "the file was fixed")
    backup = path.with_name(path.name + ".bak")
    assert not backup.exists() or backup.read_bytes() == original


def assert_a_rerun_finishes_the_job(path: Path, original: bytes) -> None:
    done = subprocess.run([*HVTUNE, "fix", str(path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert path.read_bytes() == fixed(original)
    assert path.with_name(path.name + ".bak").read_bytes() == original
    assert leftovers(path.parent) == []


def _default_signals() -> None:
    """In the child: the termination signals at their default disposition,
    as a shell's foreground command has them (a background job inherits
    SIGINT ignored, and a run that ignores it rightly goes on)."""
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)


def signalled_run(argv: list[str], **streams: int) -> subprocess.Popen[str]:
    """Start a run the test will send a signal to."""
    return subprocess.Popen(argv, text=True, preexec_fn=_default_signals, **streams)  # type: ignore[call-overload]


@settings(max_examples=12, deadline=None)
@given(number=st.sampled_from(KILLS), at=st.integers(1, 3), after=st.floats(0.0, 0.05))
def test_a_signal_during_the_write(number: signal.Signals, at: int, after: float) -> None:
    """The run pauses at its AT-th fsync (1: the new text's temporary, 2: the
    backup's, 3: the folder, after both renames) and gets the signal."""
    with scratch() as folder:
        path = domain_file(folder)
        paused = signalled_run(
            [sys.executable, str(PAUSED_WRITE), str(at), "fix", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        assert paused.stderr is not None and paused.stderr.readline() == "paused\n"
        time.sleep(after)
        paused.send_signal(number)
        _, err = paused.communicate(timeout=60)
        assert paused.returncode == (130 if number == signal.SIGINT else -number), err
        assert path.read_bytes() == (fixed() if at == 3 else ORIGINAL)
        assert path.with_name("vm.xml.bak").exists() == (at == 3)
        if number == signal.SIGKILL:
            assert len(leftovers(folder)) == (at if at < 3 else 0)  # the temporaries it had made
            assert_a_rerun_finishes_the_job(path, ORIGINAL)
        else:
            assert leftovers(folder) == []
            assert err.strip().endswith("hvtune: aborted") if number == signal.SIGINT else err == ""


@functools.cache
def run_seconds() -> float:
    """How long a whole `hvtune fix` of the big file takes here."""
    with scratch() as folder:
        path = domain_file(folder, content=big())
        start = time.monotonic()
        subprocess.run([*HVTUNE, "fix", str(path)], capture_output=True, check=True, timeout=120)
        return time.monotonic() - start


@settings(max_examples=12, deadline=None)
@given(number=st.sampled_from(KILLS), moment=st.floats(0.0, 1.1))
def test_a_signal_at_any_moment_leaves_the_old_file_or_the_new_one(number: signal.Signals, moment: float) -> None:
    with scratch() as folder:
        path = domain_file(folder, content=big())
        fixing = signalled_run([*HVTUNE, "fix", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(moment * run_seconds())
        fixing.send_signal(number)
        fixing.wait(timeout=120)
        assert_old_or_new(path, big())
        if number == signal.SIGKILL:
            assert_a_rerun_finishes_the_job(path, big())
        else:
            assert leftovers(folder) == []


def _wait_until_locked(path: Path) -> None:
    """Until another process holds the flock on `path`."""
    deadline = time.monotonic() + 30
    with path.open("rb") as probe:
        while time.monotonic() < deadline:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return
            fcntl.flock(probe, fcntl.LOCK_UN)
            time.sleep(0.01)
    pytest.fail(f"nothing locked {path} within 30 s")


def _dead_pid() -> int:
    finished = subprocess.Popen(["true"])
    finished.wait()
    return finished.pid


def test_temporaries_of_killed_writers_are_removed_and_others_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = domain_file(tmp_path)
    dead = _dead_pid()
    sleeper = subprocess.Popen(["sleep", "60"])
    stale = [f".vm.xml.hvtune-{dead}-0123456789ab.tmp", f".vm.xml.bak.hvtune-{dead}-0123456789ac.tmp"]
    kept = [
        f".vm.xml.hvtune-{sleeper.pid}-0123456789ad.tmp",  # its writer still runs
        f".vm.xml.hvtune-{dead}-0123456789ae.tmp",  # its lock is held (a writer in another PID namespace)
        f".other.xml.hvtune-{dead}-0123456789af.tmp",  # another file's
    ]
    holder = None
    try:
        for name in stale + kept:
            (tmp_path / name).write_bytes(ORIGINAL[:100])
        holder = subprocess.Popen([require_program("flock"), str(tmp_path / kept[1]), "sleep", "60"])
        _wait_until_locked(tmp_path / kept[1])
        code, out, _ = run(capsys, "fix", str(path))
        assert code == 0 and out.endswith(f"wrote {path} (original kept as {path}.bak)\n")
        assert leftovers(tmp_path) == sorted(kept)
        for name in stale:  # a rerun with nothing to change removes them too
            (tmp_path / name).write_bytes(b"")
        code, out, _ = run(capsys, "fix", str(path))
        assert code == 0 and out.endswith("nothing to change; wrote nothing\n")
        assert leftovers(tmp_path) == sorted(kept)
    finally:
        for process in (sleeper, holder):
            if process is not None:
                process.kill()
                process.wait()


# --- where fix --connect saves the definitions it replaces ----------------


def test_saved_definitions_go_to_the_state_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    saved = backup_path("win10")
    assert saved.parent == tmp_path / "state" / "hvtune" / "backups"
    assert saved.name.startswith("win10-") and saved.name.endswith("Z.xml")
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    monkeypatch.setenv("XDG_STATE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert backup_path("win10").parent == tmp_path / "home" / ".local" / "state" / "hvtune" / "backups"
