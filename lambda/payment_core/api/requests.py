"""Pure parsing of the REST API's requests: everything malformed becomes ``InvalidRequest``."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from payment_core import api_contract, contract
from payment_core.api.page_tokens import INVALID, PageQuery, PageTokens
from payment_core.errors import InvalidRequest, PayloadTooLarge
from payment_core.events.models import is_event_id
from payment_core.payments.models import PaymentRequest, format_timestamp
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
# The route table's limits (payment_core.api_contract), which the OpenAPI document publishes.
MAX_IDEMPOTENCY_KEY_LENGTH = api_contract.MAX_IDEMPOTENCY_KEY_LENGTH
DEFAULT_PAGE_SIZE = api_contract.DEFAULT_PAGE_SIZE
MAX_PAGE_SIZE = api_contract.MAX_PAGE_SIZE
EARLIEST = "0000-01-01T00:00:00.000Z"
LATEST = "9999-12-31T23:59:59.999Z"
# An event type: ``<object>.<what happened>`` (payment_core.events.models.EVENT_TYPES).
EVENT_TYPE = re.compile(r"^[a-z_]{1,32}\.[a-z_]{1,32}$")


@dataclass(frozen=True)
class CreatePayment:
    """A checked ``POST /payments``: its idempotency key and the payment it asks for."""

    idempotency_key: str
    request: PaymentRequest


@dataclass(frozen=True)
class ListPayments:
    """A checked ``GET /payments``: the merchant, the creation window, the page size, where the page starts."""

    merchant_id: str
    created_from: str
    created_to: str
    limit: int
    start_key: dict[str, str] | None


@dataclass(frozen=True)
class ListEvents:
    """A checked ``GET /events``: as ``ListPayments``, and the event type asked for (None: all)."""

    merchant_id: str
    created_from: str
    created_to: str
    event_type: str | None
    limit: int
    start_key: dict[str, str] | None


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
    requested = header(headers, api_contract.API_VERSION_HEADER)
    if requested is None:
        requested = merchant_default
    return requested if requested in api_contract.API_VERSIONS else api_contract.LATEST_API_VERSION


def api_version(headers: Mapping[str, str] | None, merchant_default: str | None = None) -> str:
    """The version the request is served with (``served_version``); an unknown pinned one is refused."""
    requested = header(headers, api_contract.API_VERSION_HEADER)
    if requested is None:
        return served_version(headers, merchant_default)
    if requested not in api_contract.API_VERSIONS:
        supported = ", ".join(api_contract.API_VERSIONS)
        raise InvalidRequest(
            f"{api_contract.API_VERSION_HEADER} must be one of: {supported}"[:200], api_contract.API_VERSION_HEADER
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


def _timestamp(raw: str, field: str) -> str:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidRequest(f"{field} must be an ISO-8601 timestamp", field) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return format_timestamp(moment)
    except (OverflowError, ValueError) as exc:
        raise InvalidRequest(f"{field} is out of range", field) from exc


def _limit(raw: str | None) -> int:
    if raw is None:
        return DEFAULT_PAGE_SIZE
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 3):
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}", "limit")
    limit = int(raw)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"limit must be an integer from 1 to {MAX_PAGE_SIZE}", "limit")
    return limit


def parse_list_payments(params: Mapping[str, str] | None, merchant_id: str, tokens: PageTokens) -> ListPayments:
    """The verified merchant's list query; ``next_token`` must be one ``tokens`` issued for it."""
    query = dict(params or {})
    unexpected = sorted(set(query) - {"merchant_id", "from", "to", "limit", "next_token"})
    if unexpected:
        raise InvalidRequest(f"unexpected query parameter {unexpected[0]!r}"[:200], unexpected[0][:100])
    if "merchant_id" in query:
        bind_merchant(merchant_id_field(query["merchant_id"]), merchant_id)
    created_from = _timestamp(query["from"], "from") if "from" in query else EARLIEST
    created_to = _timestamp(query["to"], "to") if "to" in query else LATEST
    if created_from > created_to:
        raise InvalidRequest("from must not be after to", "from")
    token = query.get("next_token")
    return ListPayments(
        merchant_id=merchant_id,
        created_from=created_from,
        created_to=created_to,
        limit=_limit(query.get("limit")),
        start_key=tokens.read(token, PageQuery(merchant_id, created_from, created_to)) if token is not None else None,
    )


def parse_event_id(raw: str) -> str:
    if not is_event_id(raw):
        raise InvalidRequest("event_id must be an event id (evt_...)", "event_id")
    return raw


def _event_type(raw: str) -> str:
    if not EVENT_TYPE.fullmatch(raw):
        raise InvalidRequest("type must be an event type such as payment.settled", "type")
    return raw


def parse_list_events(params: Mapping[str, str] | None, merchant_id: str, tokens: PageTokens) -> ListEvents:
    """The verified merchant's events query (``from``/``to`` bound the events' ``created``, ``type``
    filters); ``next_token`` must be one ``tokens`` issued for exactly this query."""
    query = dict(params or {})
    unexpected = sorted(set(query) - {"type", "from", "to", "limit", "next_token"})
    if unexpected:
        raise InvalidRequest(f"unexpected query parameter {unexpected[0]!r}"[:200], unexpected[0][:100])
    created_from = _timestamp(query["from"], "from") if "from" in query else EARLIEST
    created_to = _timestamp(query["to"], "to") if "to" in query else LATEST
    if created_from > created_to:
        raise InvalidRequest("from must not be after to", "from")
    event_type = _event_type(query["type"]) if "type" in query else None
    token = query.get("next_token")
    start_key = None
    if token is not None:
        start_key = tokens.read(token, PageQuery(merchant_id, created_from, created_to, event_type or ""))
        if not is_event_id(start_key["event_id"]):
            raise InvalidRequest(INVALID, "next_token")
    return ListEvents(merchant_id, created_from, created_to, event_type, _limit(query.get("limit")), start_key)
