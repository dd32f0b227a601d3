"""Simulated card processor with outcomes fixed by the payment's ``customer_ref``.

Rules (case-insensitive prefix of ``customer_ref``), checked in this order:

* ``decline``     -> declined: ``PaymentDeclined("card_declined")``.
* ``unavailable`` -> ``TransientProcessorError`` on every attempt (retries run out and
  the execution compensates).
* ``flaky``       -> ``TransientProcessorError`` on attempts 1 and 2, approved on attempt 3.
  Attempts are counted durably in the payment's ``processor_attempts`` before each call,
  so the count survives Lambda retries and Step Functions' own retries.
* anything else   -> approved with ``processor_ref = "auth_" + sha256(payment_id)[:20]``.

Voiding an authorization always succeeds and returns ``"void_" + <processor_ref>``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from payment_core.errors import PaymentDeclined, TransientProcessorError
from payment_core.payments.models import Payment

FLAKY_FAILURES_BEFORE_SUCCESS = 2


@dataclass(frozen=True)
class Authorization:
    processor_ref: str


def authorize(payment: Payment, attempt: int) -> Authorization:
    ref = payment.customer_ref.lower()
    if ref.startswith("decline"):
        raise PaymentDeclined("card_declined")
    if ref.startswith("unavailable"):
        raise TransientProcessorError(f"processor unavailable (attempt {attempt})")
    if ref.startswith("flaky") and attempt <= FLAKY_FAILURES_BEFORE_SUCCESS:
        raise TransientProcessorError(f"processor timed out (attempt {attempt})")
    return Authorization(processor_ref=reference_for(payment.payment_id))


def reference_for(payment_id: str) -> str:
    """The reference an authorization of this payment carries (our request's idempotency key at
    the processor), known before the call: compensation can void it even if the answer was lost."""
    digest = hashlib.sha256(payment_id.encode()).hexdigest()
    return f"auth_{digest[:20]}"


def void(processor_ref: str) -> str:
    """Void an authorization; voiding one that was never issued is a no-op at the processor."""
    return f"void_{processor_ref}"
