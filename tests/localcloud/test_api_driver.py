"""localcloud.triggers.invoke_rest_api: API Gateway REST proxy semantics over the emulator."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from localcloud.execute_api import local_invoke_url
from localcloud.triggers import invoke_rest_api
from tests.localcloud.conftest import proxy_route, root_resource

PROXY_HANDLER = """
import json

def handler(event, context):
    if event["pathParameters"] and event["pathParameters"].get("payment_id") == "explode":
        raise KeyError("boom")
    return {
        "statusCode": 201 if event["httpMethod"] == "POST" else 200,
        "headers": {"Content-Type": "application/json", "X-Handler": "proxy"},
        "body": json.dumps({
            "resource": event["resource"],
            "path": event["path"],
            "pathParameters": event["pathParameters"],
            "query": event["queryStringParameters"],
            "body": event["body"],
            "stage": event["requestContext"]["stage"],
            "apiKey": event["requestContext"]["identity"]["apiKey"],
        }),
    }
"""


@pytest.fixture
def rest_api(aws: Callable[[str], Any], create_function: Callable[..., str], unique: str) -> tuple[str, str]:
    """A deployed API like the stack's: POST /payments (validated), GET /payments/{payment_id}."""
    function_arn = create_function({"handler.py": PROXY_HANDLER})
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=f"api-{unique}")["id"]
    root = root_resource(apigw, api_id)
    payments = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="payments")["id"]
    payment = apigw.create_resource(restApiId=api_id, parentId=payments, pathPart="{payment_id}")["id"]
    apigw.create_model(
        restApiId=api_id,
        name="CreatePayment",
        contentType="application/json",
        schema=json.dumps(
            {
                "$schema": "http://json-schema.org/draft-04/schema#",
                "type": "object",
                "required": ["merchant_id", "amount"],
                "properties": {"merchant_id": {"type": "string"}, "amount": {"type": "number"}},
            }
        ),
    )
    validator = apigw.create_request_validator(restApiId=api_id, name="body", validateRequestBody=True)["id"]
    for resource, method, extra in (
        (payments, "POST", {"requestValidatorId": validator, "requestModels": {"application/json": "CreatePayment"}}),
        (payment, "GET", {}),
    ):
        options = {"authorizationType": "NONE", "apiKeyRequired": True, **extra}
        proxy_route(apigw, api_id, resource, method, function_arn, **options)
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    key = apigw.create_api_key(name=f"key-{unique}", enabled=True)
    plan = apigw.create_usage_plan(name=f"plan-{unique}", apiStages=[{"apiId": api_id, "stage": "v1"}])
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return api_id, key["value"]


def test_get_with_path_parameter_and_query_reaches_the_handler(cloud: Any, rest_api: tuple[str, str]) -> None:
    api_id, key = rest_api

    response = invoke_rest_api(cloud.endpoint, api_id, "v1", "GET", "/payments/p-7?limit=5", headers={"x-api-key": key})

    assert response.status_code == 200
    assert response.headers["X-Handler"] == "proxy"
    assert response.json() == {
        "resource": "/payments/{payment_id}",
        "path": "/payments/p-7",
        "pathParameters": {"payment_id": "p-7"},
        "query": {"limit": "5"},
        "body": None,
        "stage": "v1",
        "apiKey": key,
    }


def test_a_valid_post_is_proxied(cloud: Any, rest_api: tuple[str, str]) -> None:
    api_id, key = rest_api
    body = {"merchant_id": "m-1", "amount": 12.5}

    response = invoke_rest_api(cloud.endpoint, api_id, "v1", "POST", "/payments", body=body, headers={"x-api-key": key})

    assert response.status_code == 201
    assert json.loads(response.json()["body"]) == body


@pytest.mark.parametrize(
    ("method", "path", "body", "with_key", "status", "message"),
    [
        ("GET", "/payments/p-1", None, False, 403, "Forbidden"),
        ("POST", "/payments", {"merchant_id": "m-1"}, True, 400, "Invalid request body"),
        ("POST", "/payments", "not json", True, 400, "Invalid request body"),
        ("DELETE", "/payments/p-1", None, True, 403, "Missing Authentication Token"),
        ("GET", "/refunds", None, True, 403, "Missing Authentication Token"),
        ("GET", "/payments/explode", None, True, 502, "Internal server error"),
    ],
)
def test_gateway_errors_match_api_gateway(
    cloud: Any,
    rest_api: tuple[str, str],
    method: str,
    path: str,
    body: Any,
    with_key: bool,
    status: int,
    message: str,
) -> None:
    api_id, key = rest_api
    headers = {"x-api-key": key} if with_key else {}

    response = invoke_rest_api(cloud.endpoint, api_id, "v1", method, path, body=body, headers=headers)

    assert (response.status_code, response.json()) == (status, {"message": message})


def test_a_key_of_another_stage_is_refused(aws: Callable[[str], Any], cloud: Any, rest_api: tuple[str, str]) -> None:
    api_id, _ = rest_api
    stranger = aws("apigateway").create_api_key(name="stranger", enabled=True)["value"]

    response = invoke_rest_api(cloud.endpoint, api_id, "v1", "GET", "/payments/p-1", headers={"x-api-key": stranger})

    assert response.status_code == 403


