"""What runs inside the L1 guest, on the stack's own Python (as old as
3.9, so the standard library only and no newer syntax): it runs each
configuration of a batch on the stack's QEMU and KVM and prints one JSON
line per configuration on the console, between markers.

For a -cpu value it starts QEMU paused with QMP on its standard streams:
a refusal is QEMU's own stderr; a start is answered on QMP, where every
Hyper-V property is read back from the CPU object (qom-get). A libvirt
domain goes through the stack's libvirtd: defined, started paused (a
refusal is virsh's stderr), the -cpu value libvirt built read from QEMU's
command line and the properties from QEMU's monitor through virsh. When
the batch carries a CPUID payload, it is the BIOS of a -cpu value's
QEMU, which is let run once its properties are read (the payload ends
it; a second QEMU start would cost as much again under TCG); a domain
that starts is run again with the -cpu value libvirt built and the
payload as the BIOS. What the payload printed is passed on as it is. A batch asking for
``domcapabilities`` gets what the libvirtd offers per domain type first
(libvirt expands host-model from it).

A case of kind ``boot`` is a guest (L2) to boot as its QEMU command line
says, under the stack's KVM: its console, stderr and exit status are
passed on as they are (an exit status of null: killed at its timeout).

    python3 -m hvtune.sandbox.agent REQUEST.json
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

QEMU = "qemu-system-x86_64"
# hvtune.vm.console.markers("AGENT"), spelt out: the agent imports none of hvtune's modules
BEGIN, END = "HVTUNE-AGENT-BEGIN", "HVTUNE-AGENT-END"
QMP_TIMEOUT = 60.0
PAYLOAD_TIMEOUT = 60.0
PAYLOAD_SERIAL = "/tmp/hvtune-payload-serial"  # the payload's COM1, when QMP has QEMU's stdio
LIBVIRT_SOCKET = "/run/libvirt/libvirt-sock"


class Qmp:
    """QEMU's QMP on a pipe: one command at a time, its answer read back
    (events passed over)."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.pending = b""

    def _line(self, deadline: float) -> dict[str, Any] | None:
        stdout = self.process.stdout
        assert stdout is not None
        while b"\n" not in self.pending:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                return None
            chunk = os.read(stdout.fileno(), 65536)
            if not chunk:
                return None
            self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        try:
            answer = json.loads(line)
        except ValueError:
            return {}
        return answer if isinstance(answer, dict) else {}

    def answer(self) -> dict[str, Any] | None:
        """The next answer that is not an event (None: QEMU said no more)."""
        deadline = time.monotonic() + QMP_TIMEOUT
        while True:
            answer = self._line(deadline)
            if answer is None or "event" not in answer:
                return answer

    def command(self, name: str) -> dict[str, Any] | None:
        return self.send({"execute": name})

    def send(self, message: dict[str, Any]) -> dict[str, Any] | None:
        stdin = self.process.stdin
        assert stdin is not None
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            return None
        return self.answer()


def _stop(process: subprocess.Popen[bytes], timeout: float = 10) -> str:
    """End QEMU and return what it said on stderr."""
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stderr = process.stderr
    return stderr.read().decode(errors="replace") if stderr is not None else ""


def _cpu_path(answer: dict[str, Any] | None) -> str:
    """The first CPU's QOM path, from QEMU's answer to query-cpus-fast."""
    cpus = (answer or {}).get("return") or [{}]
    return str(cpus[0].get("qom-path", "/machine/unattached/device[0]"))


def _qom_get(path: str, name: str) -> dict[str, Any]:
    return {"execute": "qom-get", "arguments": {"path": path, "property": name}}


def _values(names: list[str], answers: list[dict[str, Any] | None]) -> dict[str, Any]:
    """The properties QEMU answered (one it does not have is left out)."""
    answered = enumerate(answers[: len(names)])  # zip(strict=) is newer than the stacks' Python 3.9
    return {names[index]: answer["return"] for index, answer in answered if answer and "return" in answer}


