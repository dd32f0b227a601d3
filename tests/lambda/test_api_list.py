"""GET /payments: merchant listing over the GSI, bounds and opaque pagination."""

from __future__ import annotations

import base64
import json

import pytest

from testkit.api import VALID_BODY, call, post
from testkit.events import api_event


def list_payments(aws, context, **query):
    return call(aws, context, api_event("GET", "/payments", query=query or None))


@pytest.fixture
def stored(aws, context, monkeypatch):
    """Five payments for merchant-1 at known times, one for merchant-2."""
    from datetime import UTC, datetime

    import payment_core.models as models

    api = aws.handlers["api"]
    ids = []
    for minute in range(5):
        moment = datetime(2026, 1, 1, 10, minute, 0, 123000, tzinfo=UTC)
        monkeypatch.setattr(api, "utc_now", lambda moment=moment: moment)
        ids.append(post(aws, context, VALID_BODY, key=f"list-{minute}")[1]["payment_id"])
    post(aws, context, VALID_BODY | {"merchant_id": "merchant-2"}, key="other")
    monkeypatch.setattr(api, "utc_now", models.utc_now)
    return ids


def test_lists_a_merchants_payments_in_creation_order(aws, context, stored):
    status, body = list_payments(aws, context, merchant_id="merchant-1")
    assert status == 200
    assert [item["payment_id"] for item in body["items"]] == stored
    assert body["items"][0]["created_at"] == "2026-01-01T10:00:00.123Z"
    assert body["items"][0]["amount"] == "125.50"
    assert body["next_token"] is None


def test_bounds_are_inclusive_and_accept_offsets(aws, context, stored):
    status, body = list_payments(
        aws,
        context,
        merchant_id="merchant-1",
        **{"from": "2026-01-01T11:01:00.123+01:00", "to": "2026-01-01T10:03:00.123Z"},
    )
    assert status == 200
    assert [item["payment_id"] for item in body["items"]] == stored[1:4]


def test_pages_through_with_next_token(aws, context, stored):
    seen = []
    query = {"merchant_id": "merchant-1", "limit": "2"}
    pages = 0
    while True:
        status, body = list_payments(aws, context, **query)
        assert status == 200
        pages += 1
        seen.extend(item["payment_id"] for item in body["items"])
        if body["next_token"] is None:
            break
        query["next_token"] = body["next_token"]
    assert seen == stored
    assert pages in (3, 4)  # DynamoDB may hand back a last empty page


def _token(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({}, "merchant_id"),
        ({"merchant_id": "bad id"}, "merchant_id"),
        ({"merchant_id": "m", "from": "yesterday"}, "from"),
        ({"merchant_id": "m", "to": "2026-13-01"}, "to"),
        ({"merchant_id": "m", "from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"merchant_id": "m", "limit": "0"}, "limit"),
        ({"merchant_id": "m", "limit": "101"}, "limit"),
        ({"merchant_id": "m", "limit": "ten"}, "limit"),
        ({"merchant_id": "m", "limit": "-1"}, "limit"),
        ({"merchant_id": "m", "next_token": "!!!"}, "next_token"),
        ({"merchant_id": "m", "next_token": _token([1])}, "next_token"),
        ({"merchant_id": "m", "next_token": _token({"payment_id": "p"})}, "next_token"),
        (
            {
                "merchant_id": "m",
                "next_token": _token({"payment_id": "p", "merchant_id": "other", "created_at": "2026"}),
            },
            "next_token",
        ),
        ({"merchant_id": "m", "next_token": "é"}, "next_token"),
        ({"merchant_id": "m", "sort": "desc"}, "sort"),
    ],
)
def test_bad_query_is_400(aws, context, query, field):
    status, body = list_payments(aws, context, **query)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["field"] == field
