"""Payments per minute through the deployed stack on the emulator: warm environments vs cold starts.

One emulator, one deployment of the prod stack. The same traffic runs twice: first with every
Lambda invocation a cold start (``POST /localcloud/lambda {"reuse": false}``, how the emulator
ran functions before warm environments), then with warm environments. A round is
``PAYMENTS`` valid payments from ``CLIENTS`` concurrent API clients, timed from the first
request to the moment every payment is SETTLED or FAILED. Before the warm round, an untimed
round of ``CLIENTS`` payments creates the warm environments (throughput is a steady state).
The warm round runs last, on the larger table, so the ratio is if anything understated.

Run: ``.venv/bin/python -m bench.emulator_throughput`` (deploys; about 3 minutes).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Figure, ratio_at_least
from localcloud import LocalCloud
from testkit.deployment import StackDeployment, environment_variables
from testkit.traffic import PlatformClient

CLIENTS = 8
# prod: its reservations (100) leave room for 8 clients; dev reserves the api function at 5.
ENVIRONMENT = "prod"
SUFFIX = "bench"
PAYMENTS = 40
MERCHANT = "merchant-001"
TARGET_RATIO = 5.0
FINAL_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Round:
    label: str
    payments: int
    seconds: float
    final: int

    @property
    def per_minute(self) -> float:
        return self.final / self.seconds * 60


def _set_reuse(endpoint: str, reuse: bool) -> None:
    request = urllib.request.Request(
        f"{endpoint}/localcloud/lambda", data=json.dumps({"reuse": reuse}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def run_round(platform: PlatformClient, label: str, payments: int = PAYMENTS, clients: int = CLIENTS) -> Round:
    tag = uuid.uuid4().hex[:6]

    def submit(n: int) -> str | None:
        body = {"merchant_id": MERCHANT, "amount": "12.50", "currency": "USD", "customer_ref": f"bench-{n}"}
        response = platform.create_payment(body, idempotency_key=f"bench-{tag}-{n}")
        if response.status_code != 202:
            print(f"{label}: POST /payments answered {response.status_code}: {response.body}", file=sys.stderr)
            return None
        return str(response.json()["payment_id"])

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        payment_ids = [payment_id for payment_id in pool.map(submit, range(payments)) if payment_id]
    final = platform.wait_for_final(payment_ids, timeout=FINAL_TIMEOUT_SECONDS)
    seconds = time.monotonic() - started
    settled = sum(1 for item in final.values() if item and item.get("status") in ("SETTLED", "FAILED"))
    return Round(label, payments, seconds, settled)


def measure() -> tuple[Round, Round]:
    """(cold baseline, warm) rounds on one fresh emulator and deployment."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-throughput-") as scratch,
        LocalCloud(Path(scratch) / "state") as cloud,
    ):
        # The prod preset's variables as a deploy of prod sets them (subscribers, domain, certificate).
        deployment = StackDeployment(
            endpoint=cloud.endpoint,
            workdir=Path(scratch) / "cdktf.out",
            environment=ENVIRONMENT,
            suffix=SUFFIX,
            variables=environment_variables(cloud.endpoint, ENVIRONMENT, SUFFIX),
        )
        deployment.synth()
        deployment.apply()
        platform = PlatformClient(cloud.endpoint, deployment.outputs)
        # Every request needs a merchant's API key (issue #11): onboard one as `make merchant` does.
        platform.onboard(MERCHANT)
        _set_reuse(cloud.endpoint, False)
        cold = run_round(platform, "cold start per invocation")
        _set_reuse(cloud.endpoint, True)
        # Throughput is a steady state: the environments are created (each one's first invocation
        # is a cold start) by a round that is not timed, as a live function's earlier traffic
        # created them. Without it the timed round measures mostly that warm-up: 8 payments took
        # 16.2 s on a fresh emulator, then 40 took 14.8 s (2026-11-23, this machine).
        run_round(platform, "warm-up, not timed", payments=CLIENTS)
        warm = run_round(platform, "warm environments")
    return cold, warm


def run(log: Any = print) -> list[Figure]:
    """``make bench`` section: payments per minute, warm vs cold, on the emulator."""
    cold, warm = measure()
    for result in (cold, warm):
        log(f"  {result.label}: {result.final}/{result.payments} final in {result.seconds:.1f} s")
    return [
        Figure(
            "throughput",
            f"emulator payments/min, {CLIENTS} clients, {PAYMENTS} payments",
            warm.per_minute,
            "/min",
            "cold start per invocation",
            cold.per_minute,
            f">= {TARGET_RATIO:g}x",
            ratio_at_least(TARGET_RATIO),
        )
    ]


def main() -> int:
    cold, warm = measure()
    for result in (cold, warm):
        print(
            f"{result.label:28} {result.final}/{result.payments} final in {result.seconds:6.1f} s"
            f" = {result.per_minute:6.1f} payments/min ({CLIENTS} clients)"
        )
    ratio = warm.per_minute / cold.per_minute
    print(f"warm / cold: {ratio:.1f}x (target >= {TARGET_RATIO:.0f}x)")
    return 0 if ratio >= TARGET_RATIO and warm.final == warm.payments else 1


if __name__ == "__main__":
    sys.exit(main())