def _serial_to_file(payload: list[str], path: str) -> list[str]:
    """The payload's arguments with its serial port written to `path`."""
    return [f"file:{path}" if index and payload[index - 1] == "-serial" else word for index, word in enumerate(payload)]


def _payload_printed() -> str:
    """What the payload printed on its serial port (PAYLOAD_SERIAL)."""
    try:
        with open(PAYLOAD_SERIAL, "rb") as handle:
            return handle.read().decode(errors="replace")
    except OSError:
        return ""


def start_paused(case: dict[str, Any], properties: list[str], payload: list[str] | None = None) -> dict[str, Any]:
    """Start QEMU paused with `case`'s -cpu, machine and accelerator (KVM
    unless it names one); whether it started, its stderr, and the
    properties read back when it did (and, when the case asks to `list`,
    the names of all the CPU's properties); with the CPUID `payload` as
    its BIOS, QEMU then runs it, and what it printed is passed on."""
    argv = [QEMU, "-accel", case.get("accel", "kvm"), "-machine", case["machine"], "-cpu", case["cpu"]]
    argv += ["-display", "none", "-nodefaults", "-S", "-qmp", "stdio"]
    if payload:
        if os.path.exists(PAYLOAD_SERIAL):
            os.unlink(PAYLOAD_SERIAL)
        argv += _serial_to_file(payload, PAYLOAD_SERIAL)
    start = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    qmp = Qmp(process)
    greeting = qmp.answer()
    values: dict[str, Any] = {}
    listed: list[str] = []
    started = greeting is not None and "QMP" in greeting and qmp.command("qmp_capabilities") is not None
    if started:
        path = _cpu_path(qmp.command("query-cpus-fast"))
        values = _values(properties, [qmp.send(_qom_get(path, name)) for name in properties])
        if case.get("list"):
            answer = qmp.send({"execute": "qom-list", "arguments": {"path": path}}) or {}
            listed = sorted(str(item.get("name")) for item in answer.get("return") or [])
        qmp.command("cont" if payload else "quit")
    stderr = _stop(process, PAYLOAD_TIMEOUT if started and payload else 10)
    printed = _payload_printed() if started and payload else None
    # QEMU that quit ends with 0; one the payload ended, with the payload's status
    started = started and (payload is not None or process.returncode == 0)
    result = {"started": started, "stderr": stderr, "properties": values, "seconds": time.monotonic() - start}
    if printed is not None:
        result["payload"] = printed
    if case.get("list"):
        result["listed"] = listed
    return result


def run_payload(case: dict[str, Any], payload: list[str]) -> str:
    """Run the CPUID payload as the BIOS of a guest with `case`'s CPU;
    what it printed on its serial port."""
    argv = [QEMU, "-accel", "kvm", "-machine", case["machine"], "-cpu", case["cpu"], *payload]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=PAYLOAD_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        return (expired.stdout or b"").decode(errors="replace")
    return done.stdout.decode(errors="replace")


def virsh(*arguments: str, batch: str | None = None) -> subprocess.CompletedProcess[str]:
    """virsh on the stack's libvirtd; `batch` is a list of virsh commands,
    one per line, run by one virsh."""
    return subprocess.run(
        ["virsh", "-q", "-c", "qemu:///system", *arguments], input=batch, capture_output=True, text=True, timeout=120
    )


def _monitor_batch(domain: str, messages: list[dict[str, Any]], then: str = "") -> list[dict[str, Any] | None]:
    """QMP messages sent to a domain's QEMU through virsh, all in one
    virsh, and the virsh command `then` after them; the answers in order."""
    lines = [f"qemu-monitor-command {domain} '{json.dumps(message)}'" for message in messages]
    done = virsh(batch="\n".join([*lines, then]) + "\n")
    answers: list[dict[str, Any] | None] = []
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            try:
                answers.append(json.loads(line))
            except ValueError:
                answers.append(None)
    return answers + [None] * (len(messages) - len(answers))


def _command_line(domain: str) -> list[str]:
    """The command line libvirt started the domain's QEMU with."""
    try:
        with open(f"/run/libvirt/qemu/{domain}.pid") as handle:
            pid = handle.read().strip()
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return [word.decode(errors="replace") for word in handle.read().split(b"\0") if word]
    except OSError:
        return []


