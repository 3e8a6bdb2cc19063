"""What runs inside the L1 guest, on the stack's own Python (as old as
3.9, so the standard library only and no newer syntax): it runs each
configuration of a batch on the stack's QEMU and KVM and prints one JSON
line per configuration on the console, between markers.

For a -cpu value it starts QEMU paused with QMP on its standard streams:
a refusal is QEMU's own stderr; a start is answered on QMP, where every
Hyper-V property is read back from the CPU object (qom-get). When the
batch carries a CPUID payload, a configuration that starts is run again
with it as the BIOS, and what the payload printed is passed on as it is.

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
from typing import Any

QEMU = "qemu-system-x86_64"
# hvtune.vm.console.markers("AGENT"), spelt out: the agent imports none of hvtune's modules
BEGIN, END = "HVTUNE-AGENT-BEGIN", "HVTUNE-AGENT-END"
QMP_TIMEOUT = 60.0
PAYLOAD_TIMEOUT = 60.0


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

    def command(self, name: str, **arguments: object) -> dict[str, Any] | None:
        stdin = self.process.stdin
        assert stdin is not None
        message = {"execute": name, "arguments": arguments} if arguments else {"execute": name}
        try:
            stdin.write(json.dumps(message).encode() + b"\n")
            stdin.flush()
        except BrokenPipeError:
            return None
        return self.answer()


def _stop(process: subprocess.Popen[bytes]) -> str:
    """End QEMU and return what it said on stderr."""
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    stderr = process.stderr
    return stderr.read().decode(errors="replace") if stderr is not None else ""


def _cpu_path(qmp: Qmp) -> str:
    answer = qmp.command("query-cpus-fast") or {}
    cpus = answer.get("return") or [{}]
    return str(cpus[0].get("qom-path", "/machine/unattached/device[0]"))


def start_paused(case: dict[str, Any], properties: list[str]) -> dict[str, Any]:
    """Start QEMU paused with `case`'s -cpu and machine; whether it
    started, its stderr, and the properties read back when it did."""
    argv = [QEMU, "-accel", "kvm", "-machine", case["machine"], "-cpu", case["cpu"]]
    argv += ["-display", "none", "-nodefaults", "-S", "-qmp", "stdio"]
    start = time.monotonic()
    process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    qmp = Qmp(process)
    greeting = qmp.answer()
    values: dict[str, Any] = {}
    started = greeting is not None and "QMP" in greeting and qmp.command("qmp_capabilities") is not None
    if started:
        path = _cpu_path(qmp)
        for name in properties:
            answer = qmp.command("qom-get", path=path, property=name) or {}
            if "return" in answer:
                values[name] = answer["return"]
        qmp.command("quit")
    stderr = _stop(process)
    started = started and process.returncode == 0
    return {"started": started, "stderr": stderr, "properties": values, "seconds": time.monotonic() - start}


def run_payload(case: dict[str, Any], payload: list[str]) -> str:
    """Run the CPUID payload as the BIOS of a guest with `case`'s CPU;
    what it printed on its serial port."""
    argv = [QEMU, "-accel", "kvm", "-machine", case["machine"], "-cpu", case["cpu"], *payload]
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=PAYLOAD_TIMEOUT)
    except subprocess.TimeoutExpired as expired:
        return (expired.stdout or b"").decode(errors="replace")
    return done.stdout.decode(errors="replace")


def run_case(case: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {"id": case["id"]}
    result.update(start_paused(case, request["properties"]))
    if result["started"] and request.get("payload") and case.get("cpuid", True):
        result["payload"] = run_payload(case, request["payload"])
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
    """Start the stack's libvirtd (and virtlogd) without systemd; None
    when its socket answers, else why not."""
    for folder in ("/run/libvirt", "/var/log/libvirt", "/var/lib/libvirt/qemu", "/var/cache/libvirt"):
        os.makedirs(folder, exist_ok=True)
    for daemon in ("virtlogd", "libvirtd"):
        try:
            subprocess.run([daemon, "-d"], capture_output=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{daemon}: {error}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if os.path.exists("/run/libvirt/libvirt-sock"):
            return None
        time.sleep(0.1)
    return "libvirtd's socket did not appear within 60 s"


def probe() -> dict[str, Any]:
    """hvtune's own host probe, run on the stack's Python (its host
    profile as JSON text, or why there is none)."""
    problem = start_libvirtd()
    argv = [sys.executable, "-m", "hvtune.sandbox.probe"]
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


def main(arguments: list[str]) -> int:
    with open(arguments[0]) as handle:
        request = json.load(handle)
    print(BEGIN, flush=True)
    facts = kvm_facts()
    print(json.dumps(facts), flush=True)
    if facts["kvm"] and request.get("probe"):
        print(json.dumps(probe()), flush=True)
    if facts["kvm"]:
        for case in request["cases"]:
            print(json.dumps(KINDS[case.get("kind", "qemu")](case, request)), flush=True)
    print(END, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
