"""The REST API against moto: exact status codes, bodies and stored effects."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from payment_core import contract
from payment_core.payments.models import PaymentStatus, open_shard
from payment_core.payments.repository import PaymentRepository

from testkit.account import Account
from testkit.api import VALID_BODY, call, post
from testkit.events import api_event, get_payment_event
from testkit.handlers import FakeContext


def refused(code: str, message: str, **more: str) -> dict[str, Any]:
    """The API's error body, spelled out: ``{"error": {"code", "message", and field or request_id}}``."""
    return {"error": {"code": code, "message": message, **more}}


INTERNAL_ERROR = "internal error; quote the request_id when reporting it"


def get(aws: Account, context: FakeContext, payment_id: str) -> tuple[int, dict[str, Any]]:
    return call(aws, context, get_payment_event(payment_id))


def test_create_payment_stores_pending_payment_audit_and_its_outbox_record(aws, context):
    status, body = post(aws, context, VALID_BODY)

    assert status == 202
    payment_id = body["payment_id"]
    assert body == {"payment_id": payment_id, "status": "PENDING"}
    assert payment_id.startswith("pay_") and len(payment_id) == 36
    [item] = aws.payments()
    assert item["created_at"] == item["updated_at"]
    assert item == {
        "payment_id": payment_id,
        "merchant_id": "merchant-1",
        "amount": Decimal("125.5"),
        "currency": "USD",
        "customer_ref": "cust-42",
        "description": "order 1001",
        "status": "PENDING",
        "version": Decimal(1),
        "created_at": item["created_at"],
        "updated_at": item["created_at"],
        "source": "api",
        "processor_attempts": Decimal(0),
        "capture_method": "automatic",
        # Non-final: in the sparse open-payments index the sweeper reads.
        contract.OPEN_SHARD_ATTRIBUTE: open_shard(payment_id),
    }
    assert [(a["sequence"], a["from_status"], a["to_status"], a["actor"]) for a in aws.audit(payment_id)] == [
        (Decimal(1), "NONE", "PENDING", "api")
    ]
    # The request only stores: the payment's stream record (the outbox) starts its workflow.
    assert aws.executions() == []
    assert aws.outbox_inserts() == [payment_id]
    assert aws.relay_outbox(context) == {"batchItemFailures": []}
    [execution] = aws.executions()
    assert execution["name"] == payment_id
    assert aws.execution_inputs() == [{"payment_id": payment_id}]


def test_idempotency_header_name_is_case_insensitive(aws, context):
    event = api_event("POST", "/payments", body=json.dumps(VALID_BODY), headers={"idempotency-key": "abc"})
    status, body = call(aws, context, event)
    assert status == 202
    assert body["status"] == "PENDING"


def test_same_request_twenty_times_makes_one_payment_and_one_execution(aws, context):
    answers = [post(aws, context, VALID_BODY, key="repeat-me") for _ in range(20)]

    assert {json.dumps(a, sort_keys=True) for a in answers} == {json.dumps((202, answers[0][1]), sort_keys=True)}
    assert len(aws.payments()) == 1
    assert len(aws.outbox_inserts()) == 1
    assert len(aws.audit(answers[0][1]["payment_id"])) == 1


