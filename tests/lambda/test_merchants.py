"""payment_core.tenancy.merchants: the directory behind the authorizer and the onboarding command:
secret keys kept as digests, rotation with an overlap, revocation, expiry."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from payment_core.tenancy.authorizer_policy import authorizer_response, stage_resource
from payment_core.tenancy.merchants import (
    MAX_LIVE_SECRET_KEYS,
    Authentication,
    MerchantDirectory,
    MerchantExists,
    MerchantStatus,
    SecretKeyRefused,
    UnknownMerchant,
)
from payment_core.tenancy.secret_keys import CredentialCheck, SecretKey, new_secret_key, secret_digest

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/payments/pay_1"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
USAGE_KEY = "usage-key-of-m-1-0000000000"


def issue(key_id: str, at: datetime = T0, days: int = 365) -> tuple[str, SecretKey]:
    secret = new_secret_key()
    return secret, SecretKey(key_id, secret_digest(secret), at, at + timedelta(days=days))


def onboard_m1(merchants: MerchantDirectory, key_id: str, at: datetime = T0, days: int = 365) -> str:
    """m-1 onboarded (standard) with a new secret key ``key_id``: the key's secret."""
    secret, key = issue(key_id, at, days)
    merchants.onboard("m-1", "standard", USAGE_KEY, "kid1", key)
    return secret


