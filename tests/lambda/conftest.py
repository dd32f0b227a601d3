"""Fixtures for the handler tests: the handler environment, a Lambda context and a moto
account holding every resource of docs/architecture.md, all from the testkit."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from testkit.account import Account, AwsClients, create_account
from testkit.environment import HANDLER_ENVIRONMENT, REGION, UNSET_ENVIRONMENT
from testkit.handlers import FUNCTIONS, FakeContext, load_handler, runtime_of, use_clients


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, region and function environment for every test here, undone after."""
    for name in UNSET_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in HANDLER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


@pytest.fixture(scope="module")
def moto_clients() -> Iterator[AwsClients]:
    """One in-process moto per test module (starting it costs ~1 s); state is wiped per test."""
    from moto import mock_aws

    with mock_aws():
        yield AwsClients.of(boto3.Session(region_name=REGION))


@pytest.fixture
def aws(moto_clients: AwsClients, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    from moto.core.base_backend import BackendDict

    BackendDict.reset()
    account = create_account(moto_clients)
    for name, value in account.handler_environment().items():
        monkeypatch.setenv(name, value)
    for function in FUNCTIONS:
        account.handlers[function] = load_handler(function)
        # The already-built clients: they talk to the same in-process moto.
        use_clients(account.handlers[function], moto_clients)
    try:
        yield account
    finally:
        for handler in account.handlers.values():
            runtime_of(handler).reset()


def pytest_configure(config: pytest.Config) -> None:
    # Requests that emit no business metric are normal (e.g. a 400); Powertools warns anyway.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")
