"""How the emulator serves requests: moto's routing of a request to its backend, once per host."""

from __future__ import annotations

from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from localcloud.server import route_once_per_host

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
