"""The REST API's part of the contract: every route, its parameters and its request and answer shapes.

One table (``ROUTES``) that three readers build from, so they cannot drift: the stack
(``lib/components/api.py``: API Gateway resources, methods, required parameters and request
models), the OpenAPI document merchants get (``lib/openapi.py`` → ``docs/openapi.json``), and
schemathesis, which drives the deployed API with that document. A new route is a ``Route`` here
(and its handler); the stack and the document follow by construction.

Request bodies are JSON Schema draft-04 objects (what API Gateway models speak; also valid in
OpenAPI 3.0) built from the limits in ``payment_core.contract``, which the handlers validate again
with exact messages. Answer shapes are JSON Schema too, written against what the handlers return
(``payment_core.api_answers``); ``additionalProperties: false`` everywhere, so a field the
document does not name fails schemathesis' response check.

The API versions and the limits the handlers apply (idempotency key, page size) are in
``payment_core.contract``: the handlers do not import this module, so a cold start does not build
the route table (``make bench``, cold start).

Stdlib only, like ``contract``: the stack imports it without the layer's packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from payment_core import contract
from payment_core.api_answers import (
    AMOUNT,
    CAPTURE_RECEIPT,
    ENABLED_EVENTS,
    EVENT,
    EVENT_LIST,
    EVENT_WITH_DELIVERIES,
    ISO_8601,
    PAYMENT_LIST,
    PAYMENT_RECEIPT,
    PAYMENT_WITH_HISTORY,
    REFUND,
    RESPONSE_SCHEMAS,
    WEBHOOK_ENDPOINT,
    WEBHOOK_ENDPOINT_DELETED,
    WEBHOOK_ENDPOINT_LIST,
    WEBHOOK_ENDPOINT_WITH_SECRET,
    WEBHOOK_SECRET_ROTATED,
    WEBHOOK_URL,
    json_object,
    text,
)

# --- Request bodies (draft-04: API Gateway models) ---------------------------------------------
CREATE_PAYMENT: Final = "CreatePayment"
CREATE_WEBHOOK_ENDPOINT: Final = "CreateWebhookEndpoint"
REQUEST_MODELS: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        # merchant_id is optional: the merchant is the secret key's (a differing one is 403).
        CREATE_PAYMENT: json_object(
            ["amount", "currency", "customer_ref"],
            {
                "merchant_id": {"type": "string", "pattern": contract.MERCHANT_ID_PATTERN},
                "amount": {"type": "string", "pattern": contract.AMOUNT_PATTERN},
                "currency": {"type": "string", "pattern": contract.CURRENCY_PATTERN},
                "customer_ref": text(contract.MAX_CUSTOMER_REF_LENGTH),
                "description": text(contract.MAX_DESCRIPTION_LENGTH),
                "capture": {"type": "string", "enum": list(contract.CAPTURE_METHODS)},
            },
        ),
        # https only and a public host: the handler checks the destination (400, field url).
        CREATE_WEBHOOK_ENDPOINT: json_object(
            ["url", "enabled_events"], {"url": WEBHOOK_URL, "enabled_events": ENABLED_EVENTS}
        ),
    }
)
# Bodies a route takes but does not need (absent = ``{}``): documented, checked by the handler only
# (an API Gateway model would refuse the empty body).
CAPTURE_PAYMENT: Final = "CapturePayment"
VOID_PAYMENT: Final = "VoidPayment"
CREATE_REFUND: Final = "CreateRefund"
OPTIONAL_BODIES: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        # amount: at most the authorized amount (all of it when absent); the rest is released.
        CAPTURE_PAYMENT: json_object([], {"amount": AMOUNT}),
        VOID_PAYMENT: json_object([], {}),
        # amount: at most what is left to refund (all of it when absent); reason: free text, no card number.
        CREATE_REFUND: json_object([], {"amount": AMOUNT, "reason": text(contract.MAX_REFUND_REASON_LENGTH)}),
    }
)


# --- Routes -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Parameter:
    """One parameter of a route (path, query string or header), as API Gateway and OpenAPI declare it."""

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
    """One route of the REST API: what the stack, the OpenAPI document and schemathesis build from."""

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
    optional_body: str | None = None  # an OPTIONAL_BODIES name
    parameters: tuple[Parameter, ...] = field(default=())


PAYMENT_ID_PARAMETER: Final = Parameter(
    "payment_id", "path", True, {"type": "string", "pattern": contract.PAYMENT_ID_PATTERN}
)
IDEMPOTENCY_KEY_PARAMETER: Final = Parameter(
    contract.IDEMPOTENCY_KEY_HEADER,
    "header",
    True,
    {
        "type": "string",
        "minLength": 1,
        "maxLength": contract.MAX_IDEMPOTENCY_KEY_LENGTH,
        "pattern": contract.IDEMPOTENCY_KEY_PATTERN,
    },
    "one key per payment: a retry with the same key and terms gets the first answer",
)
ENDPOINT_ID_PARAMETER: Final = Parameter(
    "endpoint_id", "path", True, {"type": "string", "pattern": contract.WEBHOOK_ENDPOINT_ID_PATTERN}
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
            Parameter("from", "query", False, ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("to", "query", False, ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("limit", "query", False, {"type": "integer", "minimum": 1, "maximum": contract.MAX_PAGE_SIZE}),
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
    *(
        Route(
            "POST",
            f"/payments/{{payment_id}}/{part}",
            f"{action}Payment",
            summary,
            202,
            CAPTURE_RECEIPT,
            ("not_found", "not_capturable", "request_conflict", "invalid_transition", "payload_too_large"),
            optional_body=body,
            parameters=(PAYMENT_ID_PARAMETER,),
        )
        for part, action, body, summary in (
            (
                contract.CAPTURE_PATH_PART,
                contract.ACTION_CAPTURE,
                CAPTURE_PAYMENT,
                "Capture an AUTHORIZED manual payment (all, or part: the rest is released)",
            ),
            (contract.VOID_PATH_PART, contract.ACTION_VOID, VOID_PAYMENT, "Void an AUTHORIZED manual payment"),
        )
    ),
    Route(
        "POST",
        f"/payments/{{payment_id}}/{contract.REFUNDS_PATH_PART}",
        "createRefund",
        "Refund a captured payment (all that is left, or part); several per payment",
        202,
        REFUND,
        (
            "not_found",
            "cardholder_data",
            contract.NOT_REFUNDABLE,
            contract.REFUND_EXCEEDS_CAPTURED,
            contract.TOO_MANY_REFUNDS,
            "idempotency_conflict",
            "invalid_transition",
            "payload_too_large",
        ),
        optional_body=CREATE_REFUND,
        parameters=(PAYMENT_ID_PARAMETER, IDEMPOTENCY_KEY_PARAMETER),
    ),
    Route(
        "GET",
        f"/payments/{{payment_id}}/{contract.REFUNDS_PATH_PART}/{{refund_id}}",
        "getRefund",
        "One refund of a payment",
        200,
        REFUND,
        ("not_found",),
        parameters=(
            PAYMENT_ID_PARAMETER,
            Parameter("refund_id", "path", True, RESPONSE_SCHEMAS[REFUND]["properties"]["refund_id"]),
        ),
    ),
    Route(
        "GET",
        "/events",
        "listEvents",
        "The caller's events by creation time, a page at a time",
        200,
        EVENT_LIST,
        (),
        parameters=(
            Parameter("type", "query", False, RESPONSE_SCHEMAS[EVENT]["properties"]["type"], "e.g. payment.settled"),
            Parameter("from", "query", False, ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("to", "query", False, ISO_8601, "inclusive; ISO-8601, naive = UTC"),
            Parameter("limit", "query", False, {"type": "integer", "minimum": 1, "maximum": contract.MAX_PAGE_SIZE}),
            Parameter("next_token", "query", False, {"type": "string"}, "the previous page's, same type/from/to"),
        ),
    ),
    Route(
        "GET",
        "/events/{event_id}",
        "getEvent",
        "One event and its webhook delivery attempts",
        200,
        EVENT_WITH_DELIVERIES,
        ("not_found",),
        parameters=(Parameter("event_id", "path", True, {"type": "string", "pattern": contract.EVENT_ID_PATTERN}),),
    ),
    Route(
        "POST",
        "/webhook_endpoints",
        "createWebhookEndpoint",
        "Register a webhook endpoint (its signing secret is shown in this answer only)",
        201,
        WEBHOOK_ENDPOINT_WITH_SECRET,
        ("payload_too_large",),
        request_model=CREATE_WEBHOOK_ENDPOINT,
    ),
    Route(
        "GET",
        "/webhook_endpoints",
        "listWebhookEndpoints",
        "The caller's webhook endpoints",
        200,
        WEBHOOK_ENDPOINT_LIST,
        (),
    ),
    Route(
        "GET",
        "/webhook_endpoints/{endpoint_id}",
        "getWebhookEndpoint",
        "One webhook endpoint (without its secret)",
        200,
        WEBHOOK_ENDPOINT,
        ("not_found",),
        parameters=(ENDPOINT_ID_PARAMETER,),
    ),
    Route(
        "DELETE",
        "/webhook_endpoints/{endpoint_id}",
        "deleteWebhookEndpoint",
        "Delete a webhook endpoint (nothing more is delivered to it)",
        200,
        WEBHOOK_ENDPOINT_DELETED,
        ("not_found",),
        parameters=(ENDPOINT_ID_PARAMETER,),
    ),
    Route(
        "POST",
        "/webhook_endpoints/{endpoint_id}/rotate_secret",
        "rotateWebhookEndpointSecret",
        "A new signing secret; the previous one also signs until previous_secret_expires_at",
        200,
        WEBHOOK_SECRET_ROTATED,
        ("not_found",),
        parameters=(ENDPOINT_ID_PARAMETER,),
    ),
)