class RecordingClient:
    """The real DynamoDB client, noting each operation the handler sends through it."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.operations: list[str] = []

    def __getattr__(self, name: str) -> Any:
        operation = getattr(self._client, name)
        if not callable(operation) or name.startswith("get_paginator"):
            return operation

        def recorded(*args: Any, **kwargs: Any) -> Any:
            self.operations.append(name)
            return operation(*args, **kwargs)

        return recorded


def test_a_new_payment_costs_one_aws_call_and_a_replay_one_more_read(aws, context):
    """The synchronous path sends only what it needs (issue #10): the transaction that stores
    the payment and its audit entry is also the Idempotency-Key's claim."""
    recording = RecordingClient(aws.dynamodb)
    aws.handlers["api"].runtime.dynamodb.override(recording)

    assert post(aws, context, VALID_BODY, key="once")[0] == 202
    assert recording.operations == ["transact_write_items"]
    assert post(aws, context, VALID_BODY, key="once")[0] == 202
    assert recording.operations == ["transact_write_items", "transact_write_items", "get_item"]


def test_same_key_different_body_is_409(aws, context):
    assert post(aws, context, VALID_BODY, key="k")[0] == 202
    status, body = post(aws, context, VALID_BODY | {"amount": "125.51"}, key="k")

    assert status == 409
    assert body == refused(
        "idempotency_conflict",
        "this Idempotency-Key was already used with a different request body",
        field="Idempotency-Key",
    )
    assert len(aws.payments()) == 1
    assert len(aws.outbox_inserts()) == 1


def test_different_keys_make_different_payments(aws, context):
    first = post(aws, context, VALID_BODY, key="a")[1]["payment_id"]
    second = post(aws, context, VALID_BODY, key="b")[1]["payment_id"]
    assert first != second
    assert len(aws.payments()) == 2
    assert sorted(aws.outbox_inserts()) == sorted([first, second])


def test_step_functions_being_down_cannot_fail_an_accepted_payment(aws, context):
    """POST /payments never calls Step Functions: the outbox starts the workflow later."""
    runtime = aws.handlers["api"].runtime

    class Broken:
        def start_execution(self, **_: Any) -> None:
            raise RuntimeError("step functions is down")

    runtime.stepfunctions.override(Broken())
    status, body = post(aws, context, VALID_BODY, key="down")

    assert status == 202
    assert aws.outbox_inserts() == [body["payment_id"]]


def test_the_payment_is_the_keys_record_for_as_long_as_it_exists(aws, context):
    """No separate idempotency record to expire: after the payment moved on, a replay still gets
    the first answer (GET shows where it is now), and other terms are still a conflict."""
    first = post(aws, context, VALID_BODY, key="old")
    payment_id = first[1]["payment_id"]
    repository = PaymentRepository(
        aws.dynamodb, aws.table(contract.PAYMENTS_TABLE_NAME), aws.table(contract.AUDIT_TABLE_NAME)
    )
    pending = repository.get(payment_id)
    assert pending is not None
    repository.transition(pending, PaymentStatus.VALIDATED, actor="test")

    assert post(aws, context, VALID_BODY, key="old") == first == (202, {"payment_id": payment_id, "status": "PENDING"})
    assert get(aws, context, payment_id)[1]["status"] == "VALIDATED"
    status, body = post(aws, context, VALID_BODY | {"customer_ref": "other"}, key="old")
    assert (status, body["error"]["code"]) == (409, "idempotency_conflict")
    assert len(aws.payments()) == 1
    assert len(aws.audit(payment_id)) == 2  # created, validated: the replays wrote nothing


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ("{not json", "invalid_request", None),
        ("[]", "invalid_request", None),
        ('{"amount": NaN}', "invalid_request", None),
        (json.dumps({k: v for k, v in VALID_BODY.items() if k != "amount"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"extra": 1}), "invalid_request", "extra"),
        (json.dumps(VALID_BODY | {"amount": 125.5}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"amount": "-1.00"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"amount": "0.00"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"amount": "1.001"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"amount": "10000.01"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"currency": "XYZ"}), "invalid_request", "currency"),
        (json.dumps(VALID_BODY | {"currency": "JPY", "amount": "10.5"}), "invalid_request", "amount"),
        (json.dumps(VALID_BODY | {"merchant_id": "bad id!"}), "invalid_request", "merchant_id"),
        (json.dumps(VALID_BODY | {"customer_ref": ""}), "invalid_request", "customer_ref"),
        (json.dumps(VALID_BODY | {"description": None}), "invalid_request", "description"),
        ('{"merchant_id": "a", "merchant_id": "b"}', "invalid_request", None),
        ("", "invalid_request", None),
        ("x" * 20_000, "payload_too_large", None),
    ],
)
def test_malformed_bodies_are_400_with_a_reason(aws, context, body, code, field):
    status, answer = post(aws, context, body)
    assert status == (413 if code == "payload_too_large" else 400)
    assert answer["error"]["code"] == code
    assert answer["error"].get("field") == field
    assert isinstance(answer["error"]["message"], str) and answer["error"]["message"]
    assert aws.payments() == []
    assert aws.executions() == []


def test_missing_idempotency_key_is_400(aws, context):
    status, body = post(aws, context, VALID_BODY, key=None)
    assert status == 400
    assert body == refused("invalid_request", "the Idempotency-Key header is required", field="Idempotency-Key")


def test_base64_body_is_decoded_and_bad_base64_is_400(aws, context):
    assert post(aws, context, json.dumps(VALID_BODY), base64_body=True)[0] == 202
    event = api_event("POST", "/payments", body="%%%", headers={"Idempotency-Key": "z"})
    event["isBase64Encoded"] = True
    status, body = call(aws, context, event)
    assert (status, body["error"]["message"]) == (400, "the body is not valid base64")


def test_get_payment_returns_payment_and_ordered_history(aws, context):
    payment_id = post(aws, context, VALID_BODY)[1]["payment_id"]
    workflow = aws.handlers["workflow"]
    workflow.handler({"step": "validate", "payment_id": payment_id}, context)
    workflow.handler({"step": "process", "payment_id": payment_id}, context)

    status, body = get(aws, context, payment_id)

    assert status == 200
    assert body["payment_id"] == payment_id
    assert body["amount"] == "125.50"
    assert body["status"] == "AUTHORIZED"
    assert body["version"] == 3
    assert body["processor_ref"].startswith("auth_")
    assert [(h["sequence"], h["from_status"], h["to_status"]) for h in body["history"]] == [
        (1, "NONE", "PENDING"),
        (2, "PENDING", "VALIDATED"),
        (3, "VALIDATED", "AUTHORIZED"),
    ]


def test_get_unknown_payment_is_404(aws, context):
    assert get(aws, context, "pay_missing") == (
        404,
        {"error": {"code": "not_found", "message": "payment pay_missing does not exist"}},
    )


def test_get_with_malformed_id_is_400(aws, context):
    status, body = get(aws, context, "bad.id")
    assert status == 400
    assert body["error"]["field"] == "payment_id"


def test_unknown_route_is_json_404(aws, context):
    status, body = call(aws, context, api_event("DELETE", "/payments"))
    assert (status, body) == (404, {"error": {"code": "not_found", "message": "no such resource"}})


def test_internal_failure_is_500_without_internals(aws, context):
    class Exploding:
        def get_item(self, **_: Any) -> None:
            raise RuntimeError("secret table name payments-test exploded")

    aws.handlers["api"].runtime.dynamodb.override(Exploding())
    status, body = get(aws, context, "pay_1")
    assert status == 500
    assert body == refused("internal_error", INTERNAL_ERROR, request_id="req-0000-1111")