def test_the_emulator_serves_the_api_over_http(cloud: Any, rest_api: tuple[str, str]) -> None:
    api_id, key = rest_api
    base = local_invoke_url(cloud.endpoint, api_id, "v1")
    request = urllib.request.Request(
        f"{base}/payments",
        data=json.dumps({"merchant_id": "m-9", "amount": 3}).encode(),
        headers={"x-api-key": key, "Content-Type": "application/json"},
        method="POST",
    )

    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        assert response.headers["X-Handler"] == "proxy"
        assert json.loads(json.loads(response.read())["body"]) == {"merchant_id": "m-9", "amount": 3}

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/payments/p-1", timeout=30)
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {"message": "Forbidden"}


def test_gateway_responses_of_the_api_shape_its_own_refusals(
    aws: Callable[[str], Any], cloud: Any, rest_api: tuple[str, str]
) -> None:
    api_id, key = rest_api
    apigw = aws("apigateway")
    for response_type, code in (
        ("BAD_REQUEST_BODY", "INVALID_REQUEST"),
        ("DEFAULT_4XX", "REQUEST_REFUSED"),
        ("DEFAULT_5XX", "INTERNAL_ERROR"),
    ):
        apigw.put_gateway_response(
            restApiId=api_id,
            responseType=response_type,
            responseTemplates={
                "application/json": '{"error": {"code": "' + code + '", "message": $context.error.messageString}}'
            },
        )
    headers = {"x-api-key": key}

    invalid = invoke_rest_api(
        cloud.endpoint, api_id, "v1", "POST", "/payments", body={"merchant_id": 7}, headers=headers
    )
    no_key = invoke_rest_api(cloud.endpoint, api_id, "v1", "GET", "/payments/p-1")
    broken = invoke_rest_api(cloud.endpoint, api_id, "v1", "GET", "/payments/explode", headers=headers)

    assert (invalid.status_code, invalid.json()) == (
        400,
        {"error": {"code": "INVALID_REQUEST", "message": "Invalid request body"}},
    )
    assert (no_key.status_code, no_key.json()) == (403, {"error": {"code": "REQUEST_REFUSED", "message": "Forbidden"}})
    assert (broken.status_code, broken.json()) == (
        502,
        {"error": {"code": "INTERNAL_ERROR", "message": "Internal server error"}},
    )


def test_validation_error_string_is_substituted_raw_as_on_aws(
    aws: Callable[[str], Any], cloud: Any, rest_api: tuple[str, str]
) -> None:
    """Both sides: the raw variable is API Gateway's validator text; a template that embeds it
    (bare or quoted) does not render JSON, exactly as on AWS (issue #11)."""
    api_id, key = rest_api
    apigw = aws("apigateway")
    headers = {"x-api-key": key}
    apigw.put_gateway_response(
        restApiId=api_id,
        responseType="BAD_REQUEST_BODY",
        responseTemplates={"application/json": "$context.error.validationErrorString"},
    )
    raw = invoke_rest_api(cloud.endpoint, api_id, "v1", "POST", "/payments", body={"merchant_id": 7}, headers=headers)
    assert raw.status_code == 400
    assert raw.body == (
        '[instance type (integer) does not match any allowed primitive type (allowed: ["string"]), '
        'object has missing required properties (["amount"])]'
    )

    for template in (
        '{"message": $context.error.validationErrorString}',
        '{"message": "$context.error.validationErrorString"}',
    ):
        apigw.put_gateway_response(
            restApiId=api_id, responseType="BAD_REQUEST_BODY", responseTemplates={"application/json": template}
        )
        rendered = invoke_rest_api(
            cloud.endpoint, api_id, "v1", "POST", "/payments", body={"amount": 1}, headers=headers
        )
        assert rendered.status_code == 400
        assert rendered.body == template.replace(
            "$context.error.validationErrorString", '[object has missing required properties (["merchant_id"])]'
        )
        with pytest.raises(json.JSONDecodeError):
            rendered.json()


def test_a_throttled_integration_answers_500_as_api_gateway_does(
    aws: Callable[[str], Any], cloud: Any, rest_api: tuple[str, str]
) -> None:
    """Lambda refuses the Invoke with 429; API Gateway answers 500 and does not retry (README, "Triggers")."""
    api_id, key = rest_api
    apigw = aws("apigateway")
    resource = next(r for r in apigw.get_resources(restApiId=api_id)["items"] if r["path"] == "/payments/{payment_id}")
    uri = apigw.get_integration(restApiId=api_id, resourceId=resource["id"], httpMethod="GET")["uri"]
    function_arn = uri.split("/functions/")[1].removesuffix("/invocations")
    aws("lambda").put_function_concurrency(FunctionName=function_arn, ReservedConcurrentExecutions=0)

    # The Lambda side: a direct Invoke is refused with 429 TooManyRequestsException.
    with pytest.raises(ClientError) as refused:
        aws("lambda").invoke(FunctionName=function_arn, Payload=b"{}")
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
    # The API side: 500 with API Gateway's generic body, after exactly one Invoke (no retry).
    refused_before = _refused_invokes(cloud, function_arn)
    response = invoke_rest_api(cloud.endpoint, api_id, "v1", "GET", "/payments/p-1", headers={"x-api-key": key})
    assert (response.status_code, response.json()) == (500, {"message": "Internal server error"})
    assert _refused_invokes(cloud, function_arn) == refused_before + 1


def _refused_invokes(cloud: Any, function_arn: str) -> int:
    """Invokes of the function the server answered 429 (its request log)."""
    log = (Path(cloud.state_dir) / "server.log").read_text(errors="replace")
    return sum(1 for line in log.splitlines() if f"{function_arn}/invocations" in line and '" 429 ' in line)
