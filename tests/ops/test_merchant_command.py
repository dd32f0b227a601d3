"""``make merchant``: onboarding and revoking merchants as data on a deployed stack (issue #11).

moto in-process stands in for the deployed stack's API Gateway and merchants table.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops.merchant import OnboardingError, Target, disable, main, onboard, read_outputs

REGION = "eu-west-1"


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    """What a deployed stack's outputs say, backed by moto."""
    with mock_aws():
        apigw = boto3.client("apigateway", region_name=REGION)
        api_id = apigw.create_rest_api(name="payments")["id"]
        plans = {
            tier: apigw.create_usage_plan(name=f"plan-{tier}", apiStages=[{"apiId": api_id, "stage": "prod"}])["id"]
            for tier in ("standard", "premium")
        }
        boto3.client("dynamodb", region_name=REGION).create_table(
            TableName="merchants-prod",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield {
            "api_endpoint_url": f"https://{api_id}.execute-api.{REGION}.amazonaws.com/prod",
            "merchants_table_name": "merchants-prod",
            "merchant_usage_plan_ids": plans,
        }


def test_onboarding_creates_a_key_in_the_tier_plan_and_a_merchant(stack: dict[str, Any]) -> None:
    target = Target(stack, endpoint=None)

    line = onboard(target, "m-1", "premium")

    apigw = boto3.client("apigateway", region_name=REGION)
    key = apigw.get_api_key(apiKey=line["api_key_id"], includeValue=True)
    assert (key["value"], key["enabled"]) == (line["api_key"], True)
    assert len(line["api_key"]) == 40 and line["api_key"].isalnum()
    plan_keys = apigw.get_usage_plan_keys(usagePlanId=stack["merchant_usage_plan_ids"]["premium"])["items"]
    assert [k["id"] for k in plan_keys] == [line["api_key_id"]]
    merchant = target.directory().by_api_key(line["api_key"])
    assert merchant is not None and (merchant.merchant_id, merchant.tier, merchant.active) == ("m-1", "premium", True)
    assert (line["merchant_id"], line["tier"], line["status"]) == ("m-1", "premium", "ACTIVE")


def test_disable_revokes_the_merchant_and_its_key(stack: dict[str, Any]) -> None:
    target = Target(stack, endpoint=None)
    line = onboard(target, "m-1")

    revoked = disable(target, "m-1")

    key = boto3.client("apigateway", region_name=REGION).get_api_key(apiKey=line["api_key_id"])
    assert key["enabled"] is False
    assert revoked == {"merchant_id": "m-1", "tier": "standard", "status": "DISABLED", "api_key_id": line["api_key_id"]}
    assert not target.directory().is_active("m-1")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda t: onboard(t, "bad id!"), "merchant id must be 1-64 letters, digits, '_' or '-'"),
        (lambda t: onboard(t, "m-1", "gold"), "unknown tier 'gold'; the stack has premium, standard"),
        (lambda t: disable(t, "m-404"), "merchant m-404 does not exist"),
    ],
)
def test_refusals_name_the_problem(stack: dict[str, Any], action: Any, message: str) -> None:
    with pytest.raises(OnboardingError) as refused:
        action(Target(stack, endpoint=None))

    assert str(refused.value) == message


def test_the_invoke_url_output_names_the_region_api_and_stage() -> None:
    # The demo's and the e2e tests' PlatformClient route requests by what this reads.
    target = Target({"api_endpoint_url": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/"}, endpoint=None)
    assert (target.region, target.api_and_stage()) == ("eu-west-1", ("a1b2c3", "prod"))

    with pytest.raises(OnboardingError) as refused:
        Target({"api_endpoint_url": "https://example.com/prod"}, endpoint=None).api_and_stage()
    assert str(refused.value) == "unexpected api_endpoint_url: 'https://example.com/prod'"


def test_a_second_onboarding_leaves_no_orphan_key(stack: dict[str, Any]) -> None:
    target = Target(stack, endpoint=None)
    onboard(target, "m-1")

    with pytest.raises(OnboardingError, match="merchant m-1 already exists"):
        onboard(target, "m-1")

    assert len(boto3.client("apigateway", region_name=REGION).get_api_keys()["items"]) == 1


def test_the_command_prints_one_json_line_from_a_cdktf_outputs_file(
    stack: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"TapStackprod": stack}))
    assert read_outputs(outputs) == stack

    assert main(["--merchant", "m-7", "--outputs", str(outputs)]) == 0
    created = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable"]) == 0
    revoked = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable", "--tier", "x"]) == 0
    capsys.readouterr()
    assert main(["--merchant", "m-8", "--outputs", str(outputs), "--tier", "gold"]) == 1

    assert set(created) == {"merchant_id", "tier", "status", "api_key", "api_key_id"}
    assert (revoked["merchant_id"], revoked["status"]) == ("m-7", "DISABLED")
    assert json.loads(capsys.readouterr().out) == {
        "error": "unknown tier 'gold'; the stack has premium, standard",
        "merchant_id": "m-8",
    }
