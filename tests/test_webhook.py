"""`hvtune webhook` as the API server meets it: a real HTTPS server (a
subprocess, its certificate signed by a CA made here with openssl), real
admission.k8s.io/v1 AdmissionReviews of KubeVirt VMs (the bundled
Windows 11 VirtualMachine, and that VM broken or made to migrate), many
at once, and payloads that are no review, malformed, huge or never sent."""

from __future__ import annotations

import http.client
import json
import signal
import socket
import ssl
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from copy import deepcopy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

import hvtune
from hvtune.webhook.admission import MAX_BODY

from support.programs import require_program
from support.webhook import certificates as make_certificates
from support.webhook import start_webhook

VM = YAML(typ="safe").load(
    (Path(hvtune.__file__).parent / "examples" / "kubevirt" / "win11-common-templates.yaml").read_text()
)
DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "kubernetes"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA, and the server's certificate for localhost signed by it."""
    return make_certificates(tmp_path_factory.mktemp("tls"), require_program("openssl"))


@dataclass
class Webhook:
    process: subprocess.Popen[str]
    port: int
    context: ssl.SSLContext

    def connection(self) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=30)

    def post(self, body: bytes, path: str = "/validate") -> tuple[int, dict[str, Any]]:
        connection = self.connection()
        try:
            connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            return answer.status, json.loads(answer.read())
        finally:
            connection.close()

    def review(self, obj: object, operation: str = "CREATE", kind: str = "VirtualMachine") -> dict[str, Any]:
        uid = str(uuid.uuid4())
        status, answer = self.post(json.dumps(_review(uid, obj, operation, kind)).encode())
        assert status == 200, answer
        assert answer["apiVersion"] == "admission.k8s.io/v1" and answer["kind"] == "AdmissionReview"
        assert answer["response"]["uid"] == uid
        return answer["response"]  # type: ignore[no-any-return]

    def healthy(self) -> bool:
        connection = self.connection()
        try:
            connection.request("GET", "/healthz")
            return connection.getresponse().status == 200
        finally:
            connection.close()


def _review(uid: str, obj: object, operation: str = "CREATE", kind: str = "VirtualMachine") -> dict[str, Any]:
    """An AdmissionReview as the API server sends it for `obj`."""
    return {
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "kubevirt.io", "version": "v1", "kind": kind},
            "resource": {"group": "kubevirt.io", "version": "v1", "resource": kind.lower() + "s"},
            "requestKind": {"group": "kubevirt.io", "version": "v1", "kind": kind},
            "name": "windows11-desktop",
            "namespace": "vms",
            "operation": operation,
            "userInfo": {"username": "admin", "groups": ["system:authenticated"]},
            "object": obj,
            "oldObject": None,
            "dryRun": False,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
        },
    }


def _start(certificates: Path, *more: str) -> Iterator[Webhook]:
    process, port, log = start_webhook(certificates, *more)
    context = ssl.create_default_context(cafile=str(certificates / "ca.crt"))
    try:
        yield Webhook(process, port, context)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()


@pytest.fixture(scope="module")
def webhook(certificates: Path) -> Iterator[Webhook]:
    yield from _start(certificates, "--timeout", "2", "--workers", "4")


def _vm(**changes: Any) -> dict[str, Any]:
    """The bundled VM with `changes` made to spec.template.spec."""
    vm = deepcopy(VM)
    vm["spec"]["template"]["spec"].update(changes)
    return vm  # type: ignore[no-any-return]


def _hyperv(vm: dict[str, Any]) -> dict[str, Any]:
    return vm["spec"]["template"]["spec"]["domain"]["features"]["hyperv"]  # type: ignore[no-any-return]


def test_the_bundled_vm_is_allowed_with_its_warnings(webhook: Webhook) -> None:
    answer = webhook.review(VM)
    assert answer["allowed"] is True and "status" not in answer
    assert all(warning.startswith("hvtune: AT RISK: ") for warning in answer["warnings"])


