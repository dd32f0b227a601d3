"""Compensation: only business outcomes fail a payment, and any authorization it may hold is voided."""

from __future__ import annotations

import pytest

from testkit.api import accepted, stored_payment, workflow_step


def create(aws, context, key="comp", **overrides) -> str:
    return accepted(aws, context, key, **overrides)


step, payment = workflow_step, stored_payment


@pytest.mark.parametrize(
    "error",
    [None, {"Error": "States.Timeout"}, {"Error": "Lambda.TooManyRequestsException"}, {"Error": "Sandbox.Timedout"}],
)
def test_an_infrastructure_error_never_fails_the_payment(aws, context, error):
    # The state machine routes only business outcomes here; anything else is refused, so the
    # execution fails (alarmed, redrivable) and FAILED always carries a business reason.
    from payment_core.payments.workflow import NotABusinessOutcome

    payment_id = create(aws, context)
    with pytest.raises(NotABusinessOutcome, match="is not a business outcome"):
        step(aws, context, "compensate", payment_id, error=error)
    assert payment(aws, payment_id)["status"] == "PENDING"


def test_an_authorization_whose_status_write_failed_is_still_voided(aws, context, monkeypatch):
    """The processor authorized, then the VALIDATED -> AUTHORIZED write failed: the recorded
    attempt (written before the call) is the intent compensation voids by."""
    from payment_core.payments import workflow
    from payment_core.payments.connector import authorization_ref

    payment_id = create(aws, context)
    step(aws, context, "validate", payment_id)
    real_transition = workflow.PaymentRepository.transition

    def write_fails(self, current, target, actor, detail=None, updates=None):
        raise RuntimeError("ProvisionedThroughputExceededException")

    monkeypatch.setattr(workflow.PaymentRepository, "transition", write_fails)
    with pytest.raises(RuntimeError):
        step(aws, context, "process", payment_id)
    monkeypatch.setattr(workflow.PaymentRepository, "transition", real_transition)
    assert payment(aws, payment_id)["status"] == "VALIDATED"

    step(aws, context, "compensate", payment_id, error={"Error": "TransientProcessorError"})

    detail = aws.audit(payment_id)[-1]["detail"]
    assert detail["compensation"] == "authorization_voided"
    assert detail["void_ref"] == f"void_{authorization_ref(payment_id)}"


def test_a_single_declined_attempt_holds_nothing_to_void(aws, context):
    payment_id = create(aws, context, customer_ref="decline-1")
    step(aws, context, "validate", payment_id)
    with pytest.raises(Exception, match="card_declined"):
        step(aws, context, "process", payment_id)

    step(aws, context, "compensate", payment_id, error={"Error": "PaymentDeclined"})

    assert aws.audit(payment_id)[-1]["detail"]["compensation"] == "none"
