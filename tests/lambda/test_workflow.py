"""Workflow steps against moto: transitions, audit entries, processor rules, SNS."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from payment_core import contract
from payment_core.errors import (
    InvalidRequest,
    InvalidTransition,
    PaymentDeclined,
    PaymentNotFound,
    PaymentRejected,
    TransientProcessorError,
)

from testkit.api import VALID_BODY, post


def create(aws, context, key="wf", **overrides) -> str:
    merchant = overrides.get("merchant_id", VALID_BODY["merchant_id"])
    status, body = post(aws, context, VALID_BODY | overrides, key=key, merchant_id=merchant)
    assert status == 202
    return body["payment_id"]


def step(aws, context, name, payment_id, **extra):
    return aws.handlers["workflow"].handler({"step": name, "payment_id": payment_id, **extra}, context)


def payment(aws, payment_id):
    [item] = [p for p in aws.payments() if p["payment_id"] == payment_id]
    return item


def transitions(aws, payment_id):
    return [(int(a["sequence"]), a["from_status"], a["to_status"]) for a in aws.audit(payment_id)]


def notifications(aws):
    messages = aws.drain(aws.topic_probe_url)
    out = []
    for message in messages:
        envelope = json.loads(message["Body"])
        attributes = {k: v["Value"] for k, v in envelope["MessageAttributes"].items()}
        out.append((json.loads(envelope["Message"]), attributes))
    return out


def test_happy_path_settles_and_notifies(aws, context):
    payment_id = create(aws, context)

    assert step(aws, context, "validate", payment_id) == {"payment_id": payment_id, "status": "VALIDATED"}
    authorized = {"payment_id": payment_id, "status": "AUTHORIZED", "capture_method": "automatic"}
    assert step(aws, context, "process", payment_id) == authorized
    assert step(aws, context, "record", payment_id) == {"payment_id": payment_id, "status": "SETTLED"}
    assert step(aws, context, "notify", payment_id) == {"payment_id": payment_id, "status": "SETTLED"}

    item = payment(aws, payment_id)
    assert (item["status"], item["version"], item["processor_attempts"]) == ("SETTLED", 4, 1)
    assert transitions(aws, payment_id) == [
        (1, "NONE", "PENDING"),
        (2, "PENDING", "VALIDATED"),
        (3, "VALIDATED", "AUTHORIZED"),
        (4, "AUTHORIZED", "SETTLED"),
    ]
    assert aws.audit(payment_id)[2]["detail"] == {"processor_ref": item["processor_ref"], "attempt": "1"}
    [(message, attributes)] = notifications(aws)
    assert attributes == {"status": "SETTLED", "merchant_id": "merchant-1"}
    assert message == {
        "payment_id": payment_id,
        "merchant_id": "merchant-1",
        "status": "SETTLED",
        "amount": "125.50",
        "currency": "USD",
        "updated_at": item["updated_at"],
    }


def test_steps_are_safe_to_repeat(aws, context):
    payment_id = create(aws, context)
    for name in ("validate", "validate", "process", "process", "validate", "record", "record", "process"):
        step(aws, context, name, payment_id)
    assert payment(aws, payment_id)["status"] == "SETTLED"
    assert payment(aws, payment_id)["processor_attempts"] == 1
    assert len(transitions(aws, payment_id)) == 4


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"merchant_id": "merchant-blocked"}, "merchant merchant-blocked is blocked"),
    ],
)
def test_validate_rejects_business_rule_breaches(aws, context, overrides, reason):
    payment_id = create(aws, context, **overrides)
    with pytest.raises(PaymentRejected, match=reason):
        step(aws, context, "validate", payment_id)
    assert payment(aws, payment_id)["status"] == "PENDING"


def test_a_merchant_disabled_after_acceptance_has_its_payment_rejected_not_settled(aws, context):
    from payment_core.tenancy.merchants import MerchantDirectory, MerchantStatus

    payment_id = create(aws, context)  # merchant-1, ACTIVE when the payment was accepted
    MerchantDirectory(aws.dynamodb, aws.table(contract.MERCHANTS_TABLE_NAME)).set_status(
        "merchant-1", MerchantStatus.DISABLED
    )

    # A business rejection: the state machine routes PaymentRejected to Compensate (FAILED).
    with pytest.raises(PaymentRejected, match="merchant merchant-1 is not active"):
        step(aws, context, "validate", payment_id)
    assert payment(aws, payment_id)["status"] == "PENDING"
    step(aws, context, "compensate", payment_id, error={"Error": "PaymentRejected", "Cause": "{}"})
    assert payment(aws, payment_id)["status"] == "FAILED"


def test_a_merchant_never_onboarded_is_not_active(aws, context):
    payment_id = create(aws, context, merchant_id="merchant-unknown")
    with pytest.raises(PaymentRejected, match="merchant merchant-unknown is not active"):
        step(aws, context, "validate", payment_id)


def test_validate_applies_rules_current_at_run_time(aws, context, monkeypatch):
    payment_id = create(aws, context, amount="9000.00", currency="GBP")
    environment = aws.handlers["workflow"].runtime.environment
    monkeypatch.setenv(contract.MAX_PAYMENT_AMOUNT, "EUR=5000,GBP=5000,JPY=5000,USD=5000")
    environment.reset()
    with pytest.raises(PaymentRejected, match="amount exceeds the maximum of 5000 GBP"):
        step(aws, context, "validate", payment_id)
    monkeypatch.setenv(contract.ALLOWED_CURRENCIES, "USD")
    environment.reset()
    with pytest.raises(PaymentRejected, match="currency GBP is not accepted"):
        step(aws, context, "validate", payment_id)


def test_declined_payment_is_compensated_and_notified(aws, context):
    payment_id = create(aws, context, customer_ref="decline-me")
    step(aws, context, "validate", payment_id)
    with pytest.raises(PaymentDeclined) as raised:
        step(aws, context, "process", payment_id)
    assert type(raised.value).__name__ == "PaymentDeclined"

    error = {
        "Error": "PaymentDeclined",
        "Cause": json.dumps({"errorMessage": "card_declined", "errorType": "PaymentDeclined", "stackTrace": ["x"]}),
    }
    assert step(aws, context, "compensate", payment_id, error=error) == {
        "payment_id": payment_id,
        "status": "FAILED",
    }
    item = payment(aws, payment_id)
    assert item["failure_reason"] == "PaymentDeclined: card_declined"
    assert transitions(aws, payment_id)[-1] == (3, "VALIDATED", "FAILED")
    assert aws.audit(payment_id)[-1]["detail"] == {
        "error": "PaymentDeclined",
        "reason": "PaymentDeclined: card_declined",
        "compensation": "none",
    }
    step(aws, context, "notify", payment_id)
    [(message, attributes)] = notifications(aws)
    assert attributes == {"status": "FAILED", "merchant_id": "merchant-1"}
    assert message["failure_reason"] == "PaymentDeclined: card_declined"


def test_flaky_processor_succeeds_on_the_third_attempt_counted_durably(aws, context):
    payment_id = create(aws, context, customer_ref="flaky-1")
    step(aws, context, "validate", payment_id)
    for attempt in (1, 2):
        with pytest.raises(TransientProcessorError, match=f"attempt {attempt}"):
            step(aws, context, "process", payment_id)
        assert payment(aws, payment_id)["processor_attempts"] == attempt
    assert step(aws, context, "process", payment_id)["status"] == "AUTHORIZED"
    assert payment(aws, payment_id)["processor_attempts"] == 3


def test_unavailable_processor_never_succeeds(aws, context):
    payment_id = create(aws, context, customer_ref="UNAVAILABLE-7")
    step(aws, context, "validate", payment_id)
    for _ in range(5):
        with pytest.raises(TransientProcessorError):
            step(aws, context, "process", payment_id)
    assert payment(aws, payment_id)["processor_attempts"] == 5


def test_compensating_an_authorized_payment_voids_it(aws, context):
    payment_id = create(aws, context)
    step(aws, context, "validate", payment_id)
    step(aws, context, "process", payment_id)
    ref = payment(aws, payment_id)["processor_ref"]

    declined = {"Error": "PaymentDeclined", "Cause": json.dumps({"errorMessage": "card_declined"})}
    result = step(aws, context, "compensate", payment_id, error=declined)

    assert result["status"] == "FAILED"
    assert aws.audit(payment_id)[-1]["detail"] == {
        "error": "PaymentDeclined",
        "reason": "PaymentDeclined: card_declined",
        "compensation": "authorization_voided",
        "void_ref": f"void_{ref}",
    }
    # Nothing moves a failed payment again.
    with pytest.raises(InvalidTransition):
        step(aws, context, "record", payment_id)
    assert step(aws, context, "compensate", payment_id, error=declined)["status"] == "FAILED"
    assert len(transitions(aws, payment_id)) == 4


def test_compensate_leaves_a_settled_payment_settled(aws, context):
    payment_id = create(aws, context)
    for name in ("validate", "process", "record"):
        step(aws, context, name, payment_id)
    assert step(aws, context, "compensate", payment_id, error={"Error": "PaymentDeclined"})["status"] == "SETTLED"
    assert len(transitions(aws, payment_id)) == 4


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        ({"Error": "PaymentRejected", "Cause": "[1]"}, "PaymentRejected: [1]"),
        ({"Error": "PaymentRejected", "Cause": json.dumps({"errorType": "PaymentRejected"})}, "PaymentRejected"),
        ({"Error": "PaymentRejected", "Cause": 7}, "PaymentRejected"),
    ],
)
def test_compensate_records_a_reason_for_any_error_shape(aws, context, error, reason):
    payment_id = create(aws, context)
    step(aws, context, "compensate", payment_id, error=error)
    assert payment(aws, payment_id)["failure_reason"] == reason


def test_compensate_retries_when_the_payment_moves_underneath(aws, context, monkeypatch):
    from payment_core.payments import workflow

    payment_id = create(aws, context)
    real_transition = workflow.PaymentRepository.transition
    calls = []

    def racing(self, current, target, actor, detail=None, updates=None):
        calls.append(target)
        if len(calls) == 1:
            raise InvalidTransition("moved")
        return real_transition(self, current, target, actor, detail, updates)

    monkeypatch.setattr(workflow.PaymentRepository, "transition", racing)
    assert step(aws, context, "compensate", payment_id, error={"Error": "PaymentRejected"})["status"] == "FAILED"
    assert len(calls) == 2

    monkeypatch.setattr(
        workflow.PaymentRepository, "transition", lambda *a, **k: (_ for _ in ()).throw(InvalidTransition("x"))
    )
    other = create(aws, context, key="other")
    with pytest.raises(InvalidTransition, match="keeps changing"):
        step(aws, context, "compensate", other, error={"Error": "PaymentRejected"})


def test_stale_writer_cannot_overwrite_a_newer_state(aws, context):
    from payment_core.payments.models import PaymentStatus
    from payment_core.payments.repository import PaymentRepository

    payment_id = create(aws, context)
    repo = PaymentRepository(
        aws.dynamodb, aws.table(contract.PAYMENTS_TABLE_NAME), aws.table(contract.AUDIT_TABLE_NAME)
    )
    stale = repo.get(payment_id)
    repo.transition(stale, PaymentStatus.VALIDATED, "test")
    with pytest.raises(InvalidTransition, match="changed while moving"):
        repo.transition(stale, PaymentStatus.FAILED, "test")
    with pytest.raises(InvalidTransition, match="cannot go from PENDING to SETTLED"):
        repo.transition(stale, PaymentStatus.SETTLED, "test")
    with pytest.raises(InvalidTransition, match="no longer PENDING"):
        repo.record_processor_attempt(stale)
    assert transitions(aws, payment_id) == [(1, "NONE", "PENDING"), (2, "PENDING", "VALIDATED")]


def test_step_out_of_order_is_an_invalid_transition(aws, context):
    payment_id = create(aws, context)
    with pytest.raises(InvalidTransition, match=r"record: payment .* is PENDING, expected AUTHORIZED"):
        step(aws, context, "record", payment_id)


@pytest.mark.parametrize(
    ("event", "error"),
    [
        ({"step": "launch", "payment_id": "p1"}, InvalidRequest),
        ({"payment_id": "p1"}, InvalidRequest),
        ({"step": "validate", "payment_id": "bad id"}, InvalidRequest),
        ({"step": "validate", "payment_id": "pay_absent"}, PaymentNotFound),
    ],
)
def test_bad_events_raise(aws, context, event, error):
    with pytest.raises(error):
        aws.handlers["workflow"].handler(event, context)


def test_amounts_stay_decimal(aws, context):
    payment_id = create(aws, context, amount="0.10")
    step(aws, context, "validate", payment_id)
    assert payment(aws, payment_id)["amount"] == Decimal("0.1")
