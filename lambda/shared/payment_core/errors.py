"""Typed domain errors and their single mapping to HTTP.

Step Functions sees a Lambda error by the exception's class name, so the workflow
errors (``PaymentRejected``, ``PaymentDeclined``, ``TransientProcessorError``) are named
exactly as the state machine's Retry/Catch clauses expect them.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    http_status = 500
    code = "internal_error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def to_body(self) -> dict[str, Any]:
        return error_body(self.code, self.message, self.field)


class InvalidRequest(DomainError):
    """The client sent something malformed."""

    http_status = 400
    code = "invalid_request"


class PayloadTooLarge(DomainError):
    http_status = 413
    code = "payload_too_large"


class PaymentNotFound(DomainError):
    http_status = 404
    code = "not_found"


class IdempotencyConflict(DomainError):
    """Same Idempotency-Key, different request (or the first one is still running)."""

    http_status = 409
    code = "idempotency_conflict"


class PaymentConflict(DomainError):
    """A payment with this id already exists with different data."""

    http_status = 409
    code = "payment_conflict"


class InvalidTransition(DomainError):
    """A status change the lifecycle forbids, or one that lost a race."""

    http_status = 409
    code = "invalid_transition"


class PaymentRejected(DomainError):
    """Business rules refused the payment (Validate step)."""

    http_status = 422
    code = "payment_rejected"


class PaymentDeclined(DomainError):
    """The processor declined the payment (Process step)."""

    http_status = 402
    code = "payment_declined"


class TransientProcessorError(DomainError):
    """The processor failed in a way worth retrying (Process step)."""

    http_status = 503
    code = "processor_unavailable"


class BatchEnqueueError(DomainError):
    """Rows could not be queued even after retrying the failed entries."""

    code = "batch_enqueue_failed"


class BatchJobInProgress(DomainError):
    """Another invocation is processing the same S3 object right now."""

    http_status = 409
    code = "batch_job_in_progress"


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        error["field"] = field
    return {"error": error}
