"""The emulator's network (localcloud/network.py, the bootstrap's hook): a packaged function
resolves a merchant's name to a public address and reaches a local listener there, while every
refusal the stack makes on AWS (loopback, private answers, unknown names) stays a refusal."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import payment_core
import pytest
from payment_core.contract import WEBHOOK_SIGNATURE_HEADER
from payment_core.events.destinations import is_public
from payment_core.events.signature import signature_header

from localcloud import LocalCloud
from localcloud.network import PUBLIC_BLOCK, ROUTE, register_name
from localcloud.network_tls import LocalCA
from testkit.merchant_receiver import VERIFIED, MerchantReceiver
from tests.localcloud.conftest import create_python_function, make_zip, wait_for

PROBE = Path(__file__).parent / "fixtures" / "webhook_probe" / "handler.py"
PACKAGE = Path(payment_core.__file__).parent
# What the probe imports from the platform's package: the destination checks, their error and the
# contract facts they read.
SHIPPED = ("__init__.py", "contract.py", "errors.py", "events/__init__.py", "events/destinations.py")
Invoke = Callable[[dict[str, Any]], dict[str, Any]]


def probe_zip() -> bytes:
    files: dict[str, str | bytes] = {"handler.py": PROBE.read_text()}
    files |= {f"payment_core/{name}": (PACKAGE / name).read_text() for name in SHIPPED}
    return make_zip(files)


@pytest.fixture(scope="module")
def invoke(aws: Callable[[str], Any], role_arn: str) -> Invoke:
    """The probe, packaged once for the module; invoking it answers its result document."""
    name = f"webhook-probe-{uuid.uuid4().hex[:8]}"
    arn = create_python_function(aws("lambda"), name, role_arn, probe_zip(), timeout=30)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        response = aws("lambda").invoke(FunctionName=arn, Payload=json.dumps(event).encode())
        document: dict[str, Any] = json.loads(response["Payload"].read())
        assert "FunctionError" not in response, document
        return document

    return call


@pytest.fixture
def listener() -> Iterator[int]:
    """A plain TCP server on 127.0.0.1: answers ``pong`` to each connection's first line."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                connection.recv(1024)
                connection.sendall(b"pong\n")

    threading.Thread(target=serve, daemon=True).start()
    yield int(server.getsockname()[1])
    server.close()


def test_a_registered_name_answers_a_public_address_routed_to_the_local_listener(
    cloud: LocalCloud, invoke: Invoke, listener: int, unique: str
) -> None:
    name = f"hooks-{unique}.merchant-a.example"
    [address] = register_name(cloud.endpoint, name, port=listener)
    assert ipaddress.ip_address(address) in PUBLIC_BLOCK and is_public(ipaddress.ip_address(address))
    result = invoke({"url": f"https://{name}/hooks", "tcp": True})
    # The function saw only the public address, as on AWS; its bytes reached the local socket.
    assert result == {"addresses": [address], "peer": [address, 443], "reply": "pong\n"}


def test_a_routed_address_answers_on_443_only(cloud: LocalCloud, invoke: Invoke, listener: int, unique: str) -> None:
    name = f"hooks-{unique}.merchant-a.example"
    [address] = register_name(cloud.endpoint, name, port=listener)
    result = invoke({"url": f"https://{name}:8443/hooks", "tcp": True})
    assert result == {"addresses": [address], "connection_error": "ConnectionRefusedError"}


@pytest.mark.parametrize(
    "answers",
    [["10.0.0.7"], ["127.0.0.1"], ["169.254.169.254"], ["100.64.0.1"], ["192.175.48.250", "10.1.2.3"]],
    ids=["private", "loopback", "metadata", "shared", "one-private-among-public"],
)
def test_a_name_answering_a_non_public_address_is_refused_after_resolution(
    cloud: LocalCloud, invoke: Invoke, unique: str, answers: list[str]
) -> None:
    name = f"rebind-{unique}.merchant-a.example"
    assert register_name(cloud.endpoint, name, addresses=answers) == answers
    result = invoke({"url": f"https://{name}/hooks", "tcp": True})
    assert result == {"refused": "url's host resolves to a private, loopback, link-local or metadata address"}


def test_a_name_can_be_repointed_between_two_deliveries(
    cloud: LocalCloud, invoke: Invoke, listener: int, unique: str
) -> None:
    """DNS rebinding: public at the first delivery, private at the next (the same warm environment)."""
    name = f"rebind-{unique}.merchant-a.example"
    register_name(cloud.endpoint, name, port=listener)
    assert invoke({"url": f"https://{name}/hooks", "tcp": True})["reply"] == "pong\n"
    register_name(cloud.endpoint, name, addresses=["10.0.0.7"])
    result = invoke({"url": f"https://{name}/hooks", "tcp": True})
    assert result == {"refused": "url's host resolves to a private, loopback, link-local or metadata address"}


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://localhost/hooks", "url must name a public host"),
        ("https://127.0.0.1:{port}/hooks", "url must not point to a private, loopback, link-local or metadata address"),
        ("http://{name}/hooks", "url must use https"),
    ],
)
def test_loopback_and_plain_http_urls_are_refused_before_any_connection(
    cloud: LocalCloud, invoke: Invoke, listener: int, unique: str, url: str, message: str
) -> None:
    name = f"hooks-{unique}.merchant-a.example"
    register_name(cloud.endpoint, name, port=listener)
    assert invoke({"url": url.format(port=listener, name=name), "tcp": True}) == {"refused": message}


