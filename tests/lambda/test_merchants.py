"""payment_core.tenancy.merchants: the directory behind the authorizer and the onboarding command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from payment_core.tenancy.merchants import (
    MerchantDirectory,
    MerchantExists,
    MerchantStatus,
    UnknownMerchant,
    api_key_digest,
    authorizer_response,
    stage_resource,
)

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/payments/pay_1"


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


def test_onboarded_merchant_is_found_by_its_key_and_the_table_never_holds_the_key(
    directory: tuple[MerchantDirectory, Any],
) -> None:
    merchants, client = directory

    merchants.onboard("m-1", "standard", "secret-key-value-000000001", "kid1")

    found = merchants.by_api_key("secret-key-value-000000001")
    assert found is not None and (found.merchant_id, found.tier, found.active) == ("m-1", "standard", True)
    assert merchants.by_api_key("secret-key-value-000000002") is None
    stored = str(client.scan(TableName="merchants")["Items"])
    assert "secret-key-value" not in stored
    assert api_key_digest("secret-key-value-000000001") in stored


def test_onboarding_twice_is_refused_and_disable_is_visible_at_once(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    merchants.onboard("m-1", "standard", "secret-key-value-000000001", "kid1")

    with pytest.raises(MerchantExists):
        merchants.onboard("m-1", "premium", "secret-key-value-000000009", "kid9")
    disabled = merchants.set_status("m-1", MerchantStatus.DISABLED)

    assert disabled.status is MerchantStatus.DISABLED
    assert not merchants.is_active("m-1")
    found = merchants.by_api_key("secret-key-value-000000001")
    assert found is not None and not found.active
    assert merchants.by_api_key("secret-key-value-000000009") is None  # the refused onboarding wrote nothing
    with pytest.raises(UnknownMerchant):
        merchants.set_status("m-404", MerchantStatus.DISABLED)


def test_authorizer_allows_an_active_merchant_on_the_whole_stage(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    merchant = merchants.onboard("m-1", "standard", "secret-key-value-000000001", "kid1")

    response = authorizer_response(merchant, METHOD_ARN)

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
        "context": {"merchant_id": "m-1", "tier": "standard"},
    }
    assert "secret-key-value-000000001" not in json.dumps(response)


def test_authorizer_denies_unknown_and_disabled_merchants(directory: tuple[MerchantDirectory, Any]) -> None:
    merchants, _ = directory
    merchants.onboard("m-1", "standard", "secret-key-value-000000001", "kid1")
    disabled = merchants.set_status("m-1", MerchantStatus.DISABLED)

    for merchant in (None, disabled):
        response = authorizer_response(merchant, METHOD_ARN)
        assert response["policyDocument"]["Statement"][0]["Effect"] == "Deny"
        assert "context" not in response and "usageIdentifierKey" not in response


def test_stage_resource_covers_every_method_and_path() -> None:
    assert stage_resource(METHOD_ARN) == "arn:aws:execute-api:us-east-1:123456789012:abc123/prod/*/*"
