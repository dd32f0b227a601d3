"""The processor connector: the one interface every card processor is reached through.

Four operations, each carrying an idempotency key the processor deduplicates on (a retried or
redelivered call with the same key performs nothing twice and answers as the first did):

* ``authorize``: reserve the amount on the card; the reference the answer carries is known
  before the call (``authorization_ref``), so compensation can void an authorization whose
  answer was lost.
* ``capture``: take up to the authorized amount; what is not captured is released.
* ``void``: release an authorization not captured (voiding one never issued is a no-op).
* ``refund``: give back up to what was captured, once per refund id.

Outcomes are the workflow's domain errors: ``PaymentDeclined`` (final, a business outcome),
``TransientProcessorError`` (retried by the state machine). A connector is chosen per
environment by name (``contract.PROCESSOR_CONNECTOR``); ``connector_named`` builds it.
The idempotency keys are derived from our own ids (``operation_key``), never random, so a
retry of the same step always sends the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from payment_core import contract

OPERATION_AUTHORIZE = "authorize"
OPERATION_CAPTURE = "capture"
OPERATION_VOID = "void"
OPERATION_REFUND = "refund"
OPERATIONS = (OPERATION_AUTHORIZE, OPERATION_CAPTURE, OPERATION_VOID, OPERATION_REFUND)


def operation_key(operation: str, object_id: str) -> str:
    """The idempotency key of ``operation`` on ``object_id`` (a payment id, or a refund id)."""
    return f"{operation}:{object_id}"


def authorization_ref(payment_id: str) -> str:
    """The reference an authorization of this payment carries, known before the call."""
    digest = hashlib.sha256(payment_id.encode()).hexdigest()
    return f"auth_{digest[:20]}"


@dataclass(frozen=True)
class AuthorizeRequest:
    """What the processor is asked to authorize."""

    idempotency_key: str
    payment_id: str
    amount: Decimal
    currency: str
    customer_ref: str
    attempt: int  # 1 for the first call; counted durably by the caller before each call


@dataclass(frozen=True)
class CaptureRequest:
    """What the processor is asked to capture of an authorization."""

    idempotency_key: str
    processor_ref: str
    amount: Decimal  # at most the authorized amount; the rest is released
    authorized: Decimal
    currency: str


@dataclass(frozen=True)
class VoidRequest:
    """The authorization the processor is asked to release."""

    idempotency_key: str
    processor_ref: str


@dataclass(frozen=True)
class RefundRequest:
    """What the processor is asked to give back of a capture."""

    idempotency_key: str
    processor_ref: str
    amount: Decimal  # at most what is captured and not yet refunded
    currency: str
    customer_ref: str
    attempt: int


@dataclass(frozen=True)
class ProcessorAnswer:
    """What the processor answered: the reference of the operation it performed."""

    reference: str


class ProcessorConnector(Protocol):
    """What the workflow needs of a processor; every call is idempotent on its key."""

    name: str

    def authorize(self, request: AuthorizeRequest) -> ProcessorAnswer: ...

    def capture(self, request: CaptureRequest) -> ProcessorAnswer: ...

    def void(self, request: VoidRequest) -> ProcessorAnswer: ...

    def refund(self, request: RefundRequest) -> ProcessorAnswer: ...


def connector_named(name: str) -> ProcessorConnector:
    """The connector the environment names (``contract.PROCESSOR_CONNECTORS``); unknown -> ValueError."""
    from payment_core.payments.processor import SimulatorConnector

    factories: dict[str, Callable[[], ProcessorConnector]] = {contract.PROCESSOR_SIMULATOR: SimulatorConnector}
    if name not in factories:
        raise ValueError(f"{contract.PROCESSOR_CONNECTOR} must be one of {', '.join(factories)}, got {name!r}")
    return factories[name]()
