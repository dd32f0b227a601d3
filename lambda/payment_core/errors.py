"""Typed domain errors. They say what went wrong, not how to answer it: the API maps them to
HTTP in one table (``payment_core.api.errors``).

Step Functions sees a Lambda error by the exception's class name, so the workflow errors
(``PaymentRejected``, ``PaymentDeclined``, ``TransientProcessorError``) carry exactly the
names the state machine's Retry/Catch clauses match (``contract.py``; a test holds them equal).
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidRequest(DomainError):
    """The client sent something malformed."""


class PayloadTooLarge(DomainError):
    """The request body is larger than the API accepts."""


class PaymentNotFound(DomainError):
    """No payment has this id."""


class EventNotFound(DomainError):
    """No event has this id (for the caller: another merchant's event is not found either)."""


class PaymentConflict(DomainError):
    """A payment with this id already exists with different data."""


class IdempotencyConflict(PaymentConflict):
    """An Idempotency-Key already used for a payment with other terms (the id is derived from the key)."""


class PaymentInProgress(DomainError):
    """Another request is storing this same payment at this moment (DynamoDB ``TransactionConflict``)."""


class InvalidTransition(DomainError):
    """A status change the lifecycle forbids, or one that lost a race."""


class PaymentRejected(DomainError):
    """Business rules refused the payment (Validate step)."""


class PaymentDeclined(DomainError):
    """The processor declined the payment (Process step)."""


class TransientProcessorError(DomainError):
    """The processor failed in a way worth retrying (Process step)."""


class NotCapturable(DomainError):
    """A capture or void the payment cannot take: captured automatically, not (or no longer) AUTHORIZED."""


class RequestConflict(DomainError):
    """A manual payment was already asked something else (capture vs void, another amount)."""


class WebhookEndpointNotFound(DomainError):
    """No webhook endpoint has this id (for the caller: another merchant's is not found either)."""


class RefundNotFound(DomainError):
    """No refund of this payment has this id (for the caller: another merchant's is not found either)."""


class NotRefundable(DomainError):
    """A refund of a payment that is not captured: before capture, voided, expired or failed."""


class RefundExceedsCaptured(DomainError):
    """A refund larger than what is left: captured minus pending and succeeded refunds."""


class TooManyRefunds(DomainError):
    """The payment already holds contract.MAX_REFUNDS_PER_PAYMENT refunds."""
