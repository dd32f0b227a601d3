"""Parsing the webhook endpoint routes' requests: everything malformed becomes ``InvalidRequest``."""

from __future__ import annotations

from dataclasses import dataclass

from payment_core import contract
from payment_core.api.requests import body_text
from payment_core.errors import InvalidRequest
from payment_core.events.models import KNOWN_EVENT_TYPES
from payment_core.payments.validation import check_fields, load_json_object
from payment_core.webhooks.endpoints import is_endpoint_id

# What ``enabled_events`` may hold: every type once, or ``["*"]`` alone.
SUBSCRIBABLE: tuple[str, ...] = (contract.WEBHOOK_ALL_EVENTS, *KNOWN_EVENT_TYPES)


@dataclass(frozen=True)
class CreateEndpoint:
    """A checked ``POST /webhook_endpoints``: where to send, and which event types."""

    url: str
    enabled_events: tuple[str, ...]


def _enabled_events(value: object) -> tuple[str, ...]:
    message = f'enabled_events must be ["*"] or a list of distinct event types from: {", ".join(KNOWN_EVENT_TYPES)}'
    if not isinstance(value, list) or not value or not all(isinstance(each, str) for each in value):
        raise InvalidRequest(message[:300], "enabled_events")
    if len(set(value)) != len(value) or any(each not in SUBSCRIBABLE for each in value):
        raise InvalidRequest(message[:300], "enabled_events")
    if contract.WEBHOOK_ALL_EVENTS in value and len(value) > 1:
        raise InvalidRequest('enabled_events: "*" stands alone', "enabled_events")
    return tuple(value)


def parse_create_endpoint(body: str | None, is_base64: bool) -> CreateEndpoint:
    """``POST /webhook_endpoints``: ``{"url": "https://...", "enabled_events": [...]}``; the URL's
    destination rules are checked by the domain (payment_core.events.destinations.check_url)."""
    data = load_json_object(body_text(body, is_base64))
    check_fields(data, ("url", "enabled_events"))
    url = data["url"]
    if not isinstance(url, str):
        raise InvalidRequest("url must be a string", "url")
    return CreateEndpoint(url=url, enabled_events=_enabled_events(data["enabled_events"]))


def parse_endpoint_id(raw: str) -> str:
    if not is_endpoint_id(raw):
        raise InvalidRequest("endpoint_id must be a webhook endpoint id (we_...)", "endpoint_id")
    return raw
