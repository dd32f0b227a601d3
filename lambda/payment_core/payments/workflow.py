"""The state machine's steps as plain functions over a repository.

Each step is safe to run twice (Lambda and Step Functions both retry): a step whose
work is already done returns the current state instead of acting again, and every
write is conditional on the status and version it read.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from payment_core import contract
from payment_core.errors import InvalidTransition, PaymentNotFound, PaymentRejected
from payment_core.payments.connector import (
    OPERATION_AUTHORIZE,
    OPERATION_VOID,
    AuthorizeRequest,
    ProcessorConnector,
    VoidRequest,
    authorization_ref,
    operation_key,
)
from payment_core.payments.models import Payment, PaymentStatus
from payment_core.payments.repository import PaymentRepository
from payment_core.rules import BusinessRules

ACTOR = "workflow"
MAX_REASON_LENGTH = 500
_COMPENSATE_ATTEMPTS = 3

_DONE_AFTER: dict[str, frozenset[PaymentStatus]] = {
    contract.STEP_VALIDATE: frozenset({PaymentStatus.VALIDATED, PaymentStatus.AUTHORIZED, PaymentStatus.SETTLED}),
    contract.STEP_PROCESS: frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.SETTLED}),
    contract.STEP_RECORD: frozenset({PaymentStatus.SETTLED}),
}


class StatusPublisher(Protocol):
    def publish(self, payment: Payment) -> str: ...


class MerchantStatus(Protocol):
    def is_active(self, merchant_id: str) -> bool: ...


def state_of(payment: Payment) -> dict[str, Any]:
    """What each step hands back to the state machine."""
    return {"payment_id": payment.payment_id, "status": payment.status.value}


def load_payment(repository: PaymentRepository, payment_id: str, merchant_id: str | None = None) -> Payment:
    """The stored payment, or ``PaymentNotFound``: for the workflow's steps, and (with ``merchant_id``)
    for a merchant's captures, voids and refunds, where another merchant's payment is answered
    exactly like one that does not exist."""
    payment = repository.get(payment_id)
    if payment is None or (merchant_id is not None and payment.merchant_id != merchant_id):
        raise PaymentNotFound(f"payment {payment_id} does not exist")
    return payment


def _already_done(step: str, payment: Payment, expected: PaymentStatus) -> bool:
    if payment.status in _DONE_AFTER[step]:
        return True
    if payment.status is not expected:
        raise InvalidTransition(
            f"{step}: payment {payment.payment_id} is {payment.status.value}, expected {expected.value}"
        )
    return False


def rule_breach(payment: Payment, rules: BusinessRules) -> str | None:
    if payment.currency not in rules.allowed_currencies:
        return f"currency {payment.currency} is not accepted"
    maximum = rules.amount_limits.maximum_for(payment.currency)
    if payment.amount > maximum:
        return f"amount exceeds the maximum of {maximum} {payment.currency}"
    if payment.merchant_id in rules.blocked_merchant_ids:
        return f"merchant {payment.merchant_id} is blocked"
    return None


def validate(
    repository: PaymentRepository, rules: BusinessRules, merchants: MerchantStatus, payment_id: str
) -> Payment:
    """PENDING -> VALIDATED, or PaymentRejected: a rule breach, or a merchant that is no longer
    active (disabled after the payment was accepted: the status is read now, strongly consistent)."""
    payment = load_payment(repository, payment_id)
    if _already_done(contract.STEP_VALIDATE, payment, PaymentStatus.PENDING):
        return payment
    breach = rule_breach(payment, rules)
    if breach is None and not merchants.is_active(payment.merchant_id):
        breach = f"merchant {payment.merchant_id} is not active"
    if breach is not None:
        raise PaymentRejected(breach)
    return repository.transition(payment, PaymentStatus.VALIDATED, ACTOR)


def process(repository: PaymentRepository, connector: ProcessorConnector, payment_id: str) -> Payment:
    payment = load_payment(repository, payment_id)
    if _already_done(contract.STEP_PROCESS, payment, PaymentStatus.VALIDATED):
        return payment
    attempt = repository.record_processor_attempt(payment)
    authorization = connector.authorize(
        AuthorizeRequest(
            idempotency_key=operation_key(OPERATION_AUTHORIZE, payment.payment_id),
            payment_id=payment.payment_id,
            amount=payment.amount,
            currency=payment.currency,
            customer_ref=payment.customer_ref,
            attempt=attempt,
        )
    )
    return repository.transition(
        payment,
        PaymentStatus.AUTHORIZED,
        ACTOR,
        detail={"processor_ref": authorization.reference, "attempt": str(attempt)},
        updates={"processor_ref": authorization.reference},
    )


def record(repository: PaymentRepository, payment_id: str) -> Payment:
    payment = load_payment(repository, payment_id)
    if _already_done(contract.STEP_RECORD, payment, PaymentStatus.AUTHORIZED):
        return payment
    return repository.transition(
        payment,
        PaymentStatus.SETTLED,
        ACTOR,
        updates={"amount_captured": payment.amount, "amount_refundable": payment.amount},
    )


def notify(repository: PaymentRepository, publisher: StatusPublisher, payment_id: str) -> Payment:
    payment = load_payment(repository, payment_id)
    publisher.publish(payment)
    return payment


def describe_failure(error: object) -> tuple[str, str]:
    """(error name, human reason) from a Step Functions ``{"Error", "Cause"}`` catch result.

    Lambda puts ``{"errorMessage", "errorType", "stackTrace"}`` JSON in ``Cause``; only
    the message is kept so no stack trace ends up in the payment or the audit trail.
    """
    if not isinstance(error, dict):
        return "UnknownError", "UnknownError: the workflow failed without an error description"
    name = str(error.get("Error") or "UnknownError")
    cause = error.get("Cause")
    message = ""
    if isinstance(cause, str):
        try:
            parsed = json.loads(cause)
        except ValueError:
            message = cause
        else:
            message = str(parsed.get("errorMessage", "")) if isinstance(parsed, dict) else cause
    reason = f"{name}: {message}" if message else name
    return name, reason[:MAX_REASON_LENGTH]


class NotABusinessOutcome(Exception):
    """Compensation was asked for an error that is not a business outcome: the payment stays as it is."""


def may_hold_authorization(payment: Payment, error_name: str) -> bool:
    """True if a processor call may have left an authorization, answered or not.

    ``process`` records each attempt (the intent) before calling the processor, so an
    authorization whose status write failed, or whose answer was lost to a timeout, is still
    known here. A decline answers the last attempt, so only earlier ones could hold money.
    """
    if payment.status is PaymentStatus.AUTHORIZED:
        return True
    answered_no = 1 if error_name == contract.PAYMENT_DECLINED else 0
    return payment.processor_attempts > answered_no


def compensate(repository: PaymentRepository, connector: ProcessorConnector, payment_id: str, error: object) -> Payment:
    """Mark the payment FAILED with its business reason, voiding any authorization it may hold."""
    name, reason = describe_failure(error)
    if name not in contract.BUSINESS_ERRORS:
        # FAILED always carries a business reason: an infrastructure error fails the execution
        # (alarmed, redrivable) instead of the payment.
        raise NotABusinessOutcome(f"compensate: {name} is not a business outcome; payment {payment_id} keeps its state")
    for _ in range(_COMPENSATE_ATTEMPTS):
        payment = load_payment(repository, payment_id)
        if payment.status in (PaymentStatus.SETTLED, PaymentStatus.FAILED):
            # Settled money is not taken back by a failed notification; FAILED is done.
            return payment
        detail: dict[str, Any] = {"error": name, "reason": reason, "compensation": "none"}
        if may_hold_authorization(payment, name):
            detail["compensation"] = "authorization_voided"
            processor_ref = payment.processor_ref or authorization_ref(payment.payment_id)
            voided = connector.void(VoidRequest(operation_key(OPERATION_VOID, payment.payment_id), processor_ref))
            detail["void_ref"] = voided.reference
        try:
            return repository.transition(
                payment,
                PaymentStatus.FAILED,
                ACTOR,
                detail=detail,
                updates={"failure_reason": reason},
            )
        except InvalidTransition:
            continue  # the payment moved under us; look again
    raise InvalidTransition(f"could not compensate payment {payment_id}: it keeps changing")
