"""payment_core.api.page_tokens: opaque, tamper-evident list tokens (issue #11).

Every refusal is ``InvalidRequest`` on ``next_token`` (400), never a key handed to DynamoDB.
"""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payment_core.api.page_tokens import EXPIRED, INVALID, HmacSha256, PageQuery, PageTokens
from payment_core.errors import InvalidRequest

QUERY = PageQuery("m-1", "2026-01-01T00:00:00.000000Z", "2026-12-31T23:59:59.999999Z")
KEY = {"payment_id": "pay_1", "merchant_id": "m-1", "created_at": "2026-06-01T00:00:00.000000Z"}
NOW = 1_800_000_000.0


def tokens(now: float = NOW, secret: bytes = b"s" * 32) -> PageTokens:
    return PageTokens(HmacSha256(secret), max_age_seconds=3600, clock=lambda: now)


def refused(codec: PageTokens, token: str, query: PageQuery = QUERY) -> str:
    with pytest.raises(InvalidRequest) as error:
        codec.read(token, query)
    assert error.value.field == "next_token"
    return error.value.message


def test_a_token_round_trips_for_the_same_query() -> None:
    token = tokens().issue(QUERY, KEY)

    assert tokens(NOW + 10).read(token, QUERY) == KEY
    assert token.startswith("v2.1.")  # format v2, signed by MAC key version 1
    assert "m-1" not in token  # the merchant and bounds are bound by the MAC, not written


@pytest.mark.parametrize(
    "other",
    [
        PageQuery("m-2", QUERY.created_from, QUERY.created_to),
        PageQuery("m-1", "2026-02-01T00:00:00.000000Z", QUERY.created_to),
        PageQuery("m-1", QUERY.created_from, "2026-11-30T00:00:00.000000Z"),
    ],
)
def test_a_token_is_bound_to_merchant_and_bounds(other: PageQuery) -> None:
    token = tokens().issue(QUERY, KEY)

    assert refused(tokens(), token, other) == INVALID


def test_another_secret_does_not_verify() -> None:
    token = tokens(secret=b"a" * 32).issue(QUERY, KEY)

    assert refused(tokens(secret=b"b" * 32), token) == INVALID


def test_an_edited_payload_is_refused() -> None:
    version, key_version, payload, mac = tokens().issue(QUERY, KEY).split(".")
    document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    document["k"]["created_at"] = "2027-01-01T00:00:00.000000Z"  # outside the bounds: a 500 before
    edited = base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")

    assert refused(tokens(), f"{version}.{key_version}.{edited}.{mac}") == INVALID


def test_a_stale_token_is_refused_as_expired() -> None:
    token = tokens().issue(QUERY, KEY)

    assert refused(tokens(NOW + 3601), token) == EXPIRED
    assert refused(tokens(NOW - 3600), token) == INVALID  # issued in the future


@pytest.mark.parametrize(
    "key",
    [
        {**KEY, "created_at": "2027-01-01T00:00:00.000000Z"},  # outside to
        {**KEY, "merchant_id": "m-2"},
        {**KEY, "payment_id": ""},  # empty key values: DynamoDB ValidationException on AWS
        {"payment_id": "pay_1"},
        {**KEY, "extra": "x"},
    ],
)
def test_keys_the_platform_would_never_issue_are_refused_even_when_signed(key: dict[str, str]) -> None:
    """Defence in depth: a signed token whose key could not come from this query."""
    token = tokens().issue(QUERY, key)

    assert refused(tokens(), token) == INVALID


@pytest.mark.parametrize(
    "token",
    [
        *("", "v1", "v1..", "v2.a.b", "v1.a.b.c", "v2.a.b.c", "v2.01.b.c", "v2.-1.b.c", "v2.0.b.c"),
        *("é" * 10, "v2.1.!!!.???", "x" * 5000),
    ],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    assert refused(tokens(), token) == INVALID


@given(st.text(max_size=300))
def test_no_text_is_ever_anything_but_a_400(token: str) -> None:
    with pytest.raises(InvalidRequest):
        tokens().read(token, QUERY)


def test_kms_mac_signs_and_verifies_with_an_hmac_key() -> None:
    import boto3
    from moto import mock_aws
    from payment_core.api.page_tokens import KmsMac

    with mock_aws():
        kms = boto3.client("kms", region_name="us-east-1")
        key_id = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        other = kms.create_key(KeySpec="HMAC_256", KeyUsage="GENERATE_VERIFY_MAC")["KeyMetadata"]["KeyId"]
        codec = PageTokens(KmsMac(kms, key_id), clock=lambda: NOW)
        token = codec.issue(QUERY, KEY)

        assert codec.read(token, QUERY) == KEY
        assert refused(codec, token, PageQuery("m-2", QUERY.created_from, QUERY.created_to)) == INVALID
        assert refused(PageTokens(KmsMac(kms, other), clock=lambda: NOW), token) == INVALID
        assert refused(codec, token.rsplit(".", 1)[0] + ".AAAA") == INVALID  # wrong length: no KMS call
