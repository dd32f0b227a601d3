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

    import payment_core.payments.models as models
    import payment_core.payments.submission as submission  # stamps created_at on accepted API payments

    ids = []
    for minute in range(5):
        moment = datetime(2026, 1, 1, 10, minute, 0, 123000, tzinfo=UTC)
        monkeypatch.setattr(submission, "utc_now", lambda moment=moment: moment)
        ids.append(post(aws, context, VALID_BODY, key=f"list-{minute}")[1]["payment_id"])
    monkeypatch.setattr(submission, "utc_now", models.utc_now)
    post(aws, context, VALID_BODY | {"merchant_id": "merchant-2"}, key="other", merchant_id="merchant-2")
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
        ({"merchant_id": "bad id"}, "merchant_id"),
        ({"merchant_id": "merchant-1", "from": "yesterday"}, "from"),
        ({"merchant_id": "merchant-1", "to": "2026-13-01"}, "to"),
        ({"merchant_id": "merchant-1", "from": "2026-02-01", "to": "2026-01-01"}, "from"),
        ({"merchant_id": "merchant-1", "limit": "0"}, "limit"),
        ({"merchant_id": "merchant-1", "limit": "101"}, "limit"),
        ({"merchant_id": "merchant-1", "limit": "ten"}, "limit"),
        ({"merchant_id": "merchant-1", "limit": "-1"}, "limit"),
        ({"merchant_id": "merchant-1", "next_token": "!!!"}, "next_token"),
        ({"merchant_id": "merchant-1", "next_token": _token([1])}, "next_token"),
        ({"merchant_id": "merchant-1", "next_token": _token({"payment_id": "p"})}, "next_token"),
        (
            {
                "merchant_id": "merchant-1",
                "next_token": _token({"payment_id": "p", "merchant_id": "other", "created_at": "2026"}),
            },
            "next_token",
        ),
        ({"merchant_id": "merchant-1", "next_token": "é"}, "next_token"),
        ({"merchant_id": "merchant-1", "sort": "desc"}, "sort"),
    ],
)
def test_bad_query_is_400(aws, context, query, field):
    status, body = list_payments(aws, context, **query)
    assert status == 400
    assert body["error"]["code"] == "invalid_request"
    assert body["error"]["field"] == field


def test_the_caller_lists_only_its_own_payments(aws, context, stored):
    """No merchant_id needed: the authorizer's merchant is the one listed."""
    status, body = call(aws, context, api_event("GET", "/payments", merchant_id="merchant-2"))

    assert status == 200
    assert [item["merchant_id"] for item in body["items"]] == ["merchant-2"]


def test_naming_another_merchant_is_403(aws, context, stored):
    status, body = list_payments(aws, context, merchant_id="merchant-2")

    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "merchant_mismatch", "merchant_id")


def _first_token(aws, context, **query):
    status, body = list_payments(aws, context, limit="2", **query)
    assert status == 200 and body["next_token"]
    return body["next_token"]


def test_a_token_is_opaque_and_bound_to_merchant_and_bounds(aws, context, stored):
    token = _first_token(aws, context, to="2026-01-01T10:04:00Z")
    assert token.startswith("v2.1.") and token.count(".") == 3  # key version, payload + MAC, not a raw key

    for query, merchant in (
        ({"to": "2026-01-01T10:04:00Z"}, "merchant-2"),  # replayed by another merchant
        ({"to": "2026-01-01T10:01:00Z"}, "merchant-1"),  # stale: its key lies after the new "to"
        ({}, "merchant-1"),  # other bounds
    ):
        event = api_event("GET", "/payments", query={**query, "next_token": token}, merchant_id=merchant)
        status, body = call(aws, context, event)
        assert (status, body["error"]["field"]) == (400, "next_token")


def test_an_edited_token_is_400_never_500(aws, context, stored):
    version, key_version, payload, mac = _first_token(aws, context).split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=="))
    document["k"]["created_at"] = "2099-01-01T00:00:00.000Z"  # DynamoDB ValidationException on AWS
    edited = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    status, body = list_payments(aws, context, next_token=f"{version}.{key_version}.{edited}.{mac}")

    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "invalid_request", "next_token")


def _rotate_to(aws, moto_clients, monkeypatch, version, previous_key_id):
    """The stack after raising page_token_key_version: a new HMAC key signs, ``previous_key_id`` verifies."""
    from payment_core import contract

    from testkit.handlers import use_clients

    key_id = aws.kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
    monkeypatch.setenv(contract.PAGE_TOKEN_KEY_VERSION, str(version))
    monkeypatch.setenv(contract.PAGE_TOKEN_KEY_ID, key_id)
    monkeypatch.setenv(contract.PAGE_TOKEN_PREVIOUS_KEY_ID, previous_key_id)
    use_clients(aws.handlers["api"], moto_clients)  # a new execution environment reads the new variables
    return key_id


def test_after_a_key_rotation_open_tokens_page_on_and_a_retired_keys_token_is_a_clear_400(
    aws, context, stored, moto_clients, monkeypatch
):
    signed_by_v1 = _first_token(aws, context)
    v2_key = _rotate_to(aws, moto_clients, monkeypatch, 2, aws.page_token_key_id)

    status, body = list_payments(aws, context, limit="2", next_token=signed_by_v1)
    assert status == 200 and len(body["items"]) == 2 and body["next_token"].startswith("v2.2.")

    _rotate_to(aws, moto_clients, monkeypatch, 3, v2_key)
    status, body = list_payments(aws, context, limit="2", next_token=signed_by_v1)
    assert (status, body["error"]) == (
        400,
        {
            "code": "invalid_request",
            "field": "next_token",
            "message": "next_token was signed with a retired key; list again without it",
        },
    )
