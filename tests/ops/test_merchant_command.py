"""``make merchant``: onboarding merchants, rotating and revoking their secret keys, disabling
them, as data on a deployed stack.

moto stands in for the deployed stack's API Gateway and merchants table: in-process, or as a
server behind an endpoint where the command's ``--endpoint`` is what is tested.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from payment_core import contract
from payment_core.payments.models import utc_now
from payment_core.tenancy.secret_keys import CredentialCheck, bearer_secret

from ops.merchant import KeyPolicy, disable, main, onboard, pin_version, revoke, rotate
from ops.stack_target import OnboardingError, Target, read_outputs
from tests.ops.stacks import REGION, deploy_stack


def test_onboarding_creates_a_metering_key_in_the_tier_plan_and_a_secret_key(stack: dict[str, Any]) -> None:
    target = Target(stack, endpoint=None)

    line = onboard(target, "m-1", "premium")

    apigw = boto3.client("apigateway", region_name=REGION)
    key = apigw.get_api_key(apiKey=line["api_key_id"], includeValue=True)
    assert key["enabled"] is True and key["value"] != line["secret_key"]
    plan_keys = apigw.get_usage_plan_keys(usagePlanId=stack["merchant_usage_plan_ids"]["premium"])["items"]
    assert [k["id"] for k in plan_keys] == [line["api_key_id"]]
    assert line["secret_key"].startswith("sk_") and bearer_secret({"authorization": f"Bearer {line['secret_key']}"})
    found = target.directory().authenticate(line["secret_key"], utc_now())
    assert found.allowed and found.merchant is not None
    assert (found.merchant.merchant_id, found.merchant.tier, found.merchant.usage_key) == (
        "m-1",
        "premium",
        key["value"],
    )
    assert (line["merchant_id"], line["tier"], line["status"]) == ("m-1", "premium", "ACTIVE")


def test_nothing_api_gateway_holds_authenticates(stack: dict[str, Any]) -> None:
    """What ``get-api-keys --include-values`` hands anyone with apigateway:GET: metering ids only."""
    target = Target(stack, endpoint=None)
    onboard(target, "m-1")
    onboard(target, "m-2")

    values = [
        k["value"] for k in boto3.client("apigateway", region_name=REGION).get_api_keys(includeValues=True)["items"]
    ]

    assert len(values) == 2
    for value in values:
        assert bearer_secret({"Authorization": f"Bearer {value}"}) is None  # refused before any read
        assert target.directory().authenticate(value, utc_now()).check is CredentialCheck.UNKNOWN


def test_rotate_keeps_the_previous_key_for_the_overlap_and_revoke_ends_it(stack: dict[str, Any]) -> None:
    target = Target(stack, endpoint=None)
    first = onboard(target, "m-1")

    second = rotate(target, "m-1", KeyPolicy(overlap_hours=6))

    directory = target.directory()
    now = utc_now()
    assert directory.authenticate(first["secret_key"], now).allowed
    assert directory.authenticate(second["secret_key"], now).allowed
    merchant = directory.get("m-1")
    assert merchant is not None
    old = merchant.secret_key(first["key_id"])
    assert old is not None and old.retires_at is not None
    assert second["previous_keys_valid_until"] == old.to_item()["retires_at"]
    assert 6 * 3600 - 60 < (old.retires_at - now).total_seconds() <= 6 * 3600

    revoked = revoke(target, "m-1", first["key_id"])

    assert directory.authenticate(first["secret_key"], utc_now()).check is CredentialCheck.REVOKED
    assert directory.authenticate(second["secret_key"], utc_now()).allowed
    assert [(k["key_id"], "revoked_at" in k) for k in revoked["secret_keys"]] == sorted(
        [(first["key_id"], True), (second["key_id"], False)]
    )
    assert first["secret_key"] not in json.dumps(revoked) and "digest" not in json.dumps(revoked)
    revoke(target, "m-1", "all")
    assert directory.authenticate(second["secret_key"], utc_now()).check is CredentialCheck.REVOKED


def test_a_merchant_onboarded_before_secret_keys_gets_its_first_one_by_rotating(stack: dict[str, Any]) -> None:
    """The migration (docs/operations.md): its API key's value becomes its metering id."""
    target = Target(stack, endpoint=None)
    apigw = boto3.client("apigateway", region_name=REGION)
    legacy = apigw.create_api_key(name="merchant-old", enabled=True, value="legacy-api-key-value-0000000000")
    target.directory().onboard("m-old", "standard", "", legacy["id"])  # as the old command left it: no secret key

    line = rotate(target, "m-old")

    found = target.directory().authenticate(line["secret_key"], utc_now())
    assert found.allowed and found.merchant is not None
    assert found.merchant.usage_key == "legacy-api-key-value-0000000000"
    assert line["previous_keys_valid_until"] == ""


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
        (lambda t: pin_version(t, "m-404", "2026-12-01"), "merchant m-404 does not exist"),
        (
            lambda t: pin_version(t, onboard(t, "m-1")["merchant_id"], "2019-01-01"),
            "api_version must be one of: 2026-12-01, got '2019-01-01'",
        ),
        (lambda t: rotate(t, "m-404"), "merchant m-404 does not exist"),
        (lambda t: revoke(t, "m-404", "all"), "merchant m-404 does not exist"),
        (lambda t: revoke(t, onboard(t, "m-1")["merchant_id"], "key_404"), "merchant m-1 has no secret key key_404"),
        (lambda t: KeyPolicy(expires_days=0), "expires-days must be 1 to 730, got 0"),
        (lambda t: KeyPolicy(overlap_hours=721), "overlap-hours must be 0 to 720, got 721"),
        (
            lambda t: KeyPolicy(expires_days=1, overlap_hours=24),
            "overlap-hours (24) must be shorter than a key's life (expires-days 1)",
        ),
    ],
)
def test_refusals_name_the_problem(stack: dict[str, Any], action: Any, message: str) -> None:
    with pytest.raises(OnboardingError) as refused:
        action(Target(stack, endpoint=None))

    assert str(refused.value) == message


