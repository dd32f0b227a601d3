"""``ops.stack_target``: how ``make merchant`` reads a stack's outputs and reaches its endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ops.stack_target import Credentials, OnboardingError, Target, read_outputs
from tests.ops.stacks import REGION, deploy_stack

CERTIFICATE_ARN = f"arn:aws:acm:{REGION}:123456789012:certificate/00000000-0000-0000-0000-000000000000"


def test_the_invoke_url_output_names_the_region_api_and_stage() -> None:
    # The demo's and the e2e tests' PlatformClient route requests by what this reads.
    target = Target({"api_endpoint_url": "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/prod/"}, endpoint=None)
    assert (target.region, target.api_and_stage()) == ("eu-west-1", ("a1b2c3", "prod"))

    with pytest.raises(OnboardingError) as refused:
        Target({"api_endpoint_url": "https://example.com/prod"}, endpoint=None).api_and_stage()
    assert str(refused.value) == "unexpected api_endpoint_url: 'https://example.com/prod'"


def test_an_api_on_its_custom_domain_is_the_one_its_root_mapping_names() -> None:
    # Prod serves the API only on its custom domain (edge.custom_domain_required): api_endpoint_url
    # is the domain's root, and API Gateway routes it by the domain's base path mapping.
    with mock_aws():
        apigateway = boto3.client("apigateway", region_name=REGION)
        api_id = apigateway.create_rest_api(name="payments-api")["id"]
        root_id = apigateway.get_resources(restApiId=api_id)["items"][0]["id"]
        apigateway.put_method(restApiId=api_id, resourceId=root_id, httpMethod="GET", authorizationType="NONE")
        apigateway.put_integration(restApiId=api_id, resourceId=root_id, httpMethod="GET", type="MOCK")
        apigateway.create_deployment(restApiId=api_id, stageName="prod")
        for domain in ("api.prod.payments.internal", "api.unmapped.payments.internal"):
            apigateway.create_domain_name(domainName=domain, regionalCertificateArn=CERTIFICATE_ARN)
        apigateway.create_base_path_mapping(domainName="api.prod.payments.internal", restApiId=api_id, stage="prod")
        # Requests to the other domain's root reach no API: only /v1 is mapped there.
        apigateway.create_base_path_mapping(
            domainName="api.unmapped.payments.internal", restApiId=api_id, stage="prod", basePath="v1"
        )

        mapped = Target({"api_endpoint_url": "https://api.prod.payments.internal"}, region_name=REGION)
        assert mapped.api_and_stage() == (api_id, "prod")
        unmapped = Target({"api_endpoint_url": "https://api.unmapped.payments.internal"}, region_name=REGION)
        with pytest.raises(OnboardingError) as refused:
            unmapped.api_and_stage()
    assert str(refused.value) == "the custom domain api.unmapped.payments.internal maps no API at its root"


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


def test_given_credentials_sign_every_request_to_the_endpoint(moto_server: str) -> None:
    stack = deploy_stack(REGION, endpoint=moto_server)
    target = Target(stack, moto_server, credentials=Credentials("AKIDLOCALEXAMPLE", "local-secret"))
    signed: list[bytes] = []
    client = target.client("dynamodb")
    client.meta.events.register("before-send", lambda request, **_: signed.append(request.headers["Authorization"]))

    client.describe_table(TableName="merchants-prod")

    assert client.meta.endpoint_url == moto_server
    assert len(signed) == 1 and b"Credential=AKIDLOCALEXAMPLE/" in signed[0]
