"""The REST API's part of the contract: every route, its parameters and its request and answer shapes.

One table (``ROUTES``) that three readers build from, so they cannot drift: the stack
(``lib/components/api.py``: API Gateway resources, methods, required parameters and request
models), the OpenAPI document merchants get (``lib/openapi.py`` → ``docs/openapi.json``), and
schemathesis, which drives the deployed API with that document. A new route is a ``Route`` here
(and its handler); the stack and the document follow by construction.

Request bodies are JSON Schema draft-04 objects (what API Gateway models speak; also valid in
OpenAPI 3.0) built from the limits in ``payment_core.contract``, which the handlers validate again
with exact messages. Answer shapes are JSON Schema too, written against what the handlers return
(``Payment.to_public`` and friends); ``additionalProperties: false`` everywhere, so a field the
document does not name fails schemathesis' response check.

Stdlib only, like ``contract``: the stack imports it without the layer's packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from payment_core import contract

# --- Versions -------------------------------------------------------------------------------
# A merchant pins the API's behaviour by sending this header with a dated version; without it a
# request gets the latest. Every answer names the version it was served with. A breaking change
# ships as a new dated version appended here (docs/api.md, "Versions").
API_VERSION_HEADER: Final = "Payment-Platform-Version"
API_VERSIONS: Final[tuple[str, ...]] = ("2026-12-01",)
LATEST_API_VERSION: Final = API_VERSIONS[-1]

# --- Shared limits ----------------------------------------------------------------------------
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
# 1-255 visible ASCII characters (``!``..``~``), what the handler checks.
IDEMPOTENCY_KEY_PATTERN: Final = "^[!-~]+$"

PAYMENT_STATUSES: Final[tuple[str, ...]] = ("PENDING", "VALIDATED", "AUTHORIZED", "SETTLED", "FAILED")
# The audit entry of a payment's creation comes from this pseudo-status.
NO_STATUS: Final = "NONE"


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


# --- Request bodies (draft-04: API Gateway models) ---------------------------------------------
CREATE_PAYMENT: Final = "CreatePayment"
REQUEST_MODELS: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        # merchant_id is optional: the merchant is the secret key's (a differing one is 403).
        CREATE_PAYMENT: _object(
            ["amount", "currency", "customer_ref"],
            {
                "merchant_id": {"type": "string", "pattern": contract.MERCHANT_ID_PATTERN},
                "amount": {"type": "string", "pattern": contract.AMOUNT_PATTERN},
                "currency": {"type": "string", "pattern": contract.CURRENCY_PATTERN},
                "customer_ref": _text(contract.MAX_CUSTOMER_REF_LENGTH),
                "description": _text(contract.MAX_DESCRIPTION_LENGTH),
            },
        ),
    }
)

# --- Answers ------------------------------------------------------------------------------------
_TIMESTAMP = {"type": "string", "format": "date-time"}
# What a list query's bounds accept: any ISO-8601 form (a date alone, no offset = UTC), wider than
# RFC 3339's date-time, so not declared as one (a schema narrower than the handler would be false).
_ISO_8601 = {"type": "string", "minLength": 1}
_PAYMENT_PROPERTIES: dict[str, Any] = {
    "payment_id": {"type": "string", "pattern": contract.PAYMENT_ID_PATTERN},
    "merchant_id": {"type": "string", "pattern": contract.MERCHANT_ID_PATTERN},
    "amount": {"type": "string", "pattern": contract.AMOUNT_PATTERN},
    "currency": {"type": "string", "pattern": contract.CURRENCY_PATTERN},
    "customer_ref": _text(contract.MAX_CUSTOMER_REF_LENGTH),
    "description": _text(contract.MAX_DESCRIPTION_LENGTH),
    "status": {"type": "string", "enum": list(PAYMENT_STATUSES)},
    "version": {"type": "integer", "minimum": 1},
    "created_at": _TIMESTAMP,
    "updated_at": _TIMESTAMP,
    "source": {"type": "string", "enum": ["api", "batch"]},
    "processor_attempts": {"type": "integer", "minimum": 0},
    "batch_job_id": {"type": "string"},
    "processor_ref": {"type": "string"},
    "failure_reason": {"type": "string"},
}
_PAYMENT_REQUIRED = [
    "payment_id",
    "merchant_id",
    "amount",
    "currency",
    "customer_ref",
    "status",
    "version",
    "created_at",
    "updated_at",
    "source",
    "processor_attempts",
]
_TRANSITION = _object(
    ["sequence", "from_status", "to_status", "at", "actor"],
    {
        "sequence": {"type": "integer", "minimum": 0},
        "from_status": {"type": "string", "enum": [NO_STATUS, *PAYMENT_STATUSES]},
        "to_status": {"type": "string", "enum": list(PAYMENT_STATUSES)},
        "at": _TIMESTAMP,
        "actor": {"type": "string"},
        "detail": {"type": "object"},
    },
)

PAYMENT_RECEIPT: Final = "PaymentReceipt"
PAYMENT: Final = "Payment"
PAYMENT_WITH_HISTORY: Final = "PaymentWithHistory"
PAYMENT_LIST: Final = "PaymentList"
RESPONSE_SCHEMAS: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        PAYMENT_RECEIPT: _object(
            ["payment_id", "status"],
            {"payment_id": _PAYMENT_PROPERTIES["payment_id"], "status": _PAYMENT_PROPERTIES["status"]},
        ),
        PAYMENT: _object(_PAYMENT_REQUIRED, _PAYMENT_PROPERTIES),
        PAYMENT_WITH_HISTORY: _object(
            [*_PAYMENT_REQUIRED, "history"],
            {**_PAYMENT_PROPERTIES, "history": {"type": "array", "items": _TRANSITION}},
        ),
        PAYMENT_LIST: _object(
            ["items", "next_token"],
            {
                "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{PAYMENT}"}},
                "next_token": {"type": "string", "nullable": True},
            },
        ),
    }
)


# --- Routes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    name: str
    location: str  # "path", "query" or "header" (OpenAPI's ``in``; API Gateway's method.request.<location>)
    required: bool
    schema: dict[str, Any]
    description: str = ""

    @property
    def gateway_location(self) -> str:
        return "querystring" if self.location == "query" else self.location


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "/payments/{payment_id}": API Gateway's resource path and OpenAPI's path
    operation_id: str
    summary: str
    status: int  # the success status
    response: str  # a RESPONSE_SCHEMAS name
    # The codes (payment_core.api.errors) the route's handler may answer besides the ones every route
    # may get (the gateway's refusals, invalid_request, internal_error).
    errors: tuple[str, ...]
    request_model: str | None = None  # a REQUEST_MODELS name
    parameters: tuple[Parameter, ...] = field(default=())


PAYMENT_ID_PARAMETER: Final = Parameter(
    "payment_id", "path", True, {"type": "string", "pattern": contract.PAYMENT_ID_PATTERN}
)
IDEMPOTENCY_KEY_PARAMETER: Final = Parameter(
    contract.IDEMPOTENCY_KEY_HEADER,
    "header",
    True,
    {"type": "string", "minLength": 1, "maxLength": MAX_IDEMPOTENCY_KEY_LENGTH, "pattern": IDEMPOTENCY_KEY_PATTERN},
    "one key per payment: a retry with the same key and terms gets the first answer",
)
MERCHANT_ID_QUERY: Final = Parameter(
    "merchant_id",
    "query",
    False,
    {"type": "string", "pattern": contract.MERCHANT_ID_PATTERN},
    "may only repeat the secret key's merchant",
)

ROUTES: Final[tuple[Route, ...]] = (
    Route(
        "POST",
        "/payments",
        "createPayment",
        "Create a payment (runs to SETTLED or FAILED on its own)",
        202,
        PAYMENT_RECEIPT,
        (
            "cardholder_data",
            "merchant_mismatch",
            "idempotency_conflict",
            "idempotency_in_progress",
            "payment_conflict",
            "invalid_transition",
            "payload_too_large",
        ),
        request_model=CREATE_PAYMENT,
        parameters=(IDEMPOTENCY_KEY_PARAMETER,),
    ),
    Route(
        "GET",
        "/payments",
        "listPayments",
        "The caller's payments by creation time, a page at a time",
        200,
        PAYMENT_LIST,
        ("merchant_mismatch",),
        parameters=(
            Parameter("from", "query", False, _ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("to", "query", False, _ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("limit", "query", False, {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}),
            Parameter("next_token", "query", False, {"type": "string"}, "the previous page's, with the same from/to"),
            MERCHANT_ID_QUERY,
        ),
    ),
    Route(
        "GET",
        "/payments/{payment_id}",
        "getPayment",
        "One payment and its status transitions",
        200,
        PAYMENT_WITH_HISTORY,
        ("not_found",),
        parameters=(PAYMENT_ID_PARAMETER,),
    ),
)
