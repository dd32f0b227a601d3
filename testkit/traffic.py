"""Real traffic against a deployed platform: API requests, batch files, and what came of them."""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import boto3
from boto3.dynamodb.conditions import Key
from payment_core import contract

from localcloud.provider import TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY
from localcloud.triggers import ApiResponse, invoke_rest_api
from ops.merchant import onboard
from ops.stack_target import Credentials, Target
from testkit.secret_scan import remember

FINAL_STATUSES = frozenset({"SETTLED", "FAILED"})
# BatchGetItem's limit: "up to 100 items" per request (DynamoDB API reference).
BATCH_GET_LIMIT = 100
POLL_INTERVAL_SECONDS = 1.0


def emulator_target(endpoint: str, outputs: Mapping[str, Any]) -> Target:
    """The stack on the emulator as ``make merchant`` is told it: outputs, endpoint, region, test credentials."""
    return Target(outputs, endpoint, TEST_REGION, Credentials(TEST_ACCESS_KEY, TEST_SECRET_KEY))


@dataclass(frozen=True)
class BatchJob:
    job_id: str
    state: str
    rows: int
    queued: int
    rejected: int
    report: str | None


def bearer(secret_key: str) -> dict[str, str]:
    """The header a merchant authenticates with (none for an empty key: a request without one)."""
    return {contract.CREDENTIAL_HEADER: f"Bearer {secret_key}"} if secret_key else {}


# The harness pins the API version as merchants are told to (docs/api.md, "Versions").
PINNED_VERSION: Final = {contract.API_VERSION_HEADER: contract.LATEST_API_VERSION}


