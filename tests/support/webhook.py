"""The webhook as its tests and its load benchmark run it: a certificate
authority and a server certificate for 127.0.0.1 and localhost made with
the real openssl, and `hvtune webhook` started on a free port."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path


def certificates(folder: Path, openssl: str | None = None) -> Path:
    """`folder` holding ca.crt, and tls.crt / tls.key signed by it."""
    program = openssl or shutil.which("openssl") or "openssl"

    def run(*argv: str) -> None:
        subprocess.run([program, *argv], cwd=folder, check=True, capture_output=True, timeout=60)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=hvtune test CA")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=localhost")
    (folder / "san.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tls.crt",
        "-days", "2", "-extfile", "san.ext")  # fmt: skip
    return folder


def start_webhook(folder: Path, *more: str) -> tuple[subprocess.Popen[str], int, Path]:
    """`hvtune webhook` serving with `folder`'s certificates on a free port
    of 127.0.0.1 (options `more` besides): the process, its port and its
    log (a file: a pipe nobody reads would fill and stop it)."""
    log = folder / f"webhook-{uuid.uuid4()}.log"
    argv = [sys.executable, "-m", "hvtune", "webhook", "--tls-cert", str(folder / "tls.crt"), "--tls-key",
            str(folder / "tls.key"), "--listen", "127.0.0.1", "--port", "0", *more]  # fmt: skip
    with log.open("w") as stderr:
        process = subprocess.Popen(argv, stderr=stderr, text=True)
    return process, _serving_port(log, process), log


def _serving_port(log: Path, process: subprocess.Popen[str]) -> int:
    """The port the webhook says it serves on, once it says so."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        first = log.read_text().partition("\n")
        if first[1]:
            assert first[0].startswith("hvtune webhook: serving https://127.0.0.1:"), first[0]
            return int(first[0].split("https://127.0.0.1:")[1].split("/")[0])
        time.sleep(0.05)
    raise AssertionError(f"the webhook did not start: {log.read_text()}")