def test_a_vm_that_would_not_start_is_denied_with_the_reason(webhook: Webhook) -> None:
    vm = _vm()
    del _hyperv(vm)["synic"]  # synthetic timers without SynIC: QEMU refuses to start
    answer = webhook.review(vm)
    assert answer["allowed"] is False
    assert answer["status"]["code"] == 403
    assert answer["status"]["message"].startswith("hvtune: WILL NOT START: ")
    assert "synic" in answer["status"]["message"].lower()


def test_a_vmi_is_judged_as_a_vm(webhook: Webhook) -> None:
    vm = _vm()
    del _hyperv(vm)["synic"]
    vmi = {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance", "metadata": {"name": "w"}}
    vmi["spec"] = vm["spec"]["template"]["spec"]
    assert webhook.review(vmi, kind="VirtualMachineInstance")["allowed"] is False


def test_a_migration_hazard_is_denied_only_when_the_vm_must_migrate(webhook: Webhook) -> None:
    """The template's VM asks for re-enlightenment without a TSC frequency:
    it starts, but once Windows uses it, a live migration fails."""
    staying = webhook.review(VM)
    assert staying["allowed"] is True
    assert any("hv-reenlightenment" in warning for warning in staying["warnings"])
    migrating = webhook.review(_vm(evictionStrategy="LiveMigrate"))
    assert migrating["allowed"] is False
    assert migrating["status"]["message"].startswith("hvtune: WILL NOT MIGRATE: hv-reenlightenment")
    assert not any("hv-reenlightenment" in warning for warning in migrating.get("warnings", []))  # said once


def test_what_hvtune_does_not_judge_is_allowed(webhook: Webhook) -> None:
    vm = _vm()
    del _hyperv(vm)["synic"]
    assert webhook.review(vm, operation="DELETE")["allowed"] is True
    assert webhook.review({"apiVersion": "v1", "kind": "Pod"}, kind="Pod")["allowed"] is True
    unreadable = webhook.review({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "spec": 5})
    assert unreadable["allowed"] is True
    assert unreadable["warnings"][0].startswith("hvtune could not judge this VM: ")


def test_warnings_are_short_enough_for_the_api_server(webhook: Webhook) -> None:
    answer = webhook.review(VM)
    assert answer["warnings"] and all(len(warning) <= 256 for warning in answer["warnings"])
    assert any(warning.endswith("...") for warning in answer["warnings"])  # the long one is cut


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b"[]", 400),
        (b'{"apiVersion": "admission.k8s.io/v1beta1", "kind": "AdmissionReview", "request": {"uid": "a"}}', 400),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {"uid": 5}}', 400),
        (b'{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview"}', 400),
        (b"[" * 100_000 + b"]" * 100_000, 400),
    ],
    ids=["text", "array", "v1beta1", "uid-number", "no-request", "deep"],
)
def test_what_is_no_review_gets_400(webhook: Webhook, body: bytes, status: int) -> None:
    got, answer = webhook.post(body)
    assert got == status and answer["error"]


def test_a_huge_body_is_refused_unread_and_paths_are_checked(webhook: Webhook) -> None:
    connection = webhook.connection()
    connection.putrequest("POST", "/validate")
    connection.putheader("Content-Length", str(MAX_BODY + 1))
    connection.endheaders()
    answer = connection.getresponse()
    assert answer.status == 413
    connection.close()
    assert webhook.post(b"{}", path="/elsewhere")[0] == 404
    assert webhook.healthy()


def test_slow_and_plain_clients_hold_no_worker(webhook: Webhook) -> None:
    """Four workers: eight connections that never finish a request, and
    eight that never speak TLS, are cut at the deadline; the webhook then
    still answers."""
    idle = []
    for _ in range(8):
        raw = socket.create_connection(("127.0.0.1", webhook.port), timeout=10)
        idle.append(raw)
        tls = webhook.context.wrap_socket(
            socket.create_connection(("127.0.0.1", webhook.port), timeout=10), server_hostname="127.0.0.1"
        )
        tls.sendall(b"POST /validate HTTP/1.1\r\nContent-Length: 100\r\n\r\n{")
        idle.append(tls)
    started = time.monotonic()
    for connection in idle:
        assert connection.recv(1) == b""  # closed by the server
    assert time.monotonic() - started < 20
    assert webhook.review(VM)["allowed"] is True


