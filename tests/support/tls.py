"""A certificate authority and a server certificate for 127.0.0.1 and
localhost, made with the real openssl: what the webhook's tests and its
load benchmark serve with."""

from __future__ import annotations

import shutil
import subprocess
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
