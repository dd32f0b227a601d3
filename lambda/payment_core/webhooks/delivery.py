"""Delivering events to endpoints: the fan-out's tasks, one attempt per task, the retry schedule.

Each (event, enabled endpoint) is one SQS message (``DeliveryTask``). ``Delivery.attempt`` makes
one attempt for it: the event as merchants read it on ``GET /events/{id}``, signed with every
secret in force (``Tap-Signature``), POSTed to the endpoint's URL after its host is resolved and
checked again (``HttpsSender``); any 2xx is delivered. Every attempt is appended to the event's
``delivery_attempts``. A failure is retried after ``backoff_seconds`` (the caller makes the
message invisible that long); a failure once the horizon has passed since the first attempt
disables the endpoint instead, which writes its ``endpoint.disabled`` transition to the audit
table in the same transaction, so the merchant's event comes out of the one event writer.
"""

from __future__ import annotations

import http.client
import json
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.events.destinations import UnsafeDestination, check_url
from payment_core.events.models import Event
from payment_core.events.signature import signature_header
from payment_core.payments.models import format_timestamp
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes
from payment_core.webhooks.endpoints import DISABLED, ENABLED, OBJECT, SecretBox, WebhookEndpoint
from payment_core.webhooks.sending import HttpsSender

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

MAX_ERROR_LENGTH = 200
USER_AGENT = "payment-platform-webhooks/1"


