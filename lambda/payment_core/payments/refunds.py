"""Refunds: what ``POST /payments/{id}/refunds`` accepts, and the workflow steps that carry it out.

Accepting is one transaction (payment_core.payments.refund_store): the amount is reserved on the
payment with a conditional write, so whatever the concurrency, pending + succeeded refunds never
exceed what was captured; a request that does not fit is refused (409) and reserves nothing.
The refund's item lands on the payments table's stream, and ``workflow_starter`` starts the
execution named after it (the payment state machine's refund branch): ``refund`` calls the
processor once per refund id (its idempotency key) and makes it SUCCEEDED; a business outcome
(decline, a processor still failing after its retries) reaches ``refund_fail``, which makes it
FAILED and gives the reservation back; infrastructure errors are retried like a payment's.
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from typing import Protocol

from payment_core import contract
from payment_core.errors import (
    IdempotencyConflict,
    InvalidTransition,
    NotRefundable,
    RefundExceedsCaptured,
    RefundNotFound,
    TooManyRefunds,
)
from payment_core.payments.connector import OPERATION_REFUND, ProcessorConnector, RefundRequest, operation_key
from payment_core.payments.models import PaymentStatus, format_timestamp, utc_now
from payment_core.payments.money import format_amount, parse_amount
from payment_core.payments.refund_models import FINAL_REFUND_STATUSES, Refund, RefundStatus, refund_id_for
from payment_core.payments.refund_store import Contended, PaymentMoved, RefundExists, RefundStore
from payment_core.payments.repository import PaymentRepository
from payment_core.payments.workflow import NotABusinessOutcome, describe_failure, load_payment

# Each lost race means another request moved the payment (it reserved, or stored this refund):
# a few reads settle it. Contention (TransactionConflict) waits a little, with jitter.
_ATTEMPTS = 8
_ANY_AMOUNT = Decimal(10) ** contract.AMOUNT_MAX_INTEGER_DIGITS


class RefundPublisher(Protocol):
    def publish_refund(self, refund: Refund) -> str: ...


def read_refund(
    repository: PaymentRepository, store: RefundStore, merchant_id: str, payment_id: str, refund_id: str
) -> Refund:
    load_payment(repository, payment_id, merchant_id)
    refund = store.get(refund_id)
    if refund is None or refund.payment_id != payment_id:
        raise RefundNotFound(f"refund {refund_id} of payment {payment_id} does not exist")
    return refund


def _replay(existing: Refund, wanted: Decimal | None, reason: str | None) -> Refund:
    if (existing.requested_amount, existing.reason) != (wanted, reason):
        raise IdempotencyConflict(
            f"the Idempotency-Key of refund {existing.refund_id} was already used with other terms"
        )
    return existing


def request_refund(
    repository: PaymentRepository,
    store: RefundStore,
    merchant_id: str,
    payment_id: str,
    idempotency_key: str,
    amount: object | None,
    reason: str | None,
) -> tuple[Refund, bool]:
    """Accept a refund (True) or find the one this key already created (False); else 404/409."""
    refund_id = refund_id_for(payment_id, idempotency_key)
    for attempt in range(_ATTEMPTS):
        payment = load_payment(repository, payment_id, merchant_id)
        captured = payment.amount_captured or Decimal(0)
        # Its form only here: more than is left is 409 refund_exceeds_captured, below, not a 400.
        wanted = None if amount is None else parse_amount(amount, payment.currency, _ANY_AMOUNT)
        existing = store.get(refund_id)
        if existing is not None:
            return _replay(existing, wanted, reason), False
        if payment.status is not PaymentStatus.SETTLED:
            raise NotRefundable(f"payment {payment_id} is {payment.status.value}: only a captured payment is refunded")
        legacy = payment.amount_refundable is None
        left = captured if legacy else payment.amount_refundable
        assert left is not None
        value = left if wanted is None else wanted
        if value > left or value <= 0:
            raise RefundExceedsCaptured(
                f"refund of {format_amount(value, payment.currency)} exceeds what is left to refund: "
                f"{format_amount(left, payment.currency)} {payment.currency}",
                "amount",
            )
        if len(payment.refund_ids) >= contract.MAX_REFUNDS_PER_PAYMENT:
            raise TooManyRefunds(f"payment {payment_id} already has {contract.MAX_REFUNDS_PER_PAYMENT} refunds")
        # The caller's merchant is the payment's (load_payment answers another's as not found).
        refund = Refund.pending(refund_id, payment, value, format_timestamp(utc_now()), requested=wanted, reason=reason)
        try:
            store.reserve(refund, captured if legacy else None)
        except (RefundExists, PaymentMoved):
            continue  # look again: a replay, or the payment moved under us
        except Contended:
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
            continue
        return refund, True
    raise InvalidTransition(f"payment {payment_id} keeps changing; retry the refund")


def _load(store: RefundStore, refund_id: str) -> Refund:
    refund = store.get(refund_id)
    if refund is None:
        raise RefundNotFound(f"refund {refund_id} does not exist")
    return refund


def run_refund(store: RefundStore, connector: ProcessorConnector, refund_id: str) -> Refund:
    """The ``refund`` step: the processor's refund (once per refund id), then SUCCEEDED."""
    refund = _load(store, refund_id)
    if refund.status in FINAL_REFUND_STATUSES:
        return refund  # a retried step whose work is done
    attempt = store.record_attempt(refund)
    answer = connector.refund(
        RefundRequest(
            idempotency_key=operation_key(OPERATION_REFUND, refund_id),
            processor_ref=refund.processor_ref,
            amount=refund.amount,
            currency=refund.currency,
            customer_ref=refund.customer_ref,
            attempt=attempt,
        )
    )
    detail = {"refund_ref": answer.reference, "attempt": str(attempt)}
    return store.finish(refund, RefundStatus.SUCCEEDED, format_timestamp(utc_now()), detail)


def fail_refund(store: RefundStore, refund_id: str, error: object) -> Refund:
    """The ``refund_fail`` step: a business outcome makes it FAILED and gives the reservation back."""
    name, reason = describe_failure(error)
    if name not in contract.BUSINESS_ERRORS:
        raise NotABusinessOutcome(f"refund_fail: {name} is not a business outcome; refund {refund_id} stays PENDING")
    for _ in range(_ATTEMPTS):
        refund = _load(store, refund_id)
        if refund.status in FINAL_REFUND_STATUSES:
            return refund
        detail = {"error": name, "reason": reason}
        try:
            return store.finish(refund, RefundStatus.FAILED, format_timestamp(utc_now()), detail, reason)
        except InvalidTransition:
            continue
    raise InvalidTransition(f"could not fail refund {refund_id}: it keeps changing")


def notify_refund(store: RefundStore, publisher: RefundPublisher, refund_id: str) -> Refund:
    refund = _load(store, refund_id)
    publisher.publish_refund(refund)
    return refund