def test_concurrent_reviews_each_get_their_own_answer(webhook: Webhook) -> None:
    broken = _vm()
    del _hyperv(broken)["synic"]
    objects = [VM, broken] * 24
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(webhook.review, objects))
    assert [answer["allowed"] for answer in answers] == [True, False] * 24


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=30,
)
hyperv_fields = st.sampled_from(
    [
        "relaxed",
        "vapic",
        "vpindex",
        "spinlocks",
        "synic",
        "synictimer",
        "reset",
        "vendorid",
        "frequencies",
        "reenlightenment",
        "tlbflush",
        "ipi",
        "evmcs",
        "runtime",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    features=st.dictionaries(hyperv_fields, st.just({}) | json_values, max_size=8),
    noise=json_values,
    where=st.sampled_from(["hyperv", "features", "spec", "object", "request"]),
)
def test_any_object_is_answered_with_its_uid(
    webhook: Webhook, features: dict[str, Any], noise: Any, where: str
) -> None:
    """Generated hyperv blocks, and junk put anywhere in the review: the
    answer is a review echoing the uid, or a 400 when the review itself is
    broken — never a dropped connection."""
    vm = _vm()
    domain = vm["spec"]["template"]["spec"]["domain"]
    domain["features"]["hyperv"] = features
    uid = str(uuid.uuid4())
    review = _review(uid, vm)
    if where == "features":
        domain["features"] = noise
    elif where == "spec":
        vm["spec"]["template"]["spec"] = noise
    elif where == "object":
        review["request"]["object"] = noise
    elif where == "request":
        review["request"] = noise
    status, answer = webhook.post(json.dumps(review).encode())
    if status == 200:
        assert answer["response"]["uid"] == uid
        assert isinstance(answer["response"]["allowed"], bool)
    else:
        assert status == 400 and where == "request"


def test_an_unusable_certificate_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.pem").write_text("not a certificate\n")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "hvtune",
            "webhook",
            "--tls-cert",
            str(tmp_path / "bad.pem"),
            "--tls-key",
            str(tmp_path / "bad.pem"),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"hvtune: {tmp_path / 'bad.pem'}: ")


def test_the_manifests_deploy_what_the_webhook_serves() -> None:
    """The registration calls the Service's /validate over HTTPS for VMs
    and VMIs; the Service reaches the container's port; the Deployment
    runs `hvtune webhook` with options it has and the secret it mounts."""
    from click.testing import CliRunner

    from hvtune.cli.app import cli

    yaml = YAML(typ="safe")
    documents = {path.name: list(yaml.load_all(path.read_text())) for path in DEPLOY.glob("*.yaml")}
    (registration,) = documents["validatingwebhookconfiguration.yaml"]
    (hook,) = registration["webhooks"]
    assert hook["failurePolicy"] == "Ignore" and hook["sideEffects"] == "None"
    assert hook["admissionReviewVersions"] == ["v1"]
    assert hook["clientConfig"]["service"] == {
        "namespace": "hvtune",
        "name": "hvtune-webhook",
        "path": "/validate",
        "port": 443,
    }
    (rule,) = hook["rules"]
    assert rule["apiGroups"] == ["kubevirt.io"]
    assert set(rule["resources"]) == {"virtualmachines", "virtualmachineinstances"}
    (service,) = documents["service.yaml"]
    (deployment,) = documents["deployment.yaml"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["name"]
    assert "--port=8443" in container["args"] and container["ports"][0]["containerPort"] == 8443
    mounted = container["volumeMounts"][0]["mountPath"]
    assert f"--tls-cert={mounted}/tls.crt" in container["args"]
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    issued = [doc for doc in documents["certificate.yaml"] if doc["kind"] == "Certificate"]
    assert volume["secret"]["secretName"] == issued[0]["spec"]["secretName"]
    assert "hvtune-webhook.hvtune.svc" in issued[0]["spec"]["dnsNames"]
    parsed = CliRunner().invoke(cli, [*container["args"], "--help"])
    assert parsed.exit_code == 0, parsed.output
