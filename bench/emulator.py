"""The moto emulator the benchmarks run against, and the account they build in it.

Three moto costs grow with the data already stored, which would make the emulator, not the
handlers, dominate the figures (measured on this machine with moto 5.2.5):

- SQS ``SendMessage`` rebuilds every queue attribute, scanning all stored messages for the
  ``ApproximateNumberOfMessages*`` counts: sending n messages is O(n²) (10 messages took
  ~0.1 s with 1,000 queued and ~1 s with 3,000).
- DynamoDB ``TransactWriteItems`` deep-copies every table it touches for a rollback: 11 ms
  a transaction at 200 items, 93 ms at 1,000 (a PutItem stays ~1 ms).

``apply_shims`` answers those counts from the list length (exact while nothing is received
or delayed, which the benchmarks never do) and skips the rollback snapshot (the benchmarks
check that no transaction was cancelled). API semantics are otherwise moto's own.
"""

from __future__ import annotations

import copy
import inspect
import json
import logging
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGION = "us-east-1"
ACCOUNT = "123456789012"

TABLES = {
    "PAYMENTS_TABLE_NAME": "payments-bench",
    "AUDIT_TABLE_NAME": "payment-audit-bench",
    "IDEMPOTENCY_TABLE_NAME": "payment-idempotency-bench",
    "BATCH_JOBS_TABLE_NAME": "batch-jobs-bench",
}
BASE_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon here
    "POWERTOOLS_SERVICE_NAME": "payment-platform-bench",
    "POWERTOOLS_METRICS_NAMESPACE": "PaymentPlatformBench",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "MAX_PAYMENT_AMOUNT": "10000.00",
    "ALLOWED_CURRENCIES": "USD,EUR,GBP,JPY",
    "BLOCKED_MERCHANT_IDS": "merchant-blocked",
    **TABLES,
}
BUCKET = "payment-batch-bench"


def apply_shims() -> None:
    """Make the two O(stored data) moto paths described above constant-time."""
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    Queue.approximate_number_of_messages = property(lambda queue: len(queue._messages))  # type: ignore[assignment]
    Queue.approximate_number_of_messages_delayed = property(lambda queue: 0)  # type: ignore[assignment]
    Queue.approximate_number_of_messages_not_visible = property(lambda queue: 0)  # type: ignore[assignment]

    class NoTableSnapshots:
        """``copy`` as moto's DynamoDB module sees it, minus the whole-table rollback copy."""

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    dynamodb_models.copy = NoTableSnapshots()  # type: ignore[attr-defined,assignment]

    scan_all_query = Table.query
    signature = inspect.signature(scan_all_query)

    def partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments["hash_key"]
        if bound.arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return scan_all_query(self, *args, **kwargs)
        partition = (
            sorted(self.items[hash_key].values(), key=lambda item: item.range_key) if hash_key in self.items else []
        )
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return scan_all_query(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query  # type: ignore[method-assign]


def serve_like_aws() -> None:
    """Keep-alive as botocore gets from AWS (moto's dev server speaks HTTP/1.0: a new
    connection and thread per request), and no access log line per request."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.protocol_version = "HTTP/1.1"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server_process() -> Iterator[str]:
    """A shimmed moto server in its own process (so its memory is not the handler's): yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"moto server did not start: {ready!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()


def setup_session() -> boto3.Session:
    """A session of its own for the bench's setup calls, so they are never counted."""
    return boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)


def handler_session() -> boto3.Session:
    """A fresh default session: the one ``boto3.client()`` (so every handler client) uses."""
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


@dataclass(frozen=True)
class Account:
    queue_url: str
    state_machine_arn: str

    def handler_env(self, endpoint: str | None) -> dict[str, str]:
        env = {**BASE_ENV, "PAYMENT_QUEUE_URL": self.queue_url, "STATE_MACHINE_ARN": self.state_machine_arn}
        if endpoint:
            env["AWS_ENDPOINT_URL"] = endpoint
        return env


def create_table(dynamodb: Any, name: str, keys: list[tuple[str, str, str]], **extra: Any) -> None:
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys]
        + extra.pop("more_attributes", []),
        **extra,
    )


def create_account(session: boto3.Session, endpoint: str | None) -> Account:
    """The resources of docs/design.md the handlers touch."""
    dynamodb = session.client("dynamodb", endpoint_url=endpoint)
    create_table(
        dynamodb,
        TABLES["PAYMENTS_TABLE_NAME"],
        [("payment_id", "S", "HASH")],
        more_attributes=[
            {"AttributeName": "merchant_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "merchant-created-index",
                "KeySchema": [
                    {"AttributeName": "merchant_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    create_table(dynamodb, TABLES["AUDIT_TABLE_NAME"], [("payment_id", "S", "HASH"), ("sequence", "N", "RANGE")])
    create_table(dynamodb, TABLES["IDEMPOTENCY_TABLE_NAME"], [("id", "S", "HASH")])
    create_table(dynamodb, TABLES["BATCH_JOBS_TABLE_NAME"], [("job_id", "S", "HASH")])
    queue_url = session.client("sqs", endpoint_url=endpoint).create_queue(QueueName="payment-queue-bench")["QueueUrl"]
    session.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    state_machine_arn = session.client("stepfunctions", endpoint_url=endpoint).create_state_machine(
        name="payment-workflow-bench",
        definition=json.dumps({"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/payment-workflow-bench",
    )["stateMachineArn"]
    return Account(queue_url=queue_url, state_machine_arn=state_machine_arn)


def load_handler(function: str) -> Any:
    """Import ``lambda/<function>/handler.py`` under its own name, payment_core from lambda/shared."""
    import importlib.util

    shared = os.path.join(ROOT, "lambda", "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)
    name = f"{function}_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "lambda", function, "handler.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeContext:
    function_name: str = "payment-bench"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payment-bench"
    aws_request_id: str = "bench-request"
    log_group_name: str = "/aws/lambda/payment-bench"
    log_stream_name: str = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 900_000


def _serve(port: int) -> None:
    from moto.server import ThreadedMotoServer

    apply_shims()
    serve_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    threading.Event().wait()  # serve until terminated


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
