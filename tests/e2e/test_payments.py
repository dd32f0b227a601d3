"""Payments through the deployed platform: API → workflow → final state, audit, notification."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest

from testkit.traffic import PlatformClient


def _body(
    customer_ref: str, merchant: str = "merchant-e2e", amount: str = "42.00", currency: str = "USD"
) -> dict[str, str]:
    return {"merchant_id": merchant, "amount": amount, "currency": currency, "customer_ref": customer_ref}


@pytest.fixture(scope="module")
def status_listener(platform: PlatformClient) -> str:
    """A test queue subscribed to the status topic, as a downstream consumer would be."""
    sqs, sns = platform.client("sqs"), platform.client("sns")
    url = sqs.create_queue(QueueName=f"status-listener-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=platform.outputs["status_topic_arn"], Protocol="sqs", Endpoint=arn)
    return str(url)


def _notifications(
    platform: PlatformClient, queue_url: str, payment_id: str, want: int, timeout: float = 60
) -> list[dict[str, Any]]:
    sqs, found, deadline = platform.client("sqs"), [], time.monotonic() + timeout
    while len(found) < want and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            envelope = json.loads(message["Body"])
            if payment_id in envelope.get("Message", ""):
                found.append(envelope)
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return found


def _submit(platform: PlatformClient, body: dict[str, str]) -> str:
    response = platform.create_payment(body, idempotency_key=str(uuid.uuid4()))
    assert response.status_code == 202, response.body
    assert response.json()["status"] == "PENDING"
    return str(response.json()["payment_id"])


def test_payment_settles_with_ordered_audit_and_notification(platform: PlatformClient, status_listener: str) -> None:
    payment_id = _submit(platform, _body("cust-e2e-1"))
    final = platform.wait_for_final([payment_id])[payment_id]
    assert final is not None and final["status"] == "SETTLED"
    trail = platform.audit_trail(payment_id)
    assert [int(entry["sequence"]) for entry in trail] == [1, 2, 3, 4]
    assert [entry["to_status"] for entry in trail] == ["PENDING", "VALIDATED", "AUTHORIZED", "SETTLED"]
    (notification,) = _notifications(platform, status_listener, payment_id, want=1)
    attributes = {name: value["Value"] for name, value in notification["MessageAttributes"].items()}
    assert attributes == {"status": "SETTLED", "merchant_id": "merchant-e2e"}

    response = platform.request("GET", f"/payments/{payment_id}")
    assert response.status_code == 200
    assert response.json()["status"] == "SETTLED"

    # Its events: one per transition, from the audit table's stream, on GET /events.
    events = _events_of(platform, payment_id, since=trail[0]["at"], want=4)
    assert [event["type"] for event in events] == [
        "payment.created",
        "payment.validated",
        "payment.authorized",
        "payment.settled",
    ]
    assert [event["data"]["object"]["status"] for event in events] == [e["to_status"] for e in trail]
    one = platform.request("GET", f"/events/{events[-1]['id']}")
    assert one.status_code == 200 and one.json()["id"] == events[-1]["id"]


def _events_of(platform: PlatformClient, payment_id: str, since: str, want: int, timeout: float = 60) -> list[Any]:
    """The payment's events on GET /events (every page from ``since``), once ``want`` have arrived."""
    deadline, found = time.monotonic() + timeout, []
    while time.monotonic() < deadline:
        found, token = [], None
        while True:
            query = {"from": since, "limit": "100"} | ({"next_token": token} if token else {})
            page = platform.request("GET", f"/events?{urlencode(query)}")
            assert page.status_code == 200, page.body
            found += [e for e in page.json()["items"] if e["data"]["object"]["payment_id"] == payment_id]
            token = page.json()["next_token"]
            if not token:
                break
        if len(found) >= want:
            break
        time.sleep(1)
    assert len(found) == want, found
    return found


@pytest.mark.parametrize(
    ("customer_ref", "merchant"), [("decline-e2e", "merchant-e2e"), ("cust-e2e-2", "merchant-blocked")]
)
def test_declined_and_rejected_payments_fail_through_compensation(
    platform: PlatformClient, status_listener: str, customer_ref: str, merchant: str
) -> None:
    payment_id = _submit(platform, _body(customer_ref, merchant=merchant))
    final = platform.wait_for_final([payment_id])[payment_id]
    assert final is not None and final["status"] == "FAILED"
    last = platform.audit_trail(payment_id)[-1]
    assert last["to_status"] == "FAILED"
    assert "compensation" in json.dumps(last, default=str)
    (notification,) = _notifications(platform, status_listener, payment_id, want=1)
    assert notification["MessageAttributes"]["status"]["Value"] == "FAILED"


def test_transient_processor_errors_are_retried_to_settlement(platform: PlatformClient) -> None:
    payment_id = _submit(platform, _body("flaky-e2e"))
    final = platform.wait_for_final([payment_id])[payment_id]
    assert final is not None and final["status"] == "SETTLED"
    assert int(final["processor_attempts"]) == 3


def test_duplicate_submissions_make_one_payment(platform: PlatformClient) -> None:
    before = platform.count_payments()
    key, body = str(uuid.uuid4()), _body("cust-e2e-dup")
    answers = {platform.create_payment(body, key).body for _ in range(5)}
    assert len(answers) == 1
    assert platform.count_payments() == before + 1
    # The five answers name one id; waiting on each answer's id reads it once (DynamoDB refuses
    # a BatchGetItem with repeated keys, which is how the demo first met this).
    ids = [json.loads(answer)["payment_id"] for answer in answers] * 5
    assert set(platform.wait_for_final(ids)) == set(ids)
    conflict = platform.create_payment(_body("cust-e2e-dup", amount="43.00"), key)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"]
