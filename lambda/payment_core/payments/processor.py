"""The simulated card processor: a connector whose outcomes are fixed by the payment's ``customer_ref``.

Test values (case-insensitive prefix of ``customer_ref``, documented for merchants in docs/api.md):

* ``decline``     -> authorize declined: ``PaymentDeclined("card_declined")``.
* ``unavailable`` -> authorize fails with ``TransientProcessorError`` on every attempt (retries run
  out and the execution compensates).
* ``flaky``       -> authorize times out (``TransientProcessorError``) on attempts 1 and 2, approved
  on attempt 3. Attempts are counted durably by the caller before each call.
* ``norefund``    -> authorized and captured, but every refund is declined:
  ``PaymentDeclined("insufficient_funds")`` (the merchant's balance cannot cover it).
* ``refundflaky`` -> refunds time out on attempts 1 and 2, succeed on attempt 3.
* anything else   -> approved; captures, voids and refunds succeed.

Like a real processor it deduplicates on the idempotency key: a call whose key already took
effect performs nothing and answers as the first did. Its ``ledger`` records every call it was
asked (per execution environment), so tests can assert "exactly once at the processor".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from decimal import Decimal

from payment_core import contract
from payment_core.errors import PaymentDeclined, TransientProcessorError
from payment_core.payments.connector import (
    OPERATION_AUTHORIZE,
    OPERATION_CAPTURE,
    OPERATION_REFUND,
    OPERATION_VOID,
    AuthorizeRequest,
    CaptureRequest,
    ProcessorAnswer,
    RefundRequest,
    VoidRequest,
    authorization_ref,
)

FLAKY_FAILURES_BEFORE_SUCCESS = 2

# The test values above, by outcome: the connector contract test drives any connector with its own.
TEST_VALUES = {
    "approve": "cust-approved",
    "decline": "decline-card",
    "unavailable": "unavailable-processor",
    "flaky": "flaky-network",
    "refund_declined": "norefund-balance",
    "refund_flaky": "refundflaky-network",
}

PERFORMED = "performed"
REPLAYED = "replayed"
DECLINED = "declined"
TRANSIENT = "transient"


@dataclass(frozen=True)
class LedgerEntry:
    """One call the simulated processor took, and what came of it."""

    operation: str
    idempotency_key: str
    outcome: str  # PERFORMED, REPLAYED (same key, no new effect), DECLINED or TRANSIENT
    amount: Decimal | None = None
    reference: str | None = None


@dataclass
class ProcessorLedger:
    """Every call the simulator was asked, in order, and the effects it performed by key."""

    entries: list[LedgerEntry] = field(default_factory=list)
    effects: dict[str, LedgerEntry] = field(default_factory=dict)

    def performed(self, operation: str) -> list[LedgerEntry]:
        return [entry for entry in self.entries if entry.operation == operation and entry.outcome == PERFORMED]

    def times_performed(self, idempotency_key: str) -> int:
        return sum(1 for each in self.entries if each.idempotency_key == idempotency_key and each.outcome == PERFORMED)


def _declined(reason: str) -> PaymentDeclined:
    return PaymentDeclined(reason)


class SimulatorConnector:
    name = contract.PROCESSOR_SIMULATOR

    def __init__(self) -> None:
        self.ledger = ProcessorLedger()
        self._lock = threading.Lock()

    def _once(self, operation: str, key: str, amount: Decimal | None, reference: str) -> ProcessorAnswer:
        with self._lock:
            done = self.ledger.effects.get(key)
            if done is not None:
                self.ledger.entries.append(LedgerEntry(operation, key, REPLAYED, done.amount, done.reference))
                return ProcessorAnswer(reference=str(done.reference))
            entry = LedgerEntry(operation, key, PERFORMED, amount, reference)
            self.ledger.entries.append(entry)
            self.ledger.effects[key] = entry
            return ProcessorAnswer(reference=reference)

    def _refuse(self, operation: str, key: str, outcome: str, error: Exception) -> Exception:
        with self._lock:
            self.ledger.entries.append(LedgerEntry(operation, key, outcome))
        return error

    def authorize(self, request: AuthorizeRequest) -> ProcessorAnswer:
        ref = request.customer_ref.lower()
        key = request.idempotency_key
        if ref.startswith("decline"):
            raise self._refuse(OPERATION_AUTHORIZE, key, DECLINED, _declined("card_declined"))
        if ref.startswith("unavailable"):
            error = TransientProcessorError(f"processor unavailable (attempt {request.attempt})")
            raise self._refuse(OPERATION_AUTHORIZE, key, TRANSIENT, error)
        if ref.startswith("flaky") and request.attempt <= FLAKY_FAILURES_BEFORE_SUCCESS:
            error = TransientProcessorError(f"processor timed out (attempt {request.attempt})")
            raise self._refuse(OPERATION_AUTHORIZE, key, TRANSIENT, error)
        return self._once(OPERATION_AUTHORIZE, key, request.amount, authorization_ref(request.payment_id))

    def capture(self, request: CaptureRequest) -> ProcessorAnswer:
        if not Decimal(0) < request.amount <= request.authorized:
            error = _declined("amount_exceeds_authorization")
            raise self._refuse(OPERATION_CAPTURE, request.idempotency_key, DECLINED, error)
        reference = f"cap_{request.processor_ref}"
        return self._once(OPERATION_CAPTURE, request.idempotency_key, request.amount, reference)

    def void(self, request: VoidRequest) -> ProcessorAnswer:
        """Voiding an authorization never issued is a no-op at the processor: it always answers."""
        return self._once(OPERATION_VOID, request.idempotency_key, None, f"void_{request.processor_ref}")

    def refund(self, request: RefundRequest) -> ProcessorAnswer:
        ref = request.customer_ref.lower()
        key = request.idempotency_key
        if ref.startswith("norefund"):
            raise self._refuse(OPERATION_REFUND, key, DECLINED, _declined("insufficient_funds"))
        if ref.startswith("refundflaky") and request.attempt <= FLAKY_FAILURES_BEFORE_SUCCESS:
            error = TransientProcessorError(f"processor timed out (attempt {request.attempt})")
            raise self._refuse(OPERATION_REFUND, key, TRANSIENT, error)
        return self._once(OPERATION_REFUND, key, request.amount, f"re_{key.split(':', 1)[-1]}")
