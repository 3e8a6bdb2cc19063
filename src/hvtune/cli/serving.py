"""Serving: hvtune as a KubeVirt validating admission webhook."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from hvtune.cli.options import HOST, goal_options

if TYPE_CHECKING:
    from hvtune.plan import Goals


@click.command()
@click.option("--tls-cert", required=True, metavar="FILE", help="The server's certificate (PEM, with its chain).")
@click.option("--tls-key", required=True, metavar="FILE", help="Its private key (PEM).")
@click.option("--port", type=click.IntRange(0, 65535), default=8443, show_default=True, help="0: any free port.")
@click.option("--listen", default="0.0.0.0", show_default=True, metavar="ADDRESS", help="The address to listen on.")
@click.option(
    "--deny-on",
    type=click.Choice(["error", "slow", "warning"]),
    default="error",
    show_default=True,
    help="Deny a VM that will not start or not migrate (error); also a slow one (slow); at any warning (warning).",
)
@click.option("--workers", type=click.IntRange(1, 256), default=8, show_default=True, help="Threads judging reviews.")
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 300),
    default=10.0,
    show_default=True,
    help="Seconds for a TLS handshake, and for each request with the wait for it (an idle connection is closed).",
)
@HOST
@goal_options
def webhook(
    tls_cert: str,
    tls_key: str,
    port: int,
    listen: str,
    deny_on: str,
    workers: int,
    timeout: float,
    host_spec: str | None,
    goals: Goals,
) -> int:
    """Serve a KubeVirt validating admission webhook over HTTPS: POST
    /validate takes admission.k8s.io/v1 AdmissionReviews of VirtualMachines
    and VirtualMachineInstances and denies those that would not start (or
    not migrate, when their evictionStrategy is LiveMigrate), answering the
    others with warnings for what is slow or risky; GET /healthz answers
    probes. Judged as check judges a manifest, on --host (default none:
    the configuration and KubeVirt's and QEMU's rules only). Runs until
    SIGTERM or SIGINT; deploy/kubernetes/ has the manifests."""
    from hvtune.cli.inputs import host_profile
    from hvtune.webhook.serve import run_webhook

    def say(line: str) -> None:
        click.echo(f"hvtune webhook: {line}", err=True)

    return run_webhook(
        listen=listen,
        port=port,
        cert=tls_cert,
        key=tls_key,
        host=host_profile(host_spec),
        deny_on=deny_on,
        goals=goals,
        workers=workers,
        timeout=timeout,
        say=say,
    )
