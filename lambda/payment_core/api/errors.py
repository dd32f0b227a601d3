"""Errors → HTTP: the one table the API answers every error from.

An exception answers with the entry of the nearest class in its MRO; ``Exception`` is the
catch-all 500, which names the request id and nothing of the internals. The message and
field are the exception's own unless the entry fixes them (a route the function does not have,
and the Idempotency-Key answers, which speak of the key rather than of the payment id). Anything
listed here reaches no other layer: domain exceptions carry no HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, Final

from payment_core import contract
from payment_core.api.requests import IDEMPOTENCY_HEADER
from payment_core.api.routing import NoSuchRoute
from payment_core.errors import (
    DomainError,
    EventNotFound,
    IdempotencyConflict,
    InvalidRequest,
    InvalidTransition,
    NotCapturable,
    NotRefundable,
    PayloadTooLarge,
    PaymentConflict,
    PaymentInProgress,
    PaymentNotFound,
    RefundExceedsCaptured,
    RefundNotFound,
    RequestConflict,
    TooManyRefunds,
    WebhookEndpointNotFound,
)
from payment_core.tenancy.callers import CardholderDataRefused, MerchantMismatch


@dataclass(frozen=True)
class HttpError:
    """How one kind of error is answered: its status, its code and, if set, the message and field it shows."""

    status: int
    code: str
    message: str | None = None  # None: the exception's own message
    field: str | None = None  # None: the exception's own field, if it has one


_NOT_FOUND = HttpError(404, "not_found")

HTTP_ERRORS: Final = MappingProxyType(
    {
        InvalidRequest: HttpError(400, "invalid_request"),
        PayloadTooLarge: HttpError(413, "payload_too_large"),
        PaymentNotFound: _NOT_FOUND,
        EventNotFound: _NOT_FOUND,
        WebhookEndpointNotFound: _NOT_FOUND,
        MerchantMismatch: HttpError(403, "merchant_mismatch"),
        CardholderDataRefused: HttpError(400, "cardholder_data"),
        NoSuchRoute: replace(_NOT_FOUND, message="no such resource"),
        PaymentConflict: HttpError(409, "payment_conflict"),
        InvalidTransition: HttpError(409, "invalid_transition"),
        NotCapturable: HttpError(409, contract.NOT_CAPTURABLE),
        RequestConflict: HttpError(409, contract.REQUEST_CONFLICT),
        RefundNotFound: _NOT_FOUND,
        NotRefundable: HttpError(409, contract.NOT_REFUNDABLE),
        RefundExceedsCaptured: HttpError(409, contract.REFUND_EXCEEDS_CAPTURED),
        TooManyRefunds: HttpError(409, contract.TOO_MANY_REFUNDS),
        IdempotencyConflict: HttpError(
            409,
            "idempotency_conflict",
            "this Idempotency-Key was already used with a different request body",
            IDEMPOTENCY_HEADER,
        ),
        PaymentInProgress: HttpError(
            409,
            "idempotency_in_progress",
            "a request with this Idempotency-Key is still being processed; retry later",
            IDEMPOTENCY_HEADER,
        ),
        Exception: HttpError(500, "internal_error", "internal error; quote the request_id when reporting it"),
    }
)


def http_error_for(error: Exception) -> HttpError:
    """The entry of the nearest class of ``error`` in the table (``Exception`` at the latest)."""
    return next(HTTP_ERRORS[kind] for kind in type(error).__mro__ if kind in HTTP_ERRORS)


def error_body(error: Exception, answer: HttpError, request_id: str | None = None) -> dict[str, Any]:
    own_message, own_field = (error.message, error.field) if isinstance(error, DomainError) else (str(error), None)
    body: dict[str, Any] = {"code": answer.code, "message": answer.message or own_message}
    field = answer.field or own_field
    if field is not None:
        body["field"] = field
    if request_id is not None:
        body["request_id"] = request_id
    return {"error": body}
