"""Deploy the real stack once per session to a fresh emulator with real Terraform.

The emulator is configured like a new AWS account: a Lambda concurrency quota of 50 (nothing can
be reserved) and no API Gateway logging role until the account stack (TapAccount) sets it. The
preflight runs first, as ``make deploy`` runs it; its lines are kept for tests/e2e/test_account.py.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from payment_core import contract

from localcloud import LocalCloud
from localcloud.account import NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT
from testkit.deployment import StackDeployment
from testkit.money_moves import ExpiringPayment, Money
from testkit.scenarios import BATCH_ROWS
from testkit.traffic import PlatformClient

_STARTED: list[float] = []
PREFLIGHT: list[str] = []
# Wall seconds of each step of the session's deploy, printed in the summary: the deploy is setup
# of the first test, so --durations shows it only as one sum.
_DEPLOY_STEPS: dict[str, float] = {}
# Lines tests report (the chaos test's counts): in the summary, so `make test` (-q, output
# captured) shows them for a passing run too.
_REPORTED: list[str] = []
T = TypeVar("T")
# The session's AUTHORIZATION_WINDOW_SECONDS (the presets' is 7 days): a manual payment created at
# the start has expired by itself before the traffic ends, while the chaos test's manual payments,
# captured or voided seconds after they are authorized, fit in it many times. 240, not 300: with
# the faster emulator the traffic after the deploy took ~260 s (2026-12-03), and test_expiry
# waited 42 s of a 300 s window, at the end of the e2e suite, the long pole of `make test`.
AUTHORIZATION_WINDOW_SECONDS = 240


def _timed(step: str, action: Callable[[], T]) -> T:
    started = time.monotonic()
    try:
        return action()
    finally:
        _DEPLOY_STEPS[step] = time.monotonic() - started


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "lifecycle: checks the deployment's end (drift, destroy): run after all else")
    config.addinivalue_line(
        "markers", "after_traffic: reads what the whole run recorded: after all traffic, before the end"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)
    # The destroy must come after every test that uses the deployment: explicit, not by file name;
    # what reads the run's records (the secret scan) comes after the traffic and before the destroy.
    # A stable sort keeps the lifecycle tests in their written order (drift check, then destroy).
    items.sort(
        key=lambda item: (
            item.get_closest_marker("lifecycle") is not None,
            item.get_closest_marker("after_traffic") is not None,
        )
    )


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackDeployment]:
    _STARTED.append(time.monotonic())
    state_dir: Path = tmp_path_factory.mktemp("localcloud")
    cloud = LocalCloud(state_dir, lambda_concurrency_limit=NEW_ACCOUNT_LAMBDA_CONCURRENCY_LIMIT)
    endpoint = _timed("emulator start", cloud.start)
    deployed = StackDeployment(
        endpoint=endpoint,
        workdir=state_dir / "cdktf.out",
        suffix="e2e",
        authorization_window_seconds=AUTHORIZATION_WINDOW_SECONDS,
    )
    try:
        _timed("synth", deployed.synth)
        PREFLIGHT.extend(_timed("preflight", deployed.preflight))
        _timed("terraform init + apply", deployed.apply)
        yield deployed
    finally:
        # The destroy test normally ran already; this is the safety net after a failure.
        if deployed.stack_dir.exists() and deployed.state_addresses():
            deployed.destroy()
        cloud.stop()


@pytest.fixture(scope="session")
def preflight_lines(deployment: StackDeployment) -> list[str]:
    """What ``make preflight`` printed before the first apply (the account as new)."""
    return PREFLIGHT


@pytest.fixture(scope="session")
def platform(deployment: StackDeployment) -> PlatformClient:
    client = PlatformClient(deployment.endpoint, deployment.outputs)
    # Every request comes from a merchant's own key (`make merchant`), merchant-e2e by default.
    # Batch rows must name an active merchant too: the demo's batch merchants are onboarded.
    client.onboard("merchant-e2e", "merchant-blocked", *sorted({row[1] for row in BATCH_ROWS}))
    return client


@pytest.fixture(scope="session", autouse=True)
def expiring_payment(platform: PlatformClient) -> ExpiringPayment:
    """A manual payment created before every test and never captured: test_expiry reads it
    after the traffic, when its window has run out (created first, it costs the run no wait)."""
    payment_id = Money(platform, "merchant-e2e").create(
        f"e2e-expiring-{uuid.uuid4().hex[:8]}", "9.00", "cust-expiring", contract.CAPTURE_MANUAL
    )
    return ExpiringPayment(payment_id, "merchant-e2e", time.monotonic() + AUTHORIZATION_WINDOW_SECONDS)


@pytest.fixture(scope="session")
def report() -> Callable[[str], None]:
    """Prints a line now and again in the run's summary."""

    def add(line: str) -> None:
        print(line)
        _REPORTED.append(line)

    return add


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _STARTED:
        terminalreporter.write_line(f"e2e wall time (deploy, traffic, destroy): {time.monotonic() - _STARTED[0]:.1f}s")
        steps = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in _DEPLOY_STEPS.items())
        terminalreporter.write_line(f"e2e deploy steps: {steps}")
    for line in _REPORTED:
        terminalreporter.write_line(line)
