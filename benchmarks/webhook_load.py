"""Load on `hvtune webhook`: requests per second and latency percentiles
of AdmissionReviews of the bundled Windows 11 VirtualMachine (and that VM
broken, half of them), sent over kept-alive HTTPS connections by
concurrent clients, against the same clients asking GET /healthz of the
same server (TLS and HTTP alone, no judging) — the baseline, in the same
command. The server is the real command in its own process, its
certificate made here with openssl.

    python benchmarks/webhook_load.py [--clients C] [--requests N] [--workers W]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import ssl
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from pathlib import Path

from ruamel.yaml import YAML

import hvtune

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from support.webhook import certificates, start_webhook  # the tests' own: one way to run it

VM = YAML(typ="safe").load(
    (Path(hvtune.__file__).parent / "examples" / "kubevirt" / "win11-common-templates.yaml").read_text()
)


def review(obj: object) -> bytes:
    request = {
        "uid": str(uuid.uuid4()),
        "kind": {"group": "kubevirt.io", "version": "v1", "kind": "VirtualMachine"},
        "name": "w",
        "namespace": "vms",
        "operation": "CREATE",
        "object": obj,
    }
    return json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request}).encode()


def client(port: int, context: ssl.SSLContext, bodies: list[bytes | None]) -> list[float]:
    """Send each body (None: GET /healthz) on one kept-alive connection;
    the latency of each."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=60)
    latencies = []
    for body in bodies:
        start = time.perf_counter()
        if body is None:
            connection.request("GET", "/healthz")
        else:
            connection.request("POST", "/validate", body=body, headers={"Content-Type": "application/json"})
        answer = connection.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
        latencies.append(time.perf_counter() - start)
    connection.close()
    return latencies


def load(port: int, context: ssl.SSLContext, clients: int, bodies: list[bytes | None]) -> tuple[float, list[float]]:
    """Requests per second and every latency, `clients` at once."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        done = list(pool.map(lambda _: client(port, context, bodies), range(clients)))
    seconds = time.perf_counter() - start
    latencies = [latency for each in done for latency in each]
    return len(latencies) / seconds, latencies


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100)[int(share * 100) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=100, help="per client")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    broken = deepcopy(VM)
    del broken["spec"]["template"]["spec"]["domain"]["features"]["hyperv"]["synic"]
    with tempfile.TemporaryDirectory() as folder:
        certificates(Path(folder))
        server, port, _ = start_webhook(Path(folder), "--workers", str(args.workers))
        context = ssl.create_default_context(cafile=f"{folder}/ca.crt")
        try:
            reviews: list[bytes | None] = [review(VM if i % 2 else broken) for i in range(args.requests)]
            load(port, context, 2, reviews[:10])  # warm the catalog and caches
            health_rate, health = load(port, context, args.clients, [None] * args.requests)
            review_rate, judged = load(port, context, args.clients, reviews)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    print(f"{args.clients} clients x {args.requests} requests, {args.workers} workers")
    for name, rate, latencies in (("GET /healthz", health_rate, health), ("POST /validate", review_rate, judged)):
        p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
        print(f"  {name:15} {rate:8.1f} requests/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    print(
        f"  reviews: {review_rate / health_rate:.2f}x the baseline's rate, "
        f"p99 {percentile(judged, 0.99) / percentile(health, 0.99):.1f}x"
    )


if __name__ == "__main__":
    main()