@pytest.fixture
def directory() -> Iterator[tuple[MerchantDirectory, Any]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="merchants",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield MerchantDirectory(client, "merchants"), client


def test_a_secret_key_authenticates_its_merchant_and_the_table_holds_only_its_digest(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, client = directory
    secret, key = issue("key_1")

    merchants.onboard("m-1", "standard", USAGE_KEY, "kid1", key)

    found = merchants.authenticate(secret, T0 + timedelta(days=1))
    assert found.check is CredentialCheck.ALLOWED and found.merchant is not None
    assert (found.merchant.merchant_id, found.merchant.tier, found.merchant.usage_key) == ("m-1", "standard", USAGE_KEY)
    assert merchants.authenticate(new_secret_key(), T0).check is CredentialCheck.UNKNOWN
    stored = str(client.scan(TableName="merchants")["Items"])
    assert secret not in stored and secret[3:] not in stored
    assert secret_digest(secret) in stored


def test_onboarding_twice_is_refused_and_disable_is_visible_at_once(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    secret, key = issue("key_1")
    merchants.onboard("m-1", "standard", USAGE_KEY, "kid1", key)
    refused_secret, refused_key = issue("key_9")

    with pytest.raises(MerchantExists):
        merchants.onboard("m-1", "premium", "usage-key-9-000000000000", "kid9", refused_key)
    disabled = merchants.set_status("m-1", MerchantStatus.DISABLED)

    assert disabled.status is MerchantStatus.DISABLED
    assert not merchants.is_active("m-1")
    assert merchants.authenticate(secret, T0).check is CredentialCheck.MERCHANT_DISABLED
    assert merchants.authenticate(refused_secret, T0).check is CredentialCheck.UNKNOWN  # nothing written
    with pytest.raises(UnknownMerchant):
        merchants.set_status("m-404", MerchantStatus.DISABLED)


def test_a_rotation_keeps_the_previous_key_for_the_overlap_then_refuses_it(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, _ = directory
    old_secret = onboard_m1(merchants, "key_old")
    rotated_at = T0 + timedelta(days=10)
    new_secret, new_key = issue("key_new", at=rotated_at)

    merchants.rotate("m-1", new_key, timedelta(hours=24))

    in_overlap = rotated_at + timedelta(hours=23)
    after = rotated_at + timedelta(hours=24)
    assert merchants.authenticate(old_secret, in_overlap).check is CredentialCheck.ALLOWED
    assert merchants.authenticate(new_secret, in_overlap).check is CredentialCheck.ALLOWED
    assert merchants.authenticate(old_secret, after).check is CredentialCheck.OVERLAP_ENDED
    assert merchants.authenticate(new_secret, after).check is CredentialCheck.ALLOWED


def test_each_key_expires_on_its_own(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    secret = onboard_m1(merchants, "key_1", days=30)

    assert merchants.authenticate(secret, T0 + timedelta(days=30) - timedelta(seconds=1)).allowed
    assert merchants.authenticate(secret, T0 + timedelta(days=30)).check is CredentialCheck.EXPIRED


def test_revoking_one_key_or_all_of_them(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    first_secret = onboard_m1(merchants, "key_1")
    second_secret, second = issue("key_2", at=T0 + timedelta(hours=1))
    merchants.rotate("m-1", second, timedelta(days=7))
    now = T0 + timedelta(hours=2)

    merchants.revoke("m-1", "key_1", now)
    assert merchants.authenticate(first_secret, now).check is CredentialCheck.REVOKED
    assert merchants.authenticate(second_secret, now).allowed

    merchants.revoke("m-1", None, now)
    assert merchants.authenticate(second_secret, now).check is CredentialCheck.REVOKED
    with pytest.raises(SecretKeyRefused) as refused:
        merchants.revoke("m-1", "key_404", now)
    assert str(refused.value) == "merchant m-1 has no secret key key_404"


def test_a_rotation_drops_dead_keys_and_refuses_more_live_keys_than_the_limit(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, client = directory
    dead_secret = onboard_m1(merchants, "key_dead", days=1)
    at = T0 + timedelta(days=2)  # the first key has expired

    for n in range(MAX_LIVE_SECRET_KEYS):
        merchants.rotate("m-1", issue(f"key_{n}", at=at)[1], timedelta(days=1))

    merchant = merchants.get("m-1")
    assert merchant is not None and [k.key_id for k in merchant.secret_keys] == [
        f"key_{n}" for n in range(MAX_LIVE_SECRET_KEYS)
    ]
    assert secret_digest(dead_secret) not in str(client.scan(TableName="merchants")["Items"])
    with pytest.raises(SecretKeyRefused) as refused:
        merchants.rotate("m-1", issue("key_x", at=at)[1], timedelta(days=1))
    assert str(refused.value) == "merchant m-1 has 5 live secret keys, the most it may hold: revoke one first"


def test_the_authorizer_allows_a_live_key_on_the_whole_stage_with_the_metering_key(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, _ = directory
    secret = onboard_m1(merchants, "key_1")

    response = authorizer_response(merchants.authenticate(secret, T0), METHOD_ARN)

    assert response == {
        "principalId": "m-1",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*",
                }
            ],
        },
        "context": {"merchant_id": "m-1", "tier": "standard", "api_version": "2026-12-01"},
        "usageIdentifierKey": USAGE_KEY,
    }
    assert secret not in json.dumps(response)


@pytest.mark.parametrize("check", [c for c in CredentialCheck if c is not CredentialCheck.ALLOWED])
def test_the_authorizer_denies_every_refusal_without_context_or_metering_key(check: CredentialCheck) -> None:
    response = authorizer_response(Authentication(check), METHOD_ARN)

    assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    assert "context" not in response and "usageIdentifierKey" not in response


def test_stage_resource_covers_every_method_and_path() -> None:
    assert stage_resource(METHOD_ARN) == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"


def test_onboarding_pins_the_latest_version_and_only_a_served_version_can_be_pinned(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, client = directory
    merchants.onboard("m-1", "standard", USAGE_KEY, "kid1")
    found = merchants.get("m-1")
    assert found is not None and found.api_version == "2026-12-01"
    # A merchant onboarded before versions were pinned has none stored: it gets the latest.
    client.update_item(TableName="merchants", Key={"pk": {"S": "merchant#m-1"}}, UpdateExpression="REMOVE api_version")
    legacy = merchants.get("m-1")
    assert legacy is not None and legacy.api_version == "2026-12-01"

    with pytest.raises(ValueError) as refused:
        merchants.set_api_version("m-1", "2019-01-01")
    assert str(refused.value) == "api_version must be one of: 2026-12-01, got '2019-01-01'"
    with pytest.raises(UnknownMerchant):
        merchants.set_api_version("m-404", "2026-12-01")
    assert merchants.set_api_version("m-1", "2026-12-01").api_version == "2026-12-01"
