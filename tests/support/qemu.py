"""Ask the real qemu-system-x86_64 what it makes of a -cpu value.

QEMU starts with `-machine pc -S` and QMP on stdio, under TCG unless asked
for KVM; if it accepts the -cpu value, every property asked for is read back
with qom-get from the CPU object. If it refuses, its error message is
returned instead.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

PREFIX = "qemu-system-x86_64: "
VPINDEX_REFUSED = "kernel doesn't allow setting HyperV VP_INDEX"


@dataclass
class Outcome:
    """What QEMU did with one -cpu value."""

    error: str | None
    values: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # every error line, first first

    @property
    def accepted(self) -> bool:
        return self.error is None


def _messages(stderr: str) -> list[str]:
    return [line.removeprefix(PREFIX) for line in stderr.splitlines() if line.strip()]


class QemuProbe:
    def __init__(self, binary: str):
        self.binary = binary

    def run(self, cpu: str, properties: list[str], *, accel: str = "tcg") -> Outcome:
        process = subprocess.Popen(
            [
                self.binary,
                "-machine",
                "pc",
                "-accel",
                accel,
                "-nodefaults",
                "-display",
                "none",
                "-S",
                "-cpu",
                cpu,
                "-qmp",
                "stdio",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            values = self._session(process, properties)
            process.wait(timeout=30)
        except _Exited:
            process.wait(timeout=30)
            assert process.stderr
            messages = _messages(process.stderr.read())
            errors = [m.removeprefix("error: ") for m in messages if not m.startswith("warning:")]
            return Outcome(
                error=errors[-1] if errors else f"exit {process.returncode}", warnings=messages, errors=errors
            )
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.stderr
        return Outcome(error=None, values=values, warnings=_messages(process.stderr.read()))

    @staticmethod
    def _session(process: subprocess.Popen[str], properties: list[str]) -> dict[str, Any]:
        assert process.stdin and process.stdout

        def receive() -> dict[str, Any]:
            line = process.stdout.readline()  # type: ignore[union-attr]
            if not line:
                raise _Exited
            return json.loads(line)

        def command(name: str, **arguments: Any) -> Any:
            request = {"execute": name, **({"arguments": arguments} if arguments else {})}
            try:
                process.stdin.write(json.dumps(request) + "\n")  # type: ignore[union-attr]
                process.stdin.flush()  # type: ignore[union-attr]
            except BrokenPipeError:
                raise _Exited from None
            while True:
                reply = receive()
                if "return" in reply:
                    return reply["return"]
                if "error" in reply:
                    raise RuntimeError(reply["error"]["desc"])

        receive()  # the greeting
        command("qmp_capabilities")
        path = command("query-cpus-fast")[0]["qom-path"]
        values = {name: command("qom-get", path=path, property=name) for name in properties}
        command("quit")
        return values


class _Exited(Exception):
    """QEMU exited during the session: it refused the configuration."""
