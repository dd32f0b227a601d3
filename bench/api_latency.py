"""Figure 5: POST /payments, GET /payments/{id}, and the capture and refund routes
(bench.money_latency) in-process against a moto server, vs bare calls.

moto's ThreadedMotoServer runs in this process on 127.0.0.1 (a free port); the api handler's
clients reach it through ``AWS_ENDPOINT_URL``. Handler requests and bare PutItem/GetItem
calls (same server, same item shape) are interleaved so load elsewhere hits both alike.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import boto3
from payment_core import contract

from bench import emulator, money_latency
from bench.counter import CallCounter
from bench.report import Figure, ratio_at_most
from testkit.account import AwsClients, create_account, setup_session
from testkit.environment import TABLES
from testkit.events import api_event, get_payment_event
from testkit.handlers import FakeContext, load_handler

REQUESTS = 500
WARMUP = 20
TARGET = 3.0
BODY = {"merchant_id": "merchant-1", "amount": "125.50", "currency": "USD", "customer_ref": "cust-42"}


# Each route beside the bare call it cannot do without (bench.money_latency for the last two).
ROWS = (
    ("post", "POST /payments", "put_item", "bare PutItem"),
    ("get", "GET /payments/{id}", "get_item", "bare GetItem"),
    ("capture", "POST /payments/{id}/capture", "update_item", "bare UpdateItem"),
    ("refund", "POST /payments/{id}/refunds", "transact_write", "bare TransactWriteItems"),
)


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(into: list[float], call: Callable[..., Any], *args: Any) -> Any:
    started = time.perf_counter()
    result = call(*args)
    into.append((time.perf_counter() - started) * 1000)
    return result


def measure(requests: int) -> tuple[dict[str, list[float]], dict[str, float]]:
    from moto.server import ThreadedMotoServer

    emulator.apply_shims()
    emulator.serve_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    saved_env = dict(os.environ)
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        setup = setup_session()
        account = create_account(AwsClients.of(setup, endpoint))
        os.environ.update(account.handler_environment(endpoint))
        counter = CallCounter().attach(emulator.handler_session())
        api = load_handler(contract.API)
        bare = BareCalls(setup, endpoint)
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            # Powertools prints a metrics line per request (dropped here) and warns when a GET has none.
            warnings.filterwarnings("ignore", "No application metrics to publish")
            samples, calls = _run(api, bare, counter, requests)
            money = money_latency.MoneyBareCalls(setup, endpoint)
            more, more_calls = money_latency.run_routes(api, money, counter, requests, WARMUP, timed)
            return samples | more, calls | more_calls
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        server.stop()


class BareCalls:
    """The same server called directly: one PutItem/GetItem, and each route's own calls in a row."""

    def __init__(self, session: boto3.Session, endpoint: str) -> None:
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self.payments = TABLES[contract.PAYMENTS_TABLE_NAME]
        self.audit = TABLES[contract.AUDIT_TABLE_NAME]

    def put_item(self, payment_id: str) -> None:
        self.dynamodb.put_item(TableName=self.payments, Item=self._payment(payment_id))

    def get_item(self, payment_id: str) -> None:
        self.dynamodb.get_item(TableName=self.payments, Key={"payment_id": {"S": payment_id}}, ConsistentRead=True)

    def post_calls(self, payment_id: str) -> None:
        """What POST /payments sends for a new key: one transaction, the payment and its first audit
        entry, each put only if absent (the payment row is also the Idempotency-Key's record).

        No StartExecution: the payment's stream record starts its workflow (the outbox)."""
        audit = {"payment_id": {"S": payment_id}, "sequence": {"N": "1"}, "to_status": {"S": "PENDING"}}
        absent = "attribute_not_exists(payment_id)"
        self.dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self.payments, "Item": self._payment(payment_id), "ConditionExpression": absent}},
                {"Put": {"TableName": self.audit, "Item": audit, "ConditionExpression": absent}},
            ]
        )

    def get_calls(self, payment_id: str) -> None:
        """What GET /payments/{id} sends: the payment, then its audit trail."""
        self.get_item(payment_id)
        self.dynamodb.query(
            TableName=self.audit,
            KeyConditionExpression="payment_id = :id",
            ExpressionAttributeValues={":id": {"S": payment_id}},
            ConsistentRead=True,
        )

    @staticmethod
    def _payment(payment_id: str) -> dict[str, Any]:
        return {"payment_id": {"S": payment_id}, **{name: {"S": value} for name, value in BODY.items()}}


def _run(
    api: Any, bare: BareCalls, counter: CallCounter, requests: int
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Latency samples (ms) per subject, and the AWS calls each route made per request."""
    names = ("post", "get", "put_item", "get_item", "post_calls", "get_calls")
    samples: dict[str, list[float]] = {name: [] for name in names}
    warmup: dict[str, list[float]] = {name: [] for name in names}
    calls = {"post": 0, "get": 0}
    for index in range(WARMUP + requests):
        into = samples if index >= WARMUP else warmup
        counted = counter.total
        post = api_event("POST", "/payments", body=json.dumps(BODY), headers={"Idempotency-Key": f"bench-{index:05d}"})
        response = timed(into["post"], api.handler, post, FakeContext())
        if response["statusCode"] != 202:
            raise RuntimeError(f"POST /payments answered {response['statusCode']}: {response['body']}")
        payment_id = json.loads(response["body"])["payment_id"]
        calls["post"] += (counter.total - counted) * (index >= WARMUP)
        counted = counter.total
        response = timed(into["get"], api.handler, get_payment_event(payment_id), FakeContext())
        if response["statusCode"] != 200:
            raise RuntimeError(f"GET /payments/{payment_id} answered {response['statusCode']}")
        calls["get"] += (counter.total - counted) * (index >= WARMUP)
        timed(into["put_item"], bare.put_item, f"bare-{index:05d}")
        timed(into["get_item"], bare.get_item, f"bare-{index:05d}")
        timed(into["post_calls"], bare.post_calls, f"pay_bare{index:05d}")
        timed(into["get_calls"], bare.get_calls, f"pay_bare{index:05d}")
    return samples, {route: count / requests for route, count in calls.items()}


def run(requests: int = REQUESTS, log: Any = print) -> list[Figure]:
    samples, calls = measure(requests)
    p = {name: (percentile(each, 0.50), percentile(each, 0.99)) for name, each in samples.items()}
    log(
        f"  AWS calls per request: POST {calls['post']:.0f}, GET {calls['get']:.0f}, "
        f"capture {calls['capture']:.0f}, refund {calls['refund']:.0f}"
    )
    for name, (p50, p99) in p.items():
        log(f"  {name}: p50 {p50:.2f} ms, p99 {p99:.2f} ms, mean {statistics.fmean(samples[name]):.2f} ms")
    figures = []
    for route, label, bare, bare_label in ROWS:
        own_calls = f"its {calls[route]:.0f} call{'' if round(calls[route]) == 1 else 's'}, bare"
        figures += [
            Figure("api", f"{label} p50, {requests} requests", p[route][0], "ms", bare_label, p[bare][0]),
            Figure(
                "api",
                f"{label} p99, {requests} requests",
                p[route][1],
                "ms",
                bare_label,
                p[bare][1],
                f"<= {TARGET:g}x",
                ratio_at_most(TARGET),
            ),
            Figure("api", f"{label} p99 vs the same calls", p[route][1], "ms", own_calls, p[f"{route}_calls"][1]),
        ]
    return figures
