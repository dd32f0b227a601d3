"""Refunds against moto: the api's routes, the reservation on the payment, and the workflow's
refund steps as the state machine's refund branch runs them."""

from __future__ import annotations

import json
from decimal import Decimal

from payment_core import contract
from payment_core.payments.connector import OPERATION_REFUND, operation_key

from testkit.api import VALID_BODY, stored_payment, workflow_step
from testkit.refunds import read, refund, run_refund, settled


def ledger(aws):
    return aws.handlers["workflow"].connector().ledger


def test_two_partial_refunds_then_a_third_is_refused_with_the_amounts_on_the_payment(aws, context):
    payment_id = settled(aws, context, "pay-1")
    status, first = refund(aws, context, payment_id, "r-1", {"amount": "100.00", "reason": "damaged"})
    assert status == 202
    assert first["refund_id"].startswith("re_")
    assert {k: first[k] for k in ("object", "payment_id", "amount", "currency", "status", "reason")} == {
        "object": "refund",
        "payment_id": payment_id,
        "amount": "100.00",
        "currency": "USD",
        "status": "PENDING",
        "reason": "damaged",
    }
    # Reserved at once: what is left is 25.50 while the first is still PENDING.
    assert refund(aws, context, payment_id, "r-2", {"amount": "25.51"}) == (
        409,
        {
            "error": {
                "code": "refund_exceeds_captured",
                "message": "refund of 25.51 exceeds what is left to refund: 25.50 USD",
                "field": "amount",
            }
        },
    )
    assert run_refund(aws, context, first["refund_id"]) == {"payment_id": first["refund_id"], "status": "SUCCEEDED"}
    status, rest = refund(aws, context, payment_id, "r-3")  # no body: all that is left
    assert (status, rest["amount"]) == (202, "25.50")
    run_refund(aws, context, rest["refund_id"])
    status, third = refund(aws, context, payment_id, "r-4", {"amount": "0.01"})
    assert (status, third["error"]["code"]) == (409, "refund_exceeds_captured")

    status, body = read(aws, context, f"/payments/{payment_id}")
    assert status == 200
    assert (body["amount_captured"], body["amount_refunded"], body["amount_refund_pending"]) == (
        "125.50",
        "125.50",
        "0.00",
    )
    assert [(r["refund_id"], r["amount"], r["status"]) for r in body["refunds"]] == [
        (first["refund_id"], "100.00", "SUCCEEDED"),
        (rest["refund_id"], "25.50", "SUCCEEDED"),
    ]
    assert "amount_refundable" not in body and "refund_ids" not in body
    # Exactly once at the processor per refund id, whatever was retried.
    run_refund(aws, context, first["refund_id"])
    for each in (first, rest):
        assert ledger(aws).times_performed(operation_key(OPERATION_REFUND, each["refund_id"])) == 1


def test_the_same_key_replays_the_refund_and_other_terms_conflict(aws, context):
    payment_id = settled(aws, context, "pay-1")
    first = refund(aws, context, payment_id, "r-1", {"amount": "10.00"})
    assert first[0] == 202
    assert refund(aws, context, payment_id, "r-1", {"amount": "10.0"}) == first
    status, body = refund(aws, context, payment_id, "r-1", {"amount": "11.00"})
    assert (status, body["error"]["code"]) == (409, "idempotency_conflict")
    assert stored_payment(aws, payment_id)["amount_refundable"] == Decimal("115.50")


def test_nothing_is_refunded_before_capture_or_after_a_void(aws, context):
    status, body = refund_before_settled(aws, context)
    assert status == 409
    assert body == {
        "error": {"code": "not_refundable", "message": body["error"]["message"]},
    }
    assert body["error"]["message"].endswith("is VALIDATED: only a captured payment is refunded")


def refund_before_settled(aws, context):
    payment_id = settled_until(aws, context, "pay-2", contract.STEP_VALIDATE)
    return refund(aws, context, payment_id, "r-1")


def settled_until(aws, context, key, last_step):
    from testkit.api import post

    _status, body = post(aws, context, VALID_BODY, key=key)
    workflow_step(aws, context, last_step, body["payment_id"])
    return body["payment_id"]


def test_another_merchants_payment_or_refund_is_not_found_like_a_missing_one(aws, context):
    payment_id = settled(aws, context, "pay-1")
    _status, made = refund(aws, context, payment_id, "r-1")
    path = f"/payments/{payment_id}/refunds/{made['refund_id']}"
    assert read(aws, context, path)[0] == 200
    missing = read(aws, context, f"/payments/{payment_id}/refunds/re_{'0' * 32}")
    assert missing[0] == 404
    other = read(aws, context, path, merchant_id="merchant-2")
    assert other == (404, {"error": {"code": "not_found", "message": f"payment {payment_id} does not exist"}})
    assert refund(aws, context, payment_id, "r-2", merchant_id="merchant-2")[0] == 404
    # A refund's id is no payment's.
    assert read(aws, context, f"/payments/{made['refund_id']}")[0] == 404


def test_a_card_number_in_the_reason_is_refused_and_nothing_reserved(aws, context):
    payment_id = settled(aws, context, "pay-1")
    status, body = refund(aws, context, payment_id, "r-1", {"reason": "card 4111111111111111"})
    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "cardholder_data", "reason")
    assert "4111111111111111" not in json.dumps(body)
    assert "refund_ids" not in stored_payment(aws, payment_id)


def test_a_declined_refund_fails_and_gives_the_reservation_back(aws, context):
    payment_id = settled(aws, context, "pay-1", customer_ref="norefund-balance")
    _status, made = refund(aws, context, payment_id, "r-1", {"amount": "50.00"})
    assert run_refund(aws, context, made["refund_id"]) == {"payment_id": made["refund_id"], "status": "FAILED"}
    _status, body = read(aws, context, f"/payments/{payment_id}/refunds/{made['refund_id']}")
    assert (body["status"], body["failure_reason"]) == ("FAILED", "PaymentDeclined: insufficient_funds")
    item = stored_payment(aws, payment_id)
    assert (item["amount_refundable"], item["amount_refund_pending"]) == (Decimal("125.50"), Decimal(0))
    assert [e["to_status"] for e in aws.audit(made["refund_id"])] == ["PENDING", "FAILED"]
    messages = [json.loads(json.loads(m["Body"])["Message"]) for m in aws.drain(aws.topic_probe_url)]
    assert [(m.get("refund_id"), m["status"]) for m in messages if "refund_id" in m] == [(made["refund_id"], "FAILED")]


def test_each_refund_transition_becomes_its_event(aws, context):
    from datetime import timedelta

    from payment_core.events.models import Event

    payment_id = settled(aws, context, "pay-1")
    _status, made = refund(aws, context, payment_id, "r-1", {"amount": "5.00"})
    run_refund(aws, context, made["refund_id"])
    events = [Event.from_audit(entry, timedelta(days=1)) for entry in aws.audit(made["refund_id"])]
    assert [e.type for e in events] == ["refund.created", "refund.succeeded"]
    assert events[-1].data["object"] | {"created": "", "updated": ""} == {
        "refund_id": made["refund_id"],
        "object": "refund",
        "payment_id": payment_id,
        "amount": "5.00",
        "currency": "USD",
        "status": "SUCCEEDED",
        "created": "",
        "updated": "",
    }