def _option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv[:-1] else None


def start_domain(case: dict[str, Any], properties: list[str]) -> dict[str, Any]:
    """Start the case's domain paused (transient: `virsh create`, which
    validates it as define does); whether it started, virsh's stderr, the
    -cpu value and machine libvirt gave QEMU, and the properties read back
    from QEMU's monitor. Two virsh runs in all (each costs a second or so
    under TCG): the create, then the monitor's answers and the destroy."""
    start = time.monotonic()
    written = "/tmp/hvtune-domain.xml"
    with open(written, "w") as handle:
        handle.write(case["domain"])
    name = case["name"]
    done = virsh("create", written, "--paused")
    started = done.returncode == 0
    result: dict[str, Any] = {"properties": {}, "cpu": None, "machine": None}
    if started:
        argv = _command_line(name)
        result["cpu"] = _option(argv, "-cpu")
        machine = _option(argv, "-machine")
        result["machine"] = machine.split(",")[0] if machine else None
        guess = _cpu_path(None)  # the first CPU's usual path, confirmed by query-cpus-fast
        asked = [{"execute": "query-cpus-fast"}, *(_qom_get(guess, each) for each in properties)]
        cpus, *answers = _monitor_batch(name, asked, then=f"destroy {name}")
        path = _cpu_path(cpus)
        if path != guess:
            virsh("create", written, "--paused")
            answers = _monitor_batch(name, [_qom_get(path, each) for each in properties], then=f"destroy {name}")
        result["properties"] = _values(properties, answers)
    result.update(started=started, stderr=done.stderr, seconds=time.monotonic() - start)
    return result


def to_native(case: dict[str, Any]) -> dict[str, Any]:
    """libvirt's translation of the case's domain to a QEMU command line
    (nothing is defined or started), or its refusal."""
    written = "/tmp/hvtune-native.xml"
    with open(written, "w") as handle:
        handle.write(case["native"])
    done = virsh("domxml-to-native", "qemu-argv", written)
    return {"translated": done.returncode == 0, "argv": done.stdout, "stderr": done.stderr}


def domain_capabilities() -> dict[str, Any]:
    """What the stack's libvirt offers for each domain type (virsh
    domcapabilities), which it expands <hyperv mode='host-model'> from."""
    offered = {}
    for virttype in ("kvm", "qemu"):
        done = virsh("domcapabilities", "--virttype", virttype)
        offered[virttype] = done.stdout if done.returncode == 0 else None
    return {"id": "domcapabilities", **offered}


def run_case(case: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"id": case["id"]}
    if "native" in case:
        result.update(to_native(case))
        return result
    payload = request.get("payload") if case.get("cpuid", True) else None
    if "domain" not in case:
        result.update(start_paused(case, request["properties"], payload))
        return result
    result.update(start_domain(case, request["properties"]))
    if result["started"] and payload:
        result["payload"] = run_payload({"cpu": result["cpu"], "machine": result["machine"]}, payload)
    return result


