"""Pure parsing of the REST API's requests: everything malformed becomes ``InvalidRequest``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass

from payment_core import contract
from payment_core.errors import InvalidRequest, PayloadTooLarge
from payment_core.payments.models import PaymentRequest
from payment_core.payments.validation import (
    PAYMENT_FIELDS,
    check_fields,
    free_text,
    load_json_object,
    merchant_id_field,
    payment_id_field,
    payment_request,
)
from payment_core.rules import BusinessRules
from payment_core.tenancy.callers import bind_merchant

MAX_BODY_BYTES = 16 * 1024
IDEMPOTENCY_HEADER = contract.IDEMPOTENCY_KEY_HEADER  # also required by the API Gateway method
# Limits the OpenAPI document publishes (payment_core.contract, read by payment_core.api_contract).
MAX_IDEMPOTENCY_KEY_LENGTH = contract.MAX_IDEMPOTENCY_KEY_LENGTH


@dataclass(frozen=True)
class CreatePayment:
    """A checked ``POST /payments``: its idempotency key and the payment it asks for."""

    idempotency_key: str
    request: PaymentRequest


def header(headers: Mapping[str, str] | None, name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway passes names as the client wrote them)."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if key.lower() == wanted:
            return value
    return None


def served_version(headers: Mapping[str, str] | None, merchant_default: str | None) -> str:
    """The version an answer is served with and names: the one the request pins
    (``Payment-Platform-Version``); without the header the merchant's default, else the latest. An
    unknown pinned version is answered (400, by ``api_version``) in the latest's words."""
    requested = header(headers, contract.API_VERSION_HEADER)
    if requested is None:
        requested = merchant_default
    return requested if requested in contract.API_VERSIONS else contract.LATEST_API_VERSION


def api_version(headers: Mapping[str, str] | None, merchant_default: str | None = None) -> str:
    """The version the request is served with (``served_version``); an unknown pinned one is refused."""
    requested = header(headers, contract.API_VERSION_HEADER)
    if requested is None:
        return served_version(headers, merchant_default)
    if requested not in contract.API_VERSIONS:
        supported = ", ".join(contract.API_VERSIONS)
        raise InvalidRequest(
            f"{contract.API_VERSION_HEADER} must be one of: {supported}"[:200], contract.API_VERSION_HEADER
        )
    return requested


def idempotency_key(headers: Mapping[str, str] | None) -> str:
    key = header(headers, IDEMPOTENCY_HEADER)
    if key is None:
        raise InvalidRequest(f"the {IDEMPOTENCY_HEADER} header is required", IDEMPOTENCY_HEADER)
    valid_chars = all("!" <= char <= "~" for char in key)
    if not (1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH and valid_chars):
        raise InvalidRequest(
            f"{IDEMPOTENCY_HEADER} must be 1 to {MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters",
            IDEMPOTENCY_HEADER,
        )
    return key


def body_text(body: str | None, is_base64: bool) -> str:
    if body is None or body == "":
        raise InvalidRequest("a JSON body is required")
    if len(body) > MAX_BODY_BYTES * 2:
        raise PayloadTooLarge(f"the body must not exceed {MAX_BODY_BYTES} bytes")
    if is_base64:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise InvalidRequest("the body is not valid base64") from exc
    else:
        raw = body.encode("utf-8", errors="surrogatepass")
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body must not exceed {MAX_BODY_BYTES} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidRequest("the body is not valid UTF-8") from exc


def parse_create_payment(
    body: str | None,
    is_base64: bool,
    headers: Mapping[str, str] | None,
    rules: BusinessRules,
    merchant_id: str,
) -> CreatePayment:
    key = idempotency_key(headers)
    data = load_json_object(body_text(body, is_base64))
    # The merchant is the verified one; a merchant_id in the body may only repeat it.
    claimed = merchant_id_field(data["merchant_id"]) if "merchant_id" in data else None
    bound = {**data, "merchant_id": bind_merchant(claimed, merchant_id)}
    check_fields(bound, PAYMENT_FIELDS, ("description", "capture"))
    return CreatePayment(idempotency_key=key, request=payment_request(bound, rules))


@dataclass(frozen=True)
class CapturePayment:
    """A checked ``POST /payments/{id}/capture``."""

    # The amount as sent (checked against the payment's currency and authorized amount once it is
    # read: payment_core.payments.capture); None: all of the authorized amount.
    amount: object | None


def parse_capture(body: str | None, is_base64: bool) -> CapturePayment:
    """``POST /payments/{id}/capture``: no body, ``{}``, or ``{"amount": "<decimal string>"}``."""
    if body is None or body == "":
        return CapturePayment(amount=None)
    data = load_json_object(body_text(body, is_base64))
    check_fields(data, (), ("amount",))
    return CapturePayment(amount=data.get("amount"))


def parse_void(body: str | None, is_base64: bool) -> None:
    """``POST /payments/{id}/void``: no body, or ``{}``."""
    if body is not None and body != "":
        check_fields(load_json_object(body_text(body, is_base64)), ())


@dataclass(frozen=True)
class CreateRefund:
    """A checked ``POST /payments/{id}/refunds``."""

    idempotency_key: str
    # As sent (checked against the payment's currency and captured amount once it is read:
    # payment_core.payments.refunds); None: all that is left.
    amount: object | None
    reason: str | None


def parse_create_refund(body: str | None, is_base64: bool, headers: Mapping[str, str] | None) -> CreateRefund:
    """``POST /payments/{id}/refunds``: no body, ``{}``, or ``{"amount"?, "reason"?}``; a key required."""
    key = idempotency_key(headers)
    if body is None or body == "":
        return CreateRefund(key, None, None)
    data = load_json_object(body_text(body, is_base64))
    check_fields(data, (), ("amount", "reason"))
    reason = free_text(data, "reason", contract.MAX_REFUND_REASON_LENGTH) if "reason" in data else None
    return CreateRefund(key, data.get("amount"), reason)


def parse_refund_id(raw: str) -> str:
    refund_id = payment_id_field(raw, "refund_id")
    if not refund_id.startswith(contract.REFUND_ID_PREFIX):
        raise InvalidRequest(f"refund_id must be a refund id ({contract.REFUND_ID_PREFIX}...)", "refund_id")
    return refund_id


def parse_payment_id(raw: str) -> str:
    return payment_id_field(raw)
