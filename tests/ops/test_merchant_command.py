"""``make merchant``: onboarding merchants, rotating and revoking their secret keys, disabling
them, as data on a deployed stack.

moto stands in for the deployed stack's API Gateway and merchants table: in-process, or as a
server behind an endpoint where the command's ``--endpoint`` is what is tested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer
from payment_core.payments.models import utc_now
from payment_core.tenancy.secret_keys import CredentialCheck, bearer_secret

from ops.merchant import (
    Credentials,
    KeyPolicy,
    OnboardingError,
    Target,
    disable,
    main,
    onboard,
    read_outputs,
    revoke,
    rotate,
)

REGION = "eu-west-1"


def deploy_stack(region: str, endpoint: str | None = None, url_region: str | None = None) -> dict[str, Any]:
    """A stack's merchant resources in ``region``; its outputs (the invoke URL naming ``url_region``)."""
    clients = {"region_name": region, "endpoint_url": endpoint}
    apigw = boto3.client("apigateway", **clients)  # type: ignore[call-overload]
    api_id = apigw.create_rest_api(name="payments")["id"]
    plans = {
        tier: apigw.create_usage_plan(name=f"plan-{tier}", apiStages=[{"apiId": api_id, "stage": "prod"}])["id"]
        for tier in ("standard", "premium")
    }
    boto3.client("dynamodb", **clients).create_table(  # type: ignore[call-overload]
        TableName="merchants-prod",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return {
        "api_endpoint_url": f"https://{api_id}.execute-api.{url_region or region}.amazonaws.com/prod",
        "merchants_table_name": "merchants-prod",
        "merchant_usage_plan_ids": plans,
    }


@pytest.fixture
def stack() -> Iterator[dict[str, Any]]:
    """What a deployed stack's outputs say, backed by moto in-process."""
    with mock_aws():
        yield deploy_stack(REGION)


@pytest.fixture
def moto_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An AWS-compatible endpoint (moto as a server), with test credentials in the default chain."""
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


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
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--rotate", "--overlap-hours", "1"]) == 0
    rotated = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--revoke", created["key_id"]]) == 0
    revoked_key = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable"]) == 0
    revoked = json.loads(capsys.readouterr().out.strip())
    assert main(["--merchant", "m-7", "--outputs", str(outputs), "--disable", "--tier", "x"]) == 0
    capsys.readouterr()
    assert main(["--merchant", "m-8", "--outputs", str(outputs), "--tier", "gold"]) == 1

    assert set(created) == {"merchant_id", "tier", "status", "secret_key", "key_id", "api_key_id", "expires_at"}
    assert set(rotated) == set(created) | {"previous_keys_valid_until"} and rotated["key_id"] != created["key_id"]
    assert [k["key_id"] for k in revoked_key["secret_keys"] if "revoked_at" in k] == [created["key_id"]]
    assert (revoked["merchant_id"], revoked["status"]) == ("m-7", "DISABLED")
    assert json.loads(capsys.readouterr().out) == {
        "error": "unknown tier 'gold'; the stack has premium, standard",
        "merchant_id": "m-8",
    }


def test_a_cdktf_outputs_file_of_a_deploy_gives_the_platform_stack(tmp_path: Path) -> None:
    # `make deploy` runs `cdktf deploy TapAccount TapStack<suffix> --outputs-file`: both stacks' outputs.
    platform = {"api_endpoint_url": "https://a1.execute-api.eu-west-1.amazonaws.com/prod", "x": {"k": "v"}}
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"TapAccount": {"api_gateway_cloudwatch_role_arn": "arn"}, "TapStackpr7": platform}))

    assert read_outputs(outputs) == platform
    assert read_outputs(outputs, "TapAccount") == {"api_gateway_cloudwatch_role_arn": "arn"}
    with pytest.raises(OnboardingError) as unknown:
        read_outputs(outputs, "TapStackpr8")
    assert str(unknown.value) == f"outputs file {outputs} has no stack 'TapStackpr8'; it has TapAccount, TapStackpr7"

    outputs.write_text(json.dumps({"TapStackpr7": platform, "TapStackpr8": platform}))
    assert read_outputs(outputs, "TapStackpr8") == platform
    with pytest.raises(OnboardingError) as ambiguous:
        read_outputs(outputs)
    assert str(ambiguous.value) == (
        f"outputs file {outputs}: give --stack, stacks with an api_endpoint_url: TapStackpr7, TapStackpr8"
    )


def test_terraform_output_json_and_flat_maps_are_read_as_they_are(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(
        json.dumps({"api_endpoint_url": {"value": "u", "type": "string"}, "plans": {"value": {"a": "1"}}})
    )
    assert read_outputs(outputs) == {"api_endpoint_url": "u", "plans": {"a": "1"}}

    outputs.write_text(json.dumps({"api_endpoint_url": "u", "plans": {"a": "1"}}))
    assert read_outputs(outputs) == {"api_endpoint_url": "u", "plans": {"a": "1"}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "outputs file {path} does not exist"),
        (
            "{not json",
            "outputs file {path} is not JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        ("[1]", "outputs file {path} is not a JSON object"),
    ],
)
def test_an_unreadable_outputs_file_is_named(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "outputs.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(OnboardingError) as refused:
        read_outputs(path)

    assert str(refused.value) == message.format(path=path)


@pytest.mark.parametrize(
    ("endpoint", "region", "message"),
    [
        ("127.0.0.1:4566", None, "endpoint must be an http(s) URL such as http://127.0.0.1:4566, got '127.0.0.1:4566'"),
        ("", None, "endpoint must be an http(s) URL such as http://127.0.0.1:4566, got ''"),
        ("http://127.0.0.1:4566", "Europe", "region must be an AWS region such as eu-west-1, got 'Europe'"),
    ],
)
def test_a_bad_endpoint_or_region_is_refused_before_any_call(endpoint: str, region: str | None, message: str) -> None:
    with pytest.raises(OnboardingError) as refused:
        Target({}, endpoint, region)

    assert str(refused.value) == message


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


def test_given_credentials_sign_every_request_to_the_endpoint(moto_server: str) -> None:
    stack = deploy_stack(REGION, endpoint=moto_server)
    target = Target(stack, moto_server, credentials=Credentials("AKIDLOCALEXAMPLE", "local-secret"))
    signed: list[bytes] = []
    client = target.client("dynamodb")
    client.meta.events.register("before-send", lambda request, **_: signed.append(request.headers["Authorization"]))

    client.describe_table(TableName="merchants-prod")

    assert client.meta.endpoint_url == moto_server
    assert len(signed) == 1 and b"Credential=AKIDLOCALEXAMPLE/" in signed[0]