class PlatformClient:
    """Talks to one deployed stack through the emulator, using only the stack's outputs."""

    def __init__(self, endpoint: str, outputs: Mapping[str, Any]) -> None:
        self.endpoint = endpoint
        self.outputs = outputs
        # The stack as `make merchant` sees it: merchants are onboarded through it, and its reading
        # of the api_endpoint_url output (the one parser) names the API and stage requests go to.
        self._target = emulator_target(endpoint, outputs)
        self.api_id, self.stage = self._target.api_and_stage()
        self._secret_keys: dict[str, str] = {}  # merchant id -> secret key, as `make merchant` issued it
        # One client per service: building one costs ~25 ms of CPU. botocore clients are thread-safe.
        self._clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._clients_lock:
            if service not in self._clients:
                self._clients[service] = boto3.client(
                    service,  # type: ignore[call-overload]  # any service name: the stubs overload literals
                    endpoint_url=self.endpoint,
                    region_name=TEST_REGION,
                    aws_access_key_id=TEST_ACCESS_KEY,
                    aws_secret_access_key=TEST_SECRET_KEY,
                )
            return self._clients[service]

    def onboard(self, *merchant_ids: str) -> dict[str, str]:
        """``make merchant`` for each merchant not yet onboarded; merchant id -> secret key."""
        for merchant_id in merchant_ids:
            if merchant_id not in self._secret_keys:
                self._secret_keys[merchant_id] = remember(onboard(self._target, merchant_id))["secret_key"]
        return dict(self._secret_keys)

    def secret_key(self, merchant_id: str | None = None) -> str:
        """The merchant's secret key (default: the first merchant onboarded)."""
        if not self._secret_keys:
            raise RuntimeError("no merchant onboarded: call onboard() first")
        return self._secret_keys[merchant_id or next(iter(self._secret_keys))]

    def request(
        self,
        method: str,
        path: str,
        body: str | dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        merchant_id: str | None = None,
    ) -> ApiResponse:
        """What API Gateway does for the request (the emulator cannot front a REST API itself)."""
        all_headers = {**PINNED_VERSION, **bearer(self.secret_key(merchant_id)), **(headers or {})}
        return invoke_rest_api(self.endpoint, self.api_id, self.stage, method, path, body=body, headers=all_headers)

    def create_payment(self, body: dict[str, Any] | str, idempotency_key: str) -> ApiResponse:
        """As the merchant the body names (the first onboarded one for a body that is not JSON)."""
        headers = {"Content-Type": "application/json", contract.IDEMPOTENCY_KEY_HEADER: idempotency_key}
        merchant_id = body.get("merchant_id") if isinstance(body, dict) else None
        return self.request("POST", "/payments", body=body, headers=headers, merchant_id=merchant_id)

    def upload_batch(self, name: str, rows: Sequence[Sequence[str]], *, raw: bytes | None = None) -> str:
        key = f"incoming/{name}"
        if raw is None:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(["payment_id", "merchant_id", "amount", "currency", "customer_ref"])
            writer.writerows(rows)
            raw = buffer.getvalue().encode()
        self.client("s3").put_object(Bucket=self.outputs["batch_bucket_name"], Key=key, Body=raw)
        return key

    def payment(self, payment_id: str) -> dict[str, Any] | None:
        item = self.client("dynamodb").get_item(
            TableName=self.outputs["payments_table_name"], Key={"payment_id": {"S": payment_id}}, ConsistentRead=True
        )
        return _plain(item["Item"]) if "Item" in item else None

    def audit_trail(self, payment_id: str) -> list[dict[str, Any]]:
        table = boto3.resource(
            "dynamodb",
            endpoint_url=self.endpoint,
            region_name=TEST_REGION,
            aws_access_key_id=TEST_ACCESS_KEY,
            aws_secret_access_key=TEST_SECRET_KEY,
        ).Table(self.outputs["audit_table_name"])
        items = table.query(KeyConditionExpression=Key("payment_id").eq(payment_id), ConsistentRead=True)["Items"]
        return [dict(item) for item in items]

    def count_payments(self) -> int:
        return int(self.client("dynamodb").scan(TableName=self.outputs["payments_table_name"], Select="COUNT")["Count"])

    def batch_job(self, key: str) -> BatchJob | None:
        """The job of ``key``'s first version found (one upload: its only job)."""
        jobs = self.batch_jobs(key)
        return jobs[0] if jobs else None

    def batch_jobs(self, key: str) -> list[BatchJob]:
        """Every job (one per object version) of ``key``; chunk records have no key."""
        found = []
        items = self.client("dynamodb").scan(TableName=self.outputs["batch_jobs_table_name"], ConsistentRead=True)
        for raw in items["Items"]:
            item = _plain(raw)
            if item.get("key") == key:
                report = None
                if item.get("report_key"):
                    body = self.client("s3").get_object(
                        Bucket=self.outputs["batch_bucket_name"], Key=item["report_key"]
                    )
                    report = body["Body"].read().decode()
                found.append(
                    BatchJob(
                        job_id=str(item["job_id"]),
                        state=str(item.get("state")),
                        rows=int(item.get("rows", 0)),
                        queued=int(item.get("queued", 0)),
                        rejected=int(item.get("rejected", 0)),
                        report=report,
                    )
                )
        return found

    def map_run(self, job_id: str) -> dict[str, Any]:
        """The Distributed Map run of a batch file's execution (named after its job id):
        batches (chunks) by outcome, with the job's row counts beside them."""
        sfn = self.client("stepfunctions")
        machine = str(self.outputs["batch_state_machine_arn"])
        execution_arn = machine.replace(":stateMachine:", ":execution:") + f":{job_id}"
        runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
        if not runs:
            return {"status": "NONE", "batches": 0, "succeeded": 0, "failed": 0}
        described = sfn.describe_map_run(mapRunArn=runs[0]["mapRunArn"])
        counts = described["itemCounts"]
        return {
            "status": described["status"],
            "batches": counts["total"],
            "succeeded": counts["succeeded"],
            "failed": counts["failed"],
            "max_concurrency": described["maxConcurrency"],
        }

    def wait_for_batch(self, key: str, timeout: float = 120.0) -> BatchJob:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = self.batch_job(key)
            if job is not None and job.state == "COMPLETED":
                return job
            time.sleep(0.5)
        raise TimeoutError(f"batch {key} did not complete within {timeout:.0f}s")

    def payments(self, payment_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Every payment of ``payment_ids`` (None: not written yet), in one BatchGetItem per 100 ids.

        One request per round of polling, not one per payment: on AWS a read storm costs only the
        reader, but the emulator's requests and its stream and queue pollers share one process."""
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(payment_ids)
        # Each id once: DynamoDB refuses a BatchGetItem whose keys repeat (a replayed
        # Idempotency-Key answers with the first payment's id, so callers may pass one twice).
        unique = list(found)
        table = self.outputs["payments_table_name"]
        dynamodb = self.client("dynamodb")
        for start in range(0, len(unique), BATCH_GET_LIMIT):
            keys = [{"payment_id": {"S": payment_id}} for payment_id in unique[start : start + BATCH_GET_LIMIT]]
            answer = dynamodb.batch_get_item(RequestItems={table: {"Keys": keys, "ConsistentRead": True}})
            # Keys left in UnprocessedKeys stay None: the next round reads them again.
            for raw in answer["Responses"].get(table, []):
                item = _plain(raw)
                found[str(item["payment_id"])] = item
        return found

    def wait_for_final(
        self, payment_ids: Sequence[str], timeout: float = 180.0, *, stalled_after: float | None = None
    ) -> dict[str, dict[str, Any] | None]:
        """Polls until every payment is SETTLED or FAILED (or the timeout): id -> item.

        ``stalled_after``: also give up once no payment has become final for that many seconds,
        so a wait is bounded by its own progress, not only by the worst case ``timeout``. A
        final status never changes, so only the payments not yet final are read again."""
        started = time.monotonic()
        last_progress = started
        latest: dict[str, dict[str, Any] | None] = {}
        while True:
            waiting = [pid for pid in payment_ids if not _is_final(latest.get(pid))]
            latest |= self.payments(waiting)
            now = time.monotonic()
            if any(_is_final(latest[payment_id]) for payment_id in waiting):
                last_progress = now
            done = all(_is_final(latest[payment_id]) for payment_id in payment_ids)
            stalled = stalled_after is not None and now - last_progress > stalled_after
            if done or stalled or now - started > timeout:
                return {payment_id: latest[payment_id] for payment_id in payment_ids}
            time.sleep(POLL_INTERVAL_SECONDS)

    def queue_depth(self, url_output: str) -> int:
        attributes = self.client("sqs").get_queue_attributes(
            QueueUrl=self.outputs[url_output],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


def _is_final(item: Mapping[str, Any] | None) -> bool:
    return item is not None and item.get("status") in FINAL_STATUSES


def _plain(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}