def run_boot(case: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Boot a guest with `case`'s QEMU command line and wait for it to power off."""
    start = time.monotonic()
    try:
        done = subprocess.run(case["argv"], stdin=subprocess.DEVNULL, capture_output=True, timeout=case["timeout"])
    except subprocess.TimeoutExpired as expired:
        stdout, stderr, returncode = expired.stdout, expired.stderr, None
    else:
        stdout, stderr, returncode = done.stdout, done.stderr, done.returncode
    return {
        "id": case["id"],
        "stdout": (stdout or b"").decode(errors="replace"),
        "stderr": (stderr or b"").decode(errors="replace"),
        "returncode": returncode,
        "seconds": time.monotonic() - start,
    }


KINDS = {"qemu": run_case, "boot": run_boot}


def start_libvirtd() -> str | None:
    """Start the stack's libvirtd (and virtlogd) without systemd, unless
    it runs; None when its socket answers, else why not."""
    if os.path.exists(LIBVIRT_SOCKET):
        return None
    for folder in ("/run/libvirt", "/var/log/libvirt", "/var/lib/libvirt/qemu", "/var/cache/libvirt"):
        os.makedirs(folder, exist_ok=True)
    for daemon in ("virtlogd", "libvirtd"):
        try:
            # not captured: the daemon keeps its inherited streams, and a capture would wait for them to close
            subprocess.run(
                [daemon, "-d"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=60,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{daemon}: {error}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists(LIBVIRT_SOCKET):
            return None
        time.sleep(0.1)
    return "libvirtd's socket did not appear within 60 s"


def probe(command: list[str]) -> dict[str, Any]:
    """hvtune's own host probe, run by `command` (on hvtune's Python: the
    stack's may be too old for hvtune): its host profile as JSON text, or
    why there is none."""
    problem = start_libvirtd()
    argv = list(command)
    if problem is not None:
        argv.append("--no-libvirt")
    done = subprocess.run(argv, capture_output=True, timeout=600)
    stderr = done.stderr.decode(errors="replace").strip()
    return {
        "id": "probe",
        "profile": done.stdout.decode(errors="replace") if done.returncode == 0 else None,
        "error": stderr.splitlines()[-1] if done.returncode != 0 and stderr else problem,
    }


def kvm_facts() -> dict[str, Any]:
    """Whether /dev/kvm is there, and the kernel's release."""
    return {"id": "kvm", "kvm": os.path.exists("/dev/kvm"), "kernel": os.uname().release}


@dataclass(frozen=True)
class AgentOutcome:
    """What the agent printed (one record per line: the KVM facts first,
    then one per configuration), and the batch's wall time."""

    records: tuple[dict[str, Any], ...]
    seconds: float

    @property
    def kvm(self) -> dict[str, Any]:
        return self.records[0] if self.records else {}

    def results(self) -> dict[str, dict[str, Any]]:
        """Each configuration's result by its id."""
        return {str(record["id"]): record for record in self.records[1:]}


def read_records(lines: Sequence[str] | None) -> tuple[dict[str, Any], ...] | None:
    """What the agent printed, read back: its JSON records among the lines
    between its markers (a line cut by a kernel message is passed over: its
    configuration is then reported missing); None when the markers were
    not both printed."""
    if lines is None:
        return None
    records = []
    for line in lines:
        if line.startswith("{"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return tuple(records)


def printed_outcome(done: subprocess.CompletedProcess[str], seconds: float) -> AgentOutcome | None:
    """The outcome of an agent run here, from its standard output (None
    when it printed no complete batch)."""
    lines = done.stdout.splitlines()
    between = lines[lines.index(BEGIN) + 1 : lines.index(END)] if BEGIN in lines and END in lines else None
    records = read_records(between)
    return None if records is None else AgentOutcome(records, seconds)


def last_words(done: subprocess.CompletedProcess[str]) -> str:
    """Why a run printed no results: its last line on stderr, else its exit status."""
    said = done.stderr.strip().splitlines()
    return said[-1] if said else f"exit {done.returncode}"


def emit(line: str) -> None:
    """Print `line` in one write: in the L1 guest, init's heartbeat writes
    to the console too, and a line written in parts (print writes its end
    of line apart from a long line) could take the heartbeat in between."""
    data = (line + "\n").encode()
    while data:
        data = data[os.write(sys.stdout.fileno(), data) :]


def main(arguments: list[str]) -> int:
    with open(arguments[0]) as handle:
        request = json.load(handle)
    emit(BEGIN)
    facts = kvm_facts()
    emit(json.dumps(facts))
    if facts["kvm"] and request.get("probe"):
        emit(json.dumps(probe(request["probe"])))
    if facts["kvm"]:
        if any("domain" in case or "native" in case for case in request["cases"]):
            problem = start_libvirtd()
            if problem is not None:
                emit(json.dumps({"id": "libvirtd", "error": problem}))
            elif request.get("domcapabilities"):
                emit(json.dumps(domain_capabilities()))
        for case in request["cases"]:
            emit(json.dumps(KINDS[case.get("kind", "qemu")](case, request)))
    emit(END)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
