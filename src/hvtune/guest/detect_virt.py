"""What ``systemd-detect-virt --vm`` calls this machine (``kvm``, ``qemu``,
``microsoft``, ``none``, ...): what systemd's units see in
ConditionVirtualization=. ``--vm`` asks for the virtual machine even inside
a container."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass

PROGRAM = "systemd-detect-virt"
SECONDS = 10.0


@dataclass(frozen=True)
class DetectVirt:
    """Its answer, or why there is none."""

    answer: str | None = None
    missing: str | None = None


def read_detect_virt() -> DetectVirt:
    program = shutil.which(PROGRAM)
    if program is None:
        return DetectVirt(missing=f"no {PROGRAM} program")
    try:
        done = subprocess.run([program, "--vm"], capture_output=True, text=True, errors="replace", timeout=SECONDS)
    except subprocess.TimeoutExpired:
        return DetectVirt(missing=f"{PROGRAM} did not answer within {SECONDS:g} s")
    except OSError as error:
        return DetectVirt(missing=f"{PROGRAM}: {error.strerror or error}")
    answer = done.stdout.strip()
    # it answers "none" with exit status 1: an answer, not a failure
    if not answer or len(answer.split()) != 1:
        said = done.stderr.strip().splitlines()
        return DetectVirt(missing=f"{PROGRAM} gave no answer (exit {done.returncode}{': ' + said[-1] if said else ''})")
    return DetectVirt(answer)