def test_a_name_outside_the_table_goes_to_the_real_resolver(invoke: Invoke, unique: str) -> None:
    # ".example" never resolves in public DNS (RFC 2606); the machine's resolver says so.
    assert invoke({"url": f"https://unknown-{unique}.merchant-b.example/hooks", "tcp": True}) == {
        "refused": "url's host does not resolve: gaierror"
    }


# TLS: the receiver (testkit/merchant_receiver.py) with a certificate from the run's CA.

SECRET = "whsec_local_test_secret"


@pytest.fixture
def receiver(cloud: LocalCloud, unique: str) -> Iterator[MerchantReceiver]:
    with MerchantReceiver([f"hooks-{unique}.merchant-a.example"], secret=SECRET).start(cloud.endpoint) as running:
        yield running


def signed(body: bytes) -> dict[str, str]:
    return {WEBHOOK_SIGNATURE_HEADER: signature_header([SECRET], int(time.time()), body)}


def test_a_signed_https_post_reaches_the_receiver_and_verifies(invoke: Invoke, receiver: MerchantReceiver) -> None:
    body = b'{"id": "evt_local", "type": "payment.authorized"}'
    headers = signed(body)
    result = invoke({"url": receiver.url(), "body": body.decode(), "headers": headers})
    [address] = receiver.addresses[receiver.names[0]]
    assert result == {"addresses": [address], "peer": [address, 443], "status": 200, "answer": '{"received": true}'}
    [request] = receiver.requests
    assert (request.method, request.path, request.body, request.status) == ("POST", "/hooks", body, 200)
    assert request.signature == VERIFIED
    assert request.header("Host") == receiver.names[0]
    assert request.header(WEBHOOK_SIGNATURE_HEADER) == headers[WEBHOOK_SIGNATURE_HEADER]


def test_a_wrong_signature_is_answered_400_by_the_receiver(invoke: Invoke, receiver: MerchantReceiver) -> None:
    body = b'{"id": "evt_forged"}'
    forged = {WEBHOOK_SIGNATURE_HEADER: signature_header(["whsec_other"], int(time.time()), body)}
    assert invoke({"url": receiver.url(), "body": body.decode(), "headers": forged})["status"] == 400
    assert [(r.status, r.signature) for r in receiver.requests] == [(400, "no v1 matches this secret")]


def test_a_receiver_failing_its_first_attempts_then_succeeds(invoke: Invoke, receiver: MerchantReceiver) -> None:
    receiver.fail_next(2)
    body = b'{"id": "evt_retried"}'
    statuses = [
        invoke({"url": receiver.url(), "body": body.decode(), "headers": signed(body)})["status"] for _ in "abc"
    ]
    assert statuses == [500, 500, 200]
    assert [r.status for r in receiver.requests] == [500, 500, 200]


def test_a_slow_receiver_runs_into_the_callers_timeout(invoke: Invoke, receiver: MerchantReceiver) -> None:
    receiver.delay_seconds = 2.0
    body = b'{"id": "evt_slow"}'
    result = invoke({"url": receiver.url(), "body": body.decode(), "headers": signed(body), "timeout": 0.5})
    assert result["connection_error"] == "TimeoutError"
    assert [r.body for r in receiver.wait_for(1, timeout=10)] == [body]


def test_a_name_missing_from_the_certificate_fails_verification(
    cloud: LocalCloud, invoke: Invoke, receiver: MerchantReceiver, unique: str
) -> None:
    other = f"other-{unique}.merchant-a.example"
    register_name(cloud.endpoint, other, port=receiver.port)  # reaches the receiver; its certificate names another
    result = invoke({"url": f"https://{other}/hooks", "body": "{}"})
    assert result["tls_error"] == f"Hostname mismatch, certificate is not valid for '{other}'."
    assert receiver.requests == []
    assert wait_for(lambda: receiver.handshake_failures) == ["SSLV3_ALERT_BAD_CERTIFICATE"]


def test_a_certificate_from_another_ca_fails_verification(
    cloud: LocalCloud, invoke: Invoke, unique: str, tmp_path: Path
) -> None:
    name = f"hooks-{unique}.merchant-a.example"
    foreign = LocalCA(tmp_path, "not the emulator's CA").issue([name])
    with MerchantReceiver([name], certificate=foreign).start(cloud.endpoint) as untrusted:
        result = invoke({"url": untrusted.url(), "body": "{}"})
        assert result["tls_error"] == "unable to get local issuer certificate"
        assert untrusted.requests == []
        assert wait_for(lambda: untrusted.handshake_failures) == ["TLSV1_ALERT_UNKNOWN_CA"]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"name": "localhost", "port": 8443}, '"name" must be a DNS name with at least two labels'),
        ({"name": "hooks.merchant-a.example"}, 'give "port" (a receiver) or "addresses" (answers only)'),
        ({"name": "hooks.merchant-a.example", "port": 70000}, '"port" must be a TCP port (1-65535)'),
        ({"name": "a.example", "addresses": ["nope"]}, '"addresses" must be a non-empty list of IP addresses'),
    ],
)
def test_a_registration_the_network_refuses_is_400_naming_the_field(
    cloud: LocalCloud, document: dict[str, Any], message: str
) -> None:
    request = urllib.request.Request(f"{cloud.endpoint}{ROUTE}", json.dumps(document).encode(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert (refused.value.code, json.loads(refused.value.read())) == (400, {"message": message})
