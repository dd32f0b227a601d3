"""How the emulator serves requests: moto's routing of a request to its backend, once per host;
an access-log line for refused requests only; each response sent whole, in one write."""

from __future__ import annotations

import json
import logging
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from localcloud.server import log_refused_requests_only, request_handler, route_once_per_host

HOSTS = [
    "dynamodb.us-east-1.amazonaws.com",
    "streams.dynamodb.us-east-1.amazonaws.com",
    "lambda.us-east-1.amazonaws.com",
    "sqs.us-east-1.amazonaws.com",
    "states.us-east-1.amazonaws.com",
    "apigateway.eu-west-1.amazonaws.com",
    "s3.amazonaws.com",
    "moto_api",
    "dynamodb",
    "no-such-service.example.com",
]


def test_routing_per_host_answers_as_moto_does(monkeypatch: pytest.MonkeyPatch) -> None:
    original = DomainDispatcherApplication.get_backend_for_host
    # Restored after the test: the caller's process keeps moto as it is.
    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host", original)
    app = DomainDispatcherApplication(create_backend_app)
    expected = {host: original(app, host) for host in HOSTS}
    calls: list[str | None] = []

    def counted(self: Any, host: str | None) -> Any:
        calls.append(host)
        return original(self, host)

    monkeypatch.setattr(DomainDispatcherApplication, "get_backend_for_host", counted)
    route_once_per_host()
    route_once_per_host()  # applying twice wraps once

    assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected
    assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected
    assert app.get_backend_for_host(None) is None
    assert sorted(calls) == sorted(HOSTS)  # moto's own routing ran once per host


def answer_with_the_status_in_the_path(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = int(environ["PATH_INFO"].strip("/"))
    start_response(f"{status} Status", [("Content-Length", "0")])
    return [b""]


@pytest.fixture
def refusal_logging_server() -> Iterator[str]:
    server = make_server(
        "127.0.0.1",
        0,
        answer_with_the_status_in_the_path,
        threaded=True,
        request_handler=log_refused_requests_only(MotoRequestHandler),
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_only_requests_answered_400_or_above_are_logged(
    refusal_logging_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="werkzeug")
    for status in (200, 204, 302, 400, 404, 429, 500, 503):
        try:
            urllib.request.urlopen(f"{refusal_logging_server}/{status}", timeout=10).close()
        except urllib.error.HTTPError as error:
            error.close()
    logged = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    # The line is werkzeug's own, unchanged: request line, status, size.
    assert [line.split('"')[1].split()[1] + " " + line.split('"')[2].split()[0] for line in logged] == [
        "/400 400",
        "/404 404",
        "/429 429",
        "/500 500",
        "/503 503",
    ]


class RecordingSocket:
    """An accepted connection that keeps every ``sendall`` the handler makes on it."""

    def __init__(self, connection: socket.socket, sent: list[bytes]) -> None:
        self._connection = connection
        self._sent = sent
        self.options: dict[tuple[int, int], int] = {}

    def sendall(self, data: bytes) -> None:
        self._sent.append(bytes(data))
        self._connection.sendall(data)

    def setsockopt(self, level: int, option: int, value: int) -> None:
        self.options[(level, option)] = value
        self._connection.setsockopt(level, option, value)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


# A GetKeyPolicy-sized JSON answer, and an empty one.
BODY = json.dumps(
    {"Policy": json.dumps({"Statement": [{"Sid": f"s{n}", "Effect": "Allow"} for n in range(20)]})}
).encode()


def answer_json_or_nothing(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    if environ["PATH_INFO"] == "/empty":
        start_response("204 No Content", [])
        return [b""]
    start_response("200 OK", [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(BODY)))])
    return [BODY if body == b"{}" else b""]


@pytest.fixture
def recorded_server() -> Iterator[tuple[str, list[bytes], list[RecordingSocket]]]:
    sent: list[bytes] = []
    connections: list[RecordingSocket] = []
    server = make_server("127.0.0.1", 0, answer_json_or_nothing, threaded=True, request_handler=request_handler())
    accept = server.get_request

    def get_request() -> tuple[Any, Any]:
        connection, address = accept()
        connections.append(RecordingSocket(connection, sent))
        return connections[-1], address

    server.get_request = get_request  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", sent, connections
    server.shutdown()
    thread.join()


def test_each_response_is_sent_whole_in_one_write(
    recorded_server: tuple[str, list[bytes], list[RecordingSocket]],
) -> None:
    """Status line, headers and body leave in one write, so the body cannot trail the headers
    (the provider retried requests whose body came tens of ms after the headers)."""
    url, sent, connections = recorded_server
    request = urllib.request.Request(f"{url}/", data=b"{}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.read() == BODY
    with urllib.request.urlopen(f"{url}/empty", timeout=10) as response:
        assert response.status == 204
    assert len(sent) == 2
    answer, empty = sent
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert answer.endswith(b"\r\n\r\n" + BODY)
    assert empty.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert empty.endswith(b"\r\n\r\n")
    # And any later write of a response (a streamed body's next chunk) is not held back by Nagle.
    assert [c.options.get((socket.IPPROTO_TCP, socket.TCP_NODELAY)) for c in connections] == [True, True]


def test_a_client_expecting_100_continue_gets_it_before_sending_the_body(
    recorded_server: tuple[str, list[bytes], list[RecordingSocket]],
) -> None:
    url, sent, _ = recorded_server
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as client:
        request = f"POST / HTTP/1.1\r\nHost: {host}\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        client.sendall(request.encode())
        # Not held back until the answer: the client sends no body before it.
        assert client.recv(1024).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        client.sendall(b"{}")
        answer = b""
        while chunk := client.recv(65536):
            answer += chunk
    assert answer.endswith(b"\r\n\r\n" + BODY)
    assert sent[-1].startswith(b"HTTP/1.1 200 OK\r\n")  # the answer itself, whole
    assert sent[-1].endswith(b"\r\n\r\n" + BODY)
