"""Running the webhook until it is told to stop: the TLS context, the
server, the judge, and SIGTERM/SIGINT ending it cleanly (the requests
being judged are answered first)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from types import FrameType

from hvtune.host.profile import HostProfile
from hvtune.plan import Goals
from hvtune.webhook.judging import make_judge
from hvtune.webhook.server import WebhookServer, tls_context


def run_webhook(
    *,
    listen: str,
    port: int,
    cert: str,
    key: str,
    host: HostProfile | None,
    deny_on: str,
    goals: Goals | None,
    workers: int,
    timeout: float,
    say: Callable[[str], None],
) -> int:
    """Serve until SIGTERM or SIGINT; 0 then. InputError for unusable
    certificate files or an address that cannot be bound."""
    from hvtune.errors import InputError

    context = tls_context(cert, key)
    judge = make_judge(host=host, deny_on=deny_on, goals=goals, say=say)
    try:
        server = WebhookServer((listen, port), context, judge, workers=workers, deadline=timeout, say=say)
    except OSError as error:
        raise InputError("--listen/--port", f"{listen}:{port}", f"cannot listen there: {error.strerror}") from None

    def stop(signum: int, frame: FrameType | None) -> None:
        say(f"{signal.Signals(signum).name}: stopping")
        threading.Thread(target=server.shutdown, daemon=True).start()

    previous = {number: signal.signal(number, stop) for number in (signal.SIGTERM, signal.SIGINT)}
    say(f"serving {server.url} (deny on {deny_on}; {workers} workers)")
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0
