"""Webhook retries and disabling in the emulator, with a short horizon from a test configuration.

The packaged ``webhook_delivery`` (the code asset and the layer, as the stack ships them) runs on
an SQS event source mapping as ``lib/components/webhooks.py`` declares it (batch size 1,
``ReportBatchItemFailures``, a DLQ at ``WebhooksConfig.max_receive_count``), with the retry
schedule of a validated ``WebhooksConfig``: a 60 s horizon, waits of 2 s doubling to 8 s. It
delivers over real HTTPS to local receivers under public names (the emulator's network). A
receiver failing twice is retried on the queue (visibility backoff) to success; a dead one is
retried until the horizon has passed, then disabled (its ``endpoint.disabled`` transition written
to the audit table) and its message deleted, nothing in the DLQ. The dead endpoint's delivery
starts with the clock 54 s into its horizon (the task's ``first_at``), so the test waits seconds,
not the whole minute, for what the schedule decides.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from payment_core import contract
from payment_core.events.models import Event, event_id_for
from payment_core.events.store import EventStore
from payment_core.payments.repository import from_attributes, to_attributes
from payment_core.webhooks.delivery import DeliveryTask
from payment_core.webhooks.endpoints import Endpoints, EndpointStore, SecretBox

from lib.config import WebhooksConfig
from localcloud import LocalCloud
from testkit.account import key_schema
from testkit.merchant_receiver import VERIFIED, MerchantReceiver
from tests.localcloud.conftest import wait_for
from tests.localcloud.packaged import create_packaged_function

SHORT = WebhooksConfig(horizon_seconds=60, backoff_base_seconds=2, backoff_cap_seconds=8, secret_overlap_seconds=3600)
MERCHANT = "merchant-hooks"


@dataclass(frozen=True)
class Pipeline:
    aws: Callable[[str], Any]
    events_table: str
    audit_table: str
    queue_url: str
    dlq_url: str
    key_id: str

    def register(self, receiver: MerchantReceiver, failures: int) -> str:
        """``receiver`` as an endpoint (it verifies with the endpoint's secret), failing its next ``failures``."""
        store = EndpointStore(self.aws("dynamodb"), self.events_table)
        endpoints = Endpoints(store, SecretBox(self.aws("kms"), self.key_id), 3600)
        endpoint, receiver.secret = endpoints.create(MERCHANT, receiver.url(), ("*",))
        receiver.fail_next(failures)
        return endpoint.endpoint_id

    def new_event(self, payment_id: str) -> Event:
        created = "2027-01-15T08:00:00.000Z"
        event = Event(
            event_id=event_id_for("payment", payment_id, 3, created),
            type="payment.settled",
            created=created,
            merchant_id=MERCHANT,
            api_version=contract.EVENTS_API_VERSION,
            data={"object": {"object": "payment", "payment_id": payment_id}},
            expires_at=1_900_000_000,
        )
        assert EventStore(self.aws("dynamodb"), self.events_table).put(event)
        return event

    def deliver(self, event: Event, endpoint_id: str, first_at: float) -> None:
        task = DeliveryTask(MERCHANT, event.event_id, endpoint_id, first_at)
        self.aws("sqs").send_message(QueueUrl=self.queue_url, MessageBody=task.to_body(), MessageGroupId=MERCHANT)

    def item(self, table: str, key: dict[str, Any]) -> dict[str, Any]:
        found = self.aws("dynamodb").get_item(TableName=table, Key=to_attributes(key), ConsistentRead=True)["Item"]
        return from_attributes(found)

    def attempts(self, event: Event) -> list[tuple[int | None, str | None]]:
        stored = self.item(self.events_table, {"merchant_id": MERCHANT, "event_id": event.event_id})
        return [(a["status"], a["error"]) for a in stored.get("delivery_attempts", [])]

    def messages(self, url: str) -> int:
        names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        counts = self.aws("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        return sum(int(counts[name]) for name in names)


def _table(dynamodb: Any, name: str, variable: str) -> None:
    key = contract.TABLE_KEYS[variable]
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=key_schema(key),
        AttributeDefinitions=[{"AttributeName": a.name, "AttributeType": a.type} for a in key.attributes],
    )


@pytest.fixture(scope="module")
def pipeline(aws: Callable[[str], Any], role_arn: str) -> Pipeline:
    unique = uuid.uuid4().hex[:8]
    dynamodb, sqs, lambdas = aws("dynamodb"), aws("sqs"), aws("lambda")
    events_table, audit_table = f"payment-events-{unique}", f"payment-audit-{unique}"
    _table(dynamodb, events_table, contract.EVENTS_TABLE_NAME)
    _table(dynamodb, audit_table, contract.AUDIT_TABLE_NAME)
    key_id = aws("kms").create_key()["KeyMetadata"]["KeyId"]
    dlq_url = sqs.create_queue(QueueName=f"webhook-deliveries-dlq-{unique}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": SHORT.max_receive_count}
    queue_url = sqs.create_queue(
        QueueName=f"webhook-deliveries-{unique}",
        Attributes={"VisibilityTimeout": str(6 * 45), "RedrivePolicy": json.dumps(redrive)},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    variables = {
        contract.EVENTS_TABLE_NAME: events_table,
        contract.AUDIT_TABLE_NAME: audit_table,
        contract.WEBHOOK_QUEUE_URL: queue_url,
        contract.WEBHOOK_SECRET_KEY_ID: key_id,
        contract.WEBHOOK_HORIZON_SECONDS: str(SHORT.horizon_seconds),
        contract.WEBHOOK_BACKOFF_BASE_SECONDS: str(SHORT.backoff_base_seconds),
        contract.WEBHOOK_BACKOFF_CAP_SECONDS: str(SHORT.backoff_cap_seconds),
        "POWERTOOLS_TRACE_DISABLED": "1",
    }
    function_arn = create_packaged_function(lambdas, role_arn, contract.WEBHOOK_DELIVERY, unique, variables, timeout=45)
    lambdas.create_event_source_mapping(
        EventSourceArn=queue_arn,
        FunctionName=function_arn,
        BatchSize=1,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    return Pipeline(aws, events_table, audit_table, queue_url, dlq_url, key_id)


@pytest.fixture
def receiver(cloud: LocalCloud) -> Iterator[MerchantReceiver]:
    with MerchantReceiver([f"hooks-{uuid.uuid4().hex[:8]}.merchant.example"]).start(cloud.endpoint) as running:
        yield running


def test_a_receiver_failing_twice_is_retried_on_the_queue_to_success(
    pipeline: Pipeline, receiver: MerchantReceiver
) -> None:
    endpoint_id = pipeline.register(receiver, failures=2)
    event = pipeline.new_event("pay_retried")
    pipeline.deliver(event, endpoint_id, time.time())
    first, second, third = receiver.wait_for(3, timeout=120)
    assert [(r.status, r.signature) for r in (first, second, third)] == [(500, VERIFIED)] * 2 + [(200, VERIFIED)]
    assert first.body == second.body == third.body == json.dumps(event.to_public(), separators=(",", ":")).encode()
    # Each retry waited its backoff at least: 2 s then 4 s, jittered down to half at most.
    assert (second.received - first.received, third.received - second.received) >= (1.0, 2.0)
    wait_for(lambda: len(pipeline.attempts(event)) == 3, timeout=30)
    assert pipeline.attempts(event) == [(500, "HTTP 500"), (500, "HTTP 500"), (200, None)]
    wait_for(lambda: pipeline.messages(pipeline.queue_url) == 0, timeout=30)
    assert pipeline.messages(pipeline.dlq_url) == 0


def test_a_dead_endpoint_is_disabled_once_the_horizon_has_passed(
    pipeline: Pipeline, receiver: MerchantReceiver
) -> None:
    endpoint_id = pipeline.register(receiver, failures=1_000)
    event = pipeline.new_event("pay_dead")
    started = time.time()
    pipeline.deliver(event, endpoint_id, started - (SHORT.horizon_seconds - 6))
    endpoint_key = {"merchant_id": MERCHANT, "event_id": endpoint_id}
    wait_for(lambda: pipeline.item(pipeline.events_table, endpoint_key)["status"] == "disabled", timeout=120)
    wait_for(lambda: pipeline.messages(pipeline.queue_url) == 0, timeout=30)
    requests = receiver.requests
    # Retried (2, 4, 8 s waits, jittered) until an attempt failed past the horizon, which disabled it.
    assert len(requests) >= 2
    assert {(r.status, r.signature) for r in requests} == {(500, VERIFIED)}
    assert requests[-1].received - started >= 6
    assert pipeline.attempts(event) == [(500, "HTTP 500")] * len(requests)
    audit_key = {"payment_id": contract.WEBHOOK_ENDPOINT_AUDIT_PREFIX + endpoint_id, "sequence": 1}
    transition = pipeline.item(pipeline.audit_table, audit_key)
    assert (transition["object"], transition["from_status"], transition["to_status"]) == (
        "webhook_endpoint",
        "ENABLED",
        "DISABLED",
    )
    assert transition["snapshot"]["status"] == "disabled"
    # Nothing more is sent to it, and the message is gone: deleted, not dead-lettered.
    time.sleep(3)
    assert len(receiver.requests) == len(requests)
    assert pipeline.messages(pipeline.dlq_url) == 0
