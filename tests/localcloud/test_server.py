"""How the emulator serves requests: moto's routing of a request to its backend, once per host;
an access-log line for refused requests only."""

from __future__ import annotations

import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from localcloud.server import log_refused_requests_only, route_once_per_host

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
