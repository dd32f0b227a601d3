"""Field-level checks shared by the API, batch rows and queue messages."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from payment_core import contract
from payment_core.errors import InvalidRequest
from payment_core.payments.models import MERCHANT_ID_PATTERN, PaymentRequest, is_valid_payment_id
from payment_core.payments.money import parse_amount, parse_currency
from payment_core.rules import BusinessRules
from payment_core.tenancy.callers import refuse_cardholder_data

# The API model's limits too (lib/components/api.py): one constant each, in the contract.
MAX_CUSTOMER_REF_LENGTH = contract.MAX_CUSTOMER_REF_LENGTH
MAX_DESCRIPTION_LENGTH = contract.MAX_DESCRIPTION_LENGTH

PAYMENT_FIELDS = ("merchant_id", "amount", "currency", "customer_ref")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"duplicate key {key!r}")
        obj[key] = value
    return obj


def load_json_object(text: str, what: str = "body") -> dict[str, Any]:
    """Strict JSON: an object, no duplicate keys, no NaN/Infinity, numbers as Decimal."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=_unique_object,
            parse_constant=_reject_constant,
            parse_float=Decimal,
        )
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"{what} is not valid JSON: {exc}"[:200]) from exc
    if not isinstance(value, dict):
        raise InvalidRequest(f"{what} must be a JSON object")
    return value


def check_fields(data: Mapping[str, Any], required: tuple[str, ...], optional: tuple[str, ...] = ()) -> None:
    unexpected = sorted(set(data) - set(required) - set(optional))
    if unexpected:
        name = unexpected[0]
        raise InvalidRequest(f"unexpected field {name!r}"[:200], name[:100])
    for name in required:
        if name not in data:
            raise InvalidRequest(f"{name} is required", name)


def text_field(value: object, field: str, max_length: int) -> str:
    if not isinstance(value, str):
        raise InvalidRequest(f"{field} must be a string", field)
    if not 1 <= len(value) <= max_length:
        raise InvalidRequest(f"{field} must be 1 to {max_length} characters", field)
    if not value.isprintable() or value != value.strip():
        raise InvalidRequest(f"{field} must be printable text without surrounding whitespace", field)
    return value


def merchant_id_field(value: object, field: str = "merchant_id") -> str:
    if not isinstance(value, str) or MERCHANT_ID_PATTERN.fullmatch(value) is None:
        raise InvalidRequest(f"{field} must be 1 to 64 characters of A-Z a-z 0-9 _ -", field)
    return value


def payment_id_field(value: object, field: str = "payment_id") -> str:
    if not is_valid_payment_id(value):
        raise InvalidRequest(f"{field} must be 1 to 64 characters of A-Z a-z 0-9 _ -", field)
    return value


def free_text(data: Mapping[str, Any], field: str, max_length: int) -> str:
    """The text field ``field`` of ``data``: printable, at most ``max_length``, and no card number
    (merchants' free text is stored, listed and published)."""
    return refuse_cardholder_data(text_field(data[field], field, max_length), field)


def _capture_method(data: Mapping[str, Any]) -> str:
    capture_method: str = data.get("capture", contract.CAPTURE_AUTOMATIC)
    if capture_method not in contract.CAPTURE_METHODS:
        raise InvalidRequest(f"capture must be one of {', '.join(contract.CAPTURE_METHODS)}", "capture")
    return capture_method


def payment_request(data: Mapping[str, Any], rules: BusinessRules) -> PaymentRequest:
    """Build a request from already shape-checked fields, validating each in a fixed order (the
    keywords below are evaluated in order: the first invalid field is the one answered)."""
    merchant_id = merchant_id_field(data["merchant_id"])
    currency = parse_currency(data["currency"], rules.allowed_currencies)
    return PaymentRequest(
        merchant_id=merchant_id,
        amount=parse_amount(data["amount"], currency, rules.amount_limits.maximum_for(currency)),
        currency=currency,
        customer_ref=free_text(data, "customer_ref", MAX_CUSTOMER_REF_LENGTH),
        description=free_text(data, "description", MAX_DESCRIPTION_LENGTH) if "description" in data else None,
        capture_method=_capture_method(data),
    )
