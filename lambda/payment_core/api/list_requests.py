"""Parsing of the list routes (``GET /payments``, ``GET /events``) and of an event id
(``GET /events/{event_id}``): what needs list page tokens (``payment_core.api.page_tokens``) and
the events' models. ``POST /payments`` and ``GET /payments/{id}`` need neither, so the api handler
imports this module in those routes, on first use (``payment_core.handlers.api``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from payment_core import contract
from payment_core.api.page_tokens import INVALID, PageQuery, PageTokens
from payment_core.errors import InvalidRequest
from payment_core.events.models import is_event_id
from payment_core.payments.models import format_timestamp
from payment_core.payments.validation import merchant_id_field
from payment_core.tenancy.callers import bind_merchant

# Limits the OpenAPI document publishes (payment_core.contract, read by payment_core.api_contract).
DEFAULT_PAGE_SIZE = contract.DEFAULT_PAGE_SIZE
MAX_PAGE_SIZE = contract.MAX_PAGE_SIZE
EARLIEST = "0000-01-01T00:00:00.000Z"
LATEST = "9999-12-31T23:59:59.999Z"
# An event type: ``<object>.<what happened>`` (payment_core.events.models.EVENT_TYPES).
EVENT_TYPE = re.compile(r"^[a-z_]{1,32}\.[a-z_]{1,32}$")


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
