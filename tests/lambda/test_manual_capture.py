"""Manual capture and void against moto: the api's routes and the workflow's steps, as the state
machine runs them (AwaitCapture stores the token; the ask wakes it; Release or Expire acts)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from payment_core import contract
from payment_core.errors import InvalidTransition
from payment_core.payments.connector import OPERATION_CAPTURE, OPERATION_VOID, operation_key
from payment_core.payments.models import Payment, PaymentStatus
from payment_core.payments.repository import PaymentRepository

from testkit.api import VALID_BODY, call, post, stored_payment, workflow_step
from testkit.environment import TABLES
from testkit.events import api_event

TOKEN = "token-1"


class Waker:
    """Records each wake-up instead of calling SendTaskSuccess."""

    def __init__(self) -> None:
        self.woken: list[tuple[str, str]] = []

    def wake(self, task_token: str, payment: Payment) -> None:
        self.woken.append((task_token, payment.payment_id))


@pytest.fixture
def waker(aws):
    fake = Waker()
    aws.handlers["api"].waker.override(fake)
    aws.handlers["workflow"].waker.override(fake)
    return fake


def ledger(aws):
    return aws.handlers["workflow"].connector().ledger


def authorized(aws, context, key="manual-1", **overrides) -> str:
    status, body = post(aws, context, VALID_BODY | {"capture": contract.CAPTURE_MANUAL} | overrides, key=key)
    assert status == 202, body
    payment_id = body["payment_id"]
    workflow_step(aws, context, "validate", payment_id)
    assert workflow_step(aws, context, "process", payment_id) == {
        "payment_id": payment_id,
        "status": "AUTHORIZED",
        "capture_method": "manual",
    }
    return payment_id


def ask(aws, context, payment_id, action, body=None, merchant_id="merchant-1"):
    path = f"/payments/{payment_id}/{action}"
    text = None if body is None else json.dumps(body)
    return call(aws, context, api_event("POST", path, body=text, merchant_id=merchant_id))


def get(aws, context, payment_id, merchant_id="merchant-1"):
    return call(aws, context, api_event("GET", f"/payments/{payment_id}", merchant_id=merchant_id))


def test_a_manual_payment_rests_authorized_outside_the_open_index_with_its_token_hidden(aws, context, waker):
    payment_id = authorized(aws, context)
    workflow_step(aws, context, "await_capture", payment_id, task_token=TOKEN)

    item = stored_payment(aws, payment_id)
    assert item["task_token"] == TOKEN
    assert contract.OPEN_SHARD_ATTRIBUTE not in item  # the execution's timeout owns it, not the sweeper
    status, body = get(aws, context, payment_id)
    assert status == 200
    assert (body["status"], body["capture_method"], body["amount_captured"]) == ("AUTHORIZED", "manual", "0.00")
    assert "task_token" not in body
    assert waker.woken == []


def test_a_partial_capture_wakes_the_execution_and_settles_releasing_the_rest_once(aws, context, waker):
    payment_id = authorized(aws, context)
    workflow_step(aws, context, "await_capture", payment_id, task_token=TOKEN)

    answer = ask(aws, context, payment_id, "capture", {"amount": "100.00"})
    assert answer == (
        202,
        {"payment_id": payment_id, "status": "AUTHORIZED", "requested_action": "capture", "requested_amount": "100.00"},
    )
    assert ask(aws, context, payment_id, "capture", {"amount": "100.0"}) == answer  # the same ask, parsed
    assert waker.woken == [(TOKEN, payment_id), (TOKEN, payment_id)]

    assert workflow_step(aws, context, "release", payment_id)["status"] == "SETTLED"
    assert workflow_step(aws, context, "release", payment_id)["status"] == "SETTLED"  # a retried step
    _status, body = get(aws, context, payment_id)
    assert (body["status"], body["amount"], body["amount_captured"]) == ("SETTLED", "125.50", "100.00")
    last = body["history"][-1]
    assert (last["from_status"], last["to_status"]) == ("AUTHORIZED", "SETTLED")
    assert {k: last["detail"][k] for k in ("action", "amount_captured", "amount_released")} == {
        "action": "capture",
        "amount_captured": "100.00",
        "amount_released": "25.50",
    }
    assert ledger(aws).times_performed(operation_key(OPERATION_CAPTURE, payment_id)) == 1
    assert [e.amount for e in ledger(aws).performed(OPERATION_CAPTURE)] == [Decimal("100.00")]


def test_an_ask_before_the_token_is_stored_is_woken_by_the_await_step(aws, context, waker):
    payment_id = authorized(aws, context)
    assert ask(aws, context, payment_id, "void")[0] == 202
    assert waker.woken == []  # no token yet
    workflow_step(aws, context, "await_capture", payment_id, task_token=TOKEN)
    assert waker.woken == [(TOKEN, payment_id)]
    assert workflow_step(aws, context, "release", payment_id)["status"] == "VOIDED"
    assert ledger(aws).times_performed(operation_key(OPERATION_VOID, payment_id)) == 1
    assert stored_payment(aws, payment_id)["status"] == "VOIDED"
    assert aws.audit(payment_id)[-1]["detail"]["action"] == "void"


def test_a_second_different_ask_is_a_conflict(aws, context, waker):
    payment_id = authorized(aws, context)
    ask(aws, context, payment_id, "capture")
    expected = {"error": {"code": "request_conflict", "message": f"payment {payment_id} was already asked to capture"}}
    assert ask(aws, context, payment_id, "void") == (409, expected)
    assert ask(aws, context, payment_id, "capture", {"amount": "1.00"}) == (409, expected)


def test_a_capture_above_the_authorized_amount_is_refused(aws, context, waker):
    payment_id = authorized(aws, context)
    assert ask(aws, context, payment_id, "capture", {"amount": "125.51"}) == (
        400,
        {"error": {"code": "invalid_request", "message": "amount must not exceed 125.50", "field": "amount"}},
    )
    assert ask(aws, context, payment_id, "capture", {"amount": "1", "tip": "2"})[1]["error"]["field"] == "tip"


def test_an_automatic_payment_cannot_be_captured_or_voided(aws, context, waker):
    _status, body = post(aws, context, VALID_BODY, key="auto-1")
    payment_id = body["payment_id"]
    for action in ("capture", "void"):
        assert ask(aws, context, payment_id, action) == (
            409,
            {"error": {"code": "not_capturable", "message": f"payment {payment_id} is captured automatically"}},
        )


def test_another_merchants_payment_answers_exactly_like_a_missing_one(aws, context, waker):
    payment_id = authorized(aws, context)
    missing = "pay_" + "0" * 32
    for action in ("capture", "void"):
        theirs = ask(aws, context, payment_id, action, merchant_id="merchant-2")
        nothing = ask(aws, context, missing, action, merchant_id="merchant-2")
        assert theirs[0] == nothing[0] == 404
        assert theirs[1]["error"]["code"] == nothing[1]["error"]["code"] == "not_found"
    assert stored_payment(aws, payment_id).get("requested_action") is None


def test_an_authorization_not_captured_in_its_window_expires_voided(aws, context, waker):
    payment_id = authorized(aws, context)
    workflow_step(aws, context, "await_capture", payment_id, task_token=TOKEN)
    assert workflow_step(aws, context, "expire", payment_id)["status"] == "EXPIRED"
    assert workflow_step(aws, context, "expire", payment_id)["status"] == "EXPIRED"
    assert aws.audit(payment_id)[-1]["detail"]["action"] == "expire"
    assert ledger(aws).times_performed(operation_key(OPERATION_VOID, payment_id)) == 1
    assert ask(aws, context, payment_id, "capture") == (
        409,
        {"error": {"code": "not_capturable", "message": f"payment {payment_id} is EXPIRED, not AUTHORIZED"}},
    )


def test_an_ask_whose_wake_up_was_lost_is_carried_out_at_expiry(aws, context, waker):
    payment_id = authorized(aws, context)
    ask(aws, context, payment_id, "capture", {"amount": "5.00"})
    assert workflow_step(aws, context, "expire", payment_id)["status"] == "SETTLED"
    assert stored_payment(aws, payment_id)["amount_captured"] == Decimal("5.00")


def test_an_expiry_never_overtakes_an_ask_recorded_after_it_read_the_payment(aws, context, waker):
    payment_id = authorized(aws, context)
    tables = (TABLES[contract.PAYMENTS_TABLE_NAME], TABLES[contract.AUDIT_TABLE_NAME])
    repository = PaymentRepository(aws.dynamodb, *tables)
    read_before = repository.get(payment_id)
    ask(aws, context, payment_id, "void")
    with pytest.raises(InvalidTransition):
        repository.transition(read_before, PaymentStatus.EXPIRED, "workflow", without_request=True)
    assert stored_payment(aws, payment_id)["status"] == "AUTHORIZED"