def test_onboarding_pins_the_latest_version_and_pin_version_moves_it(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Target(stack, endpoint=None)
    onboard(target, "m-1")
    found = target.directory().get("m-1")
    assert found is not None and found.api_version == "2026-12-01"
    # A version older than the latest (the contract has one today): a merchant may stay on it.
    monkeypatch.setattr(contract, "API_VERSIONS", ("2026-06-01", "2026-12-01"))

    line = pin_version(target, "m-1", "2026-06-01")

    assert line == {"merchant_id": "m-1", "api_version": "2026-06-01"}
    found = target.directory().get("m-1")
    assert found is not None and found.api_version == "2026-06-01"


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
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--rotate", "--overlap-hours", "1"]) == 0
    rotated = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--revoke", created["key_id"]]) == 0
    revoked_key = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--pin-version", "2026-12-01"]) == 0
    pinned = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable"]) == 0
    revoked = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable", "--tier", "x"]) == 0
    capsys.readouterr()
    assert main(["--merchant", "m-8", "--outputs", str(outputs), "--tier", "gold"]) == 1

    assert set(created) == {"merchant_id", "tier", "status", "secret_key", "key_id", "api_key_id", "expires_at"}
    assert set(rotated) == set(created) | {"previous_keys_valid_until"} and rotated["key_id"] != created["key_id"]
    assert [k["key_id"] for k in revoked_key["secret_keys"] if "revoked_at" in k] == [created["key_id"]]
    assert pinned == {"merchant_id": "m-7", "api_version": "2026-12-01"}
    assert (revoked["merchant_id"], revoked["status"]) == ("m-7", "DISABLED")
    assert json.loads(capsys.readouterr().out) == {
        "error": "unknown tier 'gold'; the stack has premium, standard",
        "merchant_id": "m-8",
    }


def test_the_command_onboards_on_the_stack_at_the_endpoint_and_region_given(
    moto_server: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Resources in ap-southeast-2; the invoke URL names eu-west-1: only --region finds the stack.
    stack = deploy_stack("ap-southeast-2", endpoint=moto_server, url_region="eu-west-1")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"TapAccount": {}, "TapStackpr7": stack}))
    command = ["--merchant", "m-1", "--outputs", str(outputs), "--endpoint", moto_server]

    assert main([*command, "--tier", "premium"]) == 1
    missed = json.loads(capsys.readouterr().out)
    assert main([*command, "--tier", "premium", "--region", "ap-southeast-2"]) == 0
    created = json.loads(capsys.readouterr().out)

    assert "ResourceNotFoundException" in missed["error"]
    apigw = boto3.client("apigateway", region_name="ap-southeast-2", endpoint_url=moto_server)
    plan_keys = apigw.get_usage_plan_keys(usagePlanId=stack["merchant_usage_plan_ids"]["premium"])["items"]
    assert [key["id"] for key in plan_keys] == [created["api_key_id"]]
    target = Target(stack, moto_server, "ap-southeast-2")
    assert target.directory().is_active("m-1")
    assert target.client("apigateway").get_api_keys()["items"][0]["id"] == created["api_key_id"]