@dataclass(frozen=True)
class DeliveryTask:
    """One SQS message: deliver ``event_id`` to ``endpoint_id``; the horizon runs from ``first_at``."""

    merchant_id: str
    event_id: str
    endpoint_id: str
    first_at: float  # epoch seconds of the fan-out (or of the redelivery that re-enqueued it)

    def to_body(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_body(cls, body: str) -> DeliveryTask:
        data = json.loads(body)
        return cls(str(data["merchant_id"]), str(data["event_id"]), str(data["endpoint_id"]), float(data["first_at"]))


@dataclass(frozen=True)
class Schedule:
    """How long a webhook is retried, and the backoff between attempts."""

    horizon_seconds: int
    backoff_base_seconds: int
    backoff_cap_seconds: int


def backoff_seconds(attempt: int, schedule: Schedule, rand: Callable[[], float] = random.random) -> int:
    """The wait after failed attempt ``attempt`` (1, 2, ...): ``min(cap, base * 2^(attempt-1))``
    times a jitter factor in [0.5, 1] (retries of many deliveries spread out), at least 1 s."""
    ceiling = min(schedule.backoff_cap_seconds, schedule.backoff_base_seconds * 2 ** min(attempt - 1, 32))
    return max(1, int(ceiling * (0.5 + 0.5 * rand())))


class Outcome(Enum):
    DELIVERED = "delivered"
    RETRY = "retry"
    DISABLED = "disabled"  # failed past the horizon: the endpoint is disabled now
    DROPPED = "dropped"  # nothing to deliver: the event expired, the endpoint was deleted or disabled


@dataclass(frozen=True)
class Result:
    """What one delivery attempt came to, and when to try again."""

    outcome: Outcome
    retry_after_seconds: int = 0
    attempt: dict[str, Any] | None = None


class DeliveryRecords:
    """Reads and writes of the events table (and the audit table) that delivery needs."""

    def __init__(self, client: DynamoDBClient, events_table: str, audit_table: str) -> None:
        self._client, self._events, self._audit = client, events_table, audit_table

    def _get(self, merchant_id: str, range_key: str) -> dict[str, Any] | None:
        key = to_attributes({"merchant_id": merchant_id, "event_id": range_key})
        item = self._client.get_item(TableName=self._events, Key=key, ConsistentRead=True).get("Item")
        return from_attributes(item) if item else None

    def event(self, merchant_id: str, event_id: str) -> Event | None:
        item = self._get(merchant_id, event_id)
        return Event.from_item(item) if item else None

    def endpoint(self, merchant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self._get(merchant_id, endpoint_id)
        return WebhookEndpoint.from_item(item) if item else None

    def add_attempt(self, merchant_id: str, event_id: str, attempt: dict[str, Any]) -> None:
        """Append ``attempt`` to the event's ``delivery_attempts`` (nothing if the event expired)."""
        try:
            self._client.update_item(
                TableName=self._events,
                Key=to_attributes({"merchant_id": merchant_id, "event_id": event_id}),
                UpdateExpression="SET delivery_attempts = list_append(if_not_exists(delivery_attempts, :none), :one)",
                ConditionExpression="attribute_exists(event_id)",
                ExpressionAttributeValues=to_attributes({":none": [], ":one": [attempt]}),
            )
        except ClientError as error:
            if not condition_failed(error):
                raise

    def disable(self, endpoint: WebhookEndpoint, at: str) -> bool:
        """Disable ``endpoint`` and append its ``endpoint.disabled`` transition to the audit table,
        in one transaction; False if it was no longer enabled (another delivery disabled it)."""
        snapshot = endpoint.to_public() | {"status": DISABLED}
        audit = {
            "payment_id": contract.WEBHOOK_ENDPOINT_AUDIT_PREFIX + endpoint.endpoint_id,
            "sequence": 1,  # an endpoint is disabled once: nothing enables it again
            "object": OBJECT,
            "merchant_id": endpoint.merchant_id,
            "from_status": ENABLED.upper(),
            "to_status": DISABLED.upper(),
            "at": at,
            "actor": contract.WEBHOOK_DELIVERY,
            "snapshot": snapshot,
        }
        key = {"merchant_id": endpoint.merchant_id, "event_id": endpoint.endpoint_id}
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._events,
                            "Key": to_attributes(key),
                            "UpdateExpression": "SET #status = :disabled",
                            "ConditionExpression": "#status = :enabled",
                            "ExpressionAttributeNames": {"#status": "status"},
                            "ExpressionAttributeValues": to_attributes({":disabled": DISABLED, ":enabled": ENABLED}),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._audit,
                            "Item": to_attributes(audit),
                            "ConditionExpression": "attribute_not_exists(payment_id)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True


class Delivery:
    def __init__(
        self,
        records: DeliveryRecords,
        box: SecretBox,
        schedule: Schedule,
        sender: HttpsSender | None = None,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._records, self._box, self._schedule = records, box, schedule
        self._sender = sender or HttpsSender()
        self._clock, self._rand = clock, rand

    def attempt(self, task: DeliveryTask, attempt_number: int) -> Result:
        """Attempt ``attempt_number`` (the message's receive count) of ``task``."""
        event = self._records.event(task.merchant_id, task.event_id)
        endpoint = self._records.endpoint(task.merchant_id, task.endpoint_id)
        if event is None or endpoint is None or endpoint.status != ENABLED:
            return Result(Outcome.DROPPED)
        now = self._clock()
        body = json.dumps(event.to_public(), separators=(",", ":")).encode("utf-8")
        secrets = [
            self._box.open(task.merchant_id, task.endpoint_id, s.ciphertext) for s in endpoint.signing_secrets(now)
        ]
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            contract.WEBHOOK_SIGNATURE_HEADER: signature_header(secrets, int(now), body),
        }
        status, error = None, None
        started = time.monotonic()
        try:
            status = self._sender.post(check_url(endpoint.url), body, headers)
            if not 200 <= status <= 299:
                error = f"HTTP {status}"
        except UnsafeDestination as refused:
            error = refused.message
        except (OSError, http.client.HTTPException) as failure:
            error = f"{type(failure).__name__}: {failure}"
        at = format_timestamp(datetime.fromtimestamp(now, UTC))
        attempt: dict[str, Any] = {
            "at": at,
            "endpoint_id": task.endpoint_id,
            "status": status,
            "latency_ms": int((time.monotonic() - started) * 1000),
            "error": error[:MAX_ERROR_LENGTH] if error else None,
        }
        self._records.add_attempt(task.merchant_id, task.event_id, attempt)
        if error is None:
            return Result(Outcome.DELIVERED, attempt=attempt)
        if now - task.first_at >= self._schedule.horizon_seconds:
            # Only the delivery that disables it reports DISABLED (one event, one metric count).
            disabled = self._records.disable(endpoint, at)
            return Result(Outcome.DISABLED if disabled else Outcome.DROPPED, attempt=attempt)
        return Result(Outcome.RETRY, backoff_seconds(attempt_number, self._schedule, self._rand), attempt)
