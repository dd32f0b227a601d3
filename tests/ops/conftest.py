"""moto standing in for a deployed stack: in-process (``stack``) or as a server (``moto_server``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from tests.ops.stacks import REGION, deploy_stack


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    """What a deployed stack's outputs say, backed by moto in-process."""
    with mock_aws():
        yield deploy_stack(REGION)


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An AWS-compatible endpoint (moto as a server), with test credentials in the default chain."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
