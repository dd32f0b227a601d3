"""The REST API's answer shapes (``payment_core.api_contract`` names them per route).

JSON Schema written against what the handlers return (``Payment.to_public``, ``capture.receipt``,
``Event.to_public`` and friends); ``additionalProperties: false`` everywhere, so a field the
document does not name fails schemathesis' response check. Stdlib only, like ``contract``.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Final

from payment_core import contract

PAYMENT_STATUSES: Final[tuple[str, ...]] = (
    "PENDING",
    "VALIDATED",
    "AUTHORIZED",
    "SETTLED",
    "FAILED",
    "VOIDED",
    "EXPIRED",
)
# The audit entry of a payment's creation comes from this pseudo-status.
NO_STATUS: Final = "NONE"
ASK_ACTIONS: Final[tuple[str, ...]] = (contract.ACTION_CAPTURE, contract.ACTION_VOID)


def text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length}


def json_object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


TIMESTAMP: Final = {"type": "string", "format": "date-time"}
# What a list query's bounds accept: any ISO-8601 form (a date alone, no offset = UTC), wider than
# RFC 3339's date-time, so not declared as one (a schema narrower than the handler would be false).
ISO_8601: Final = {"type": "string", "minLength": 1}
AMOUNT: Final = {"type": "string", "pattern": contract.AMOUNT_PATTERN}
_PAYMENT_PROPERTIES: dict[str, Any] = {
    "payment_id": {"type": "string", "pattern": contract.PAYMENT_ID_PATTERN},
    "merchant_id": {"type": "string", "pattern": contract.MERCHANT_ID_PATTERN},
    "amount": AMOUNT,
    "currency": {"type": "string", "pattern": contract.CURRENCY_PATTERN},
    "customer_ref": text(contract.MAX_CUSTOMER_REF_LENGTH),
    "description": text(contract.MAX_DESCRIPTION_LENGTH),
    "status": {"type": "string", "enum": list(PAYMENT_STATUSES)},
    "version": {"type": "integer", "minimum": 1},
    "created_at": TIMESTAMP,
    "updated_at": TIMESTAMP,
    "source": {"type": "string", "enum": ["api", "batch"]},
    "processor_attempts": {"type": "integer", "minimum": 0},
    "batch_job_id": {"type": "string"},
    "processor_ref": {"type": "string"},
    "failure_reason": {"type": "string"},
    "capture_method": {"type": "string", "enum": list(contract.CAPTURE_METHODS)},
    "amount_captured": AMOUNT,
    # A manual payment's pending ask (capture or void) and a partial capture's amount.
    "requested_action": {"type": "string", "enum": list(ASK_ACTIONS)},
    "requested_amount": AMOUNT,
    # Refunds: succeeded, and reserved by refunds still PENDING.
    "amount_refunded": AMOUNT,
    "amount_refund_pending": AMOUNT,
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
    "capture_method",
    "amount_captured",
    "amount_refunded",
    "amount_refund_pending",
]
_TRANSITION = json_object(
    ["sequence", "from_status", "to_status", "at", "actor"],
    {
        "sequence": {"type": "integer", "minimum": 0},
        "from_status": {"type": "string", "enum": [NO_STATUS, *PAYMENT_STATUSES]},
        "to_status": {"type": "string", "enum": list(PAYMENT_STATUSES)},
        "at": TIMESTAMP,
        "actor": {"type": "string"},
        "detail": {"type": "object"},
    },
)
REFUND_STATUSES: Final[tuple[str, ...]] = ("PENDING", "SUCCEEDED", "FAILED")
_REFUND_PROPERTIES: dict[str, Any] = {
    "refund_id": {"type": "string", "pattern": f"^{contract.REFUND_ID_PREFIX}[0-9a-f]{{32}}$"},
    "object": {"type": "string", "enum": ["refund"]},
    "payment_id": _PAYMENT_PROPERTIES["payment_id"],
    "amount": AMOUNT,
    "currency": _PAYMENT_PROPERTIES["currency"],
    "status": {"type": "string", "enum": list(REFUND_STATUSES)},
    "created": TIMESTAMP,
    "updated": TIMESTAMP,
    "reason": text(contract.MAX_REFUND_REASON_LENGTH),
    "failure_reason": {"type": "string"},
}
_REFUND_SCHEMA = json_object(
    ["refund_id", "object", "payment_id", "amount", "currency", "status", "created", "updated"], _REFUND_PROPERTIES
)
_EVENT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": contract.EVENT_ID_PATTERN},
    "object": {"type": "string", "enum": ["event"]},
    "type": {"type": "string", "pattern": r"^[a-z_]{1,32}\.[a-z_]{1,32}$"},
    "created": TIMESTAMP,
    "merchant_id": _PAYMENT_PROPERTIES["merchant_id"],
    "api_version": {"type": "string"},
    # The object as it was after the transition (a payment's public fields, ``object``: its kind).
    "data": json_object(["object"], {"object": {"type": "object"}}),
}
_EVENT_REQUIRED = list(_EVENT_PROPERTIES)


def _page(item: str) -> dict[str, Any]:
    return json_object(
        ["items", "next_token"],
        {
            "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}},
            "next_token": {"type": "string", "nullable": True},
        },
    )


PAYMENT_RECEIPT: Final = "PaymentReceipt"
PAYMENT: Final = "Payment"
PAYMENT_WITH_HISTORY: Final = "PaymentWithHistory"
PAYMENT_LIST: Final = "PaymentList"
CAPTURE_RECEIPT: Final = "CaptureReceipt"
REFUND: Final = "Refund"
EVENT: Final = "Event"
EVENT_WITH_DELIVERIES: Final = "EventWithDeliveries"
EVENT_LIST: Final = "EventList"
WEBHOOK_ENDPOINT: Final = "WebhookEndpoint"
WEBHOOK_ENDPOINT_WITH_SECRET: Final = "WebhookEndpointWithSecret"
WEBHOOK_ENDPOINT_LIST: Final = "WebhookEndpointList"
WEBHOOK_ENDPOINT_DELETED: Final = "WebhookEndpointDeleted"
WEBHOOK_SECRET_ROTATED: Final = "WebhookSecretRotated"
# What an endpoint subscribes to: "*" alone, or event types (the handler checks them against
# payment_core.events.models.KNOWN_EVENT_TYPES, with an exact message).
ENABLED_EVENTS: Final = {
    "type": "array",
    "minItems": 1,
    "uniqueItems": True,
    "items": {"type": "string", "pattern": r"^(\*|[a-z_]{1,32}\.[a-z_]{1,32})$"},
}
WEBHOOK_URL: Final = {"type": "string", "minLength": 1, "maxLength": contract.MAX_WEBHOOK_URL_LENGTH}
_ENDPOINT_PROPERTIES: dict[str, Any] = {
    "id": {"type": "string", "pattern": contract.WEBHOOK_ENDPOINT_ID_PATTERN},
    "object": {"type": "string", "enum": ["webhook_endpoint"]},
    "url": WEBHOOK_URL,
    "enabled_events": ENABLED_EVENTS,
    "status": {"type": "string", "enum": ["enabled", "disabled"]},
    "created": TIMESTAMP,
}
_SECRET: Final = {"type": "string", "pattern": contract.WEBHOOK_SECRET_PATTERN}
RESPONSE_SCHEMAS: Final[MappingProxyType[str, dict[str, Any]]] = MappingProxyType(
    {
        PAYMENT_RECEIPT: json_object(
            ["payment_id", "status"],
            {"payment_id": _PAYMENT_PROPERTIES["payment_id"], "status": _PAYMENT_PROPERTIES["status"]},
        ),
        PAYMENT: json_object(_PAYMENT_REQUIRED, _PAYMENT_PROPERTIES),
        PAYMENT_WITH_HISTORY: json_object(
            [*_PAYMENT_REQUIRED, "history", "refunds"],
            {
                **_PAYMENT_PROPERTIES,
                "history": {"type": "array", "items": _TRANSITION},
                "refunds": {"type": "array", "items": {"$ref": f"#/components/schemas/{REFUND}"}},
            },
        ),
        PAYMENT_LIST: _page(PAYMENT),
        CAPTURE_RECEIPT: json_object(
            ["payment_id", "status", "requested_action"],
            {
                name: _PAYMENT_PROPERTIES[name]
                for name in ("payment_id", "status", "requested_action", "requested_amount")
            },
        ),
        EVENT: json_object(_EVENT_REQUIRED, _EVENT_PROPERTIES),
        EVENT_WITH_DELIVERIES: json_object(
            [*_EVENT_REQUIRED, "delivery_attempts"],
            {**_EVENT_PROPERTIES, "delivery_attempts": {"type": "array", "items": {"type": "object"}}},
        ),
        EVENT_LIST: _page(EVENT),
        WEBHOOK_ENDPOINT: json_object(list(_ENDPOINT_PROPERTIES), _ENDPOINT_PROPERTIES),
        WEBHOOK_ENDPOINT_WITH_SECRET: json_object(
            [*_ENDPOINT_PROPERTIES, "secret"], {**_ENDPOINT_PROPERTIES, "secret": _SECRET}
        ),
        WEBHOOK_SECRET_ROTATED: json_object(
            [*_ENDPOINT_PROPERTIES, "secret", "previous_secret_expires_at"],
            {**_ENDPOINT_PROPERTIES, "secret": _SECRET, "previous_secret_expires_at": TIMESTAMP},
        ),
        WEBHOOK_ENDPOINT_LIST: json_object(
            ["items"], {"items": {"type": "array", "items": {"$ref": f"#/components/schemas/{WEBHOOK_ENDPOINT}"}}}
        ),
        WEBHOOK_ENDPOINT_DELETED: json_object(
            ["id", "object", "deleted"],
            {
                "id": _ENDPOINT_PROPERTIES["id"],
                "object": _ENDPOINT_PROPERTIES["object"],
                "deleted": {"type": "boolean", "enum": [True]},
            },
        ),
        REFUND: _REFUND_SCHEMA,
    }
)
