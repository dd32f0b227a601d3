"""The API driver's Lambda REQUEST authorizers and usage plans, as API Gateway enforces them.

Each case names the API Gateway behaviour it pins (evidence in localcloud/api_authorizers.py
and localcloud/api_usage_plans.py, summarised in localcloud/README.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from localcloud.triggers import invoke_rest_api
from tests.localcloud.conftest import lambda_uri, proxy_route, root_resource

# Decides by the x-api-key header: "allow-*" allows the whole API, "only-get-*" allows only
# GET, "deny-*" denies explicitly, "boom" fails, "nope" raises Unauthorized, "nested" returns
# an object in the context. "issued" lets a test see whether the answer came from the cache.
AUTHORIZER = """
import time

def handler(event, context):
    key = event["headers"]["x-api-key"]
    if key == "boom":
        raise RuntimeError("authorizer bug")
    if key == "nope":
        raise Exception("Unauthorized")
    api = event["methodArn"].split("/")[0]
    stage = event["methodArn"].split("/")[1]
    verb = "*"
    effect = "Allow"
    if key.startswith("only-get-"):
        verb = "GET"
    if key.startswith("deny-"):
        effect = "Deny"
    out = {
        "principalId": "merchant-" + key,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api}/{stage}/{verb}/*"}],
        },
        "context": {"merchant_id": "m-" + key, "tier": 2, "active": True, "issued": repr(time.time())},
        "usageIdentifierKey": (event["queryStringParameters"] or {}).get("plan_key"),
    }
    if key == "nested":
        out["context"] = {"merchant": {"id": "x"}}
    return out
"""

INTEGRATION = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "body": json.dumps({
            "authorizer": event["requestContext"].get("authorizer"),
            "apiKeyId": event["requestContext"]["identity"]["apiKeyId"],
        }),
    }
"""


@dataclass(frozen=True)
class Api:
    api_id: str
    stage: str

    def call(self, cloud: Any, method: str, path: str, key: str | None, **kwargs: Any) -> Any:
        headers = {"x-api-key": key} if key is not None else {}
        return invoke_rest_api(cloud.endpoint, self.api_id, self.stage, method, path, headers=headers, **kwargs)


@pytest.fixture
def build_api(aws: Callable[[str], Any], create_function: Callable[..., str], unique: str) -> Callable[..., Api]:
    """GET and POST /items/{id} behind a REQUEST authorizer on the x-api-key header."""

    def build(ttl: int = 0, api_key_required: bool = False, key_source: str = "HEADER") -> Api:
        integration = create_function({"handler.py": INTEGRATION}, name=f"int-{unique}")
        authorizer_fn = create_function({"handler.py": AUTHORIZER}, name=f"auth-{unique}")
        apigw = aws("apigateway")
        api_id = apigw.create_rest_api(name=f"auth-{unique}", apiKeySource=key_source)["id"]
        root = root_resource(apigw, api_id)
        items = apigw.create_resource(restApiId=api_id, parentId=root, pathPart="items")["id"]
        item = apigw.create_resource(restApiId=api_id, parentId=items, pathPart="{id}")["id"]
        authorizer = apigw.create_authorizer(
            restApiId=api_id,
            name="merchants",
            type="REQUEST",
            authorizerUri=lambda_uri(authorizer_fn),
            identitySource="method.request.header.x-api-key",
            authorizerResultTtlInSeconds=ttl,
        )["id"]
        for verb in ("GET", "POST"):
            proxy_route(
                apigw,
                api_id,
                item,
                verb,
                integration,
                authorizationType="CUSTOM",
                authorizerId=authorizer,
                apiKeyRequired=api_key_required,
            )
        apigw.create_deployment(restApiId=api_id, stageName="v1")
        return Api(api_id, "v1")

    return build


def test_allowed_request_carries_the_authorizer_context_as_strings(cloud: Any, build_api: Callable[..., Api]) -> None:
    api = build_api()

    response = api.call(cloud, "GET", "/items/1", "allow-a")

    assert response.status_code == 200
    authorizer = response.json()["authorizer"]
    assert authorizer["principalId"] == "merchant-allow-a"
    assert (authorizer["merchant_id"], authorizer["tier"], authorizer["active"]) == ("m-allow-a", "2", "true")
    assert isinstance(authorizer["integrationLatency"], int)


@pytest.mark.parametrize(
    ("key", "status", "body"),
    [
        (None, 401, {"message": "Unauthorized"}),  # identity source missing: no invocation
        ("", 401, {"message": "Unauthorized"}),  # ... or empty
        ("nope", 401, {"message": "Unauthorized"}),
        ("deny-a", 403, {"message": "User is not authorized to access this resource with an explicit deny"}),
        ("boom", 500, {"message": None}),
        ("nested", 500, {"message": None}),
    ],
)
def test_refusals_of_the_authorizer(
    cloud: Any, build_api: Callable[..., Api], key: str | None, status: int, body: dict[str, Any]
) -> None:
    api = build_api()

    response = api.call(cloud, "GET", "/items/1", key)

    assert (response.status_code, response.json()) == (status, body)


def test_a_policy_that_does_not_cover_the_method_is_403(cloud: Any, build_api: Callable[..., Api]) -> None:
    api = build_api()

    assert api.call(cloud, "GET", "/items/1", "only-get-a").status_code == 200
    refused = api.call(cloud, "POST", "/items/1", "only-get-a")

    assert (refused.status_code, refused.json()) == (403, {"message": "User is not authorized to access this resource"})


def test_results_are_cached_per_identity_for_the_ttl(cloud: Any, build_api: Callable[..., Api]) -> None:
    api = build_api(ttl=2)

    first = api.call(cloud, "GET", "/items/1", "allow-a").json()["authorizer"]["issued"]
    cached = api.call(cloud, "GET", "/items/2", "allow-a").json()["authorizer"]["issued"]
    other_identity = api.call(cloud, "GET", "/items/1", "allow-b").json()["authorizer"]["issued"]
    time.sleep(2.1)
    expired = api.call(cloud, "GET", "/items/1", "allow-a").json()["authorizer"]["issued"]

    assert cached == first
    assert other_identity != first
    assert expired != first


def test_without_caching_every_request_is_authorized_afresh(cloud: Any, build_api: Callable[..., Api]) -> None:
    api = build_api(ttl=0)

    first = api.call(cloud, "GET", "/items/1", "allow-a").json()["authorizer"]["issued"]
    second = api.call(cloud, "GET", "/items/1", "allow-a").json()["authorizer"]["issued"]

    assert first != second


def test_a_cached_policy_is_evaluated_against_each_method(cloud: Any, build_api: Callable[..., Api]) -> None:
    api = build_api(ttl=300)

    assert api.call(cloud, "GET", "/items/1", "only-get-a").status_code == 200
    assert api.call(cloud, "POST", "/items/1", "only-get-a").status_code == 403


def _plan(aws: Callable[[str], Any], api: Api, unique: str, value: str, **limits: Any) -> str:
    apigw = aws("apigateway")
    key = apigw.create_api_key(name=f"k-{unique}-{value}", value=value, enabled=True)
    plan = apigw.create_usage_plan(
        name=f"p-{unique}-{value}", apiStages=[{"apiId": api.api_id, "stage": api.stage}], **limits
    )
    apigw.create_usage_plan_key(usagePlanId=plan["id"], keyId=key["id"], keyType="API_KEY")
    return str(key["id"])


def test_usage_plan_throttle_answers_429(
    aws: Callable[[str], Any], cloud: Any, build_api: Callable[..., Api], unique: str
) -> None:
    api = build_api(api_key_required=True)
    key_id = _plan(aws, api, unique, "allow-throttled-00000001", throttle={"rateLimit": 0.01, "burstLimit": 2})

    statuses = [api.call(cloud, "GET", "/items/1", "allow-throttled-00000001") for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].json()["apiKeyId"] == key_id
    assert statuses[2].json() == {"message": "Too Many Requests"}


def test_usage_plan_quota_answers_429_limit_exceeded(
    aws: Callable[[str], Any], cloud: Any, build_api: Callable[..., Api], unique: str
) -> None:
    api = build_api(api_key_required=True)
    _plan(aws, api, unique, "allow-quota-00000000001", quota={"limit": 2, "period": "DAY"})

    statuses = [api.call(cloud, "GET", "/items/1", "allow-quota-00000000001") for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[2].json() == {"message": "Limit Exceeded"}


def test_a_key_outside_the_stage_plans_or_disabled_is_403(
    aws: Callable[[str], Any], cloud: Any, build_api: Callable[..., Api], unique: str
) -> None:
    api = build_api(api_key_required=True)
    key_id = _plan(aws, api, unique, "allow-disabled-000000001")
    aws("apigateway").create_api_key(name=f"loose-{unique}", value="allow-loose-00000000001", enabled=True)

    assert api.call(cloud, "GET", "/items/1", "allow-disabled-000000001").status_code == 200
    aws("apigateway").update_api_key(
        apiKey=key_id, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    disabled = api.call(cloud, "GET", "/items/1", "allow-disabled-000000001")
    loose = api.call(cloud, "GET", "/items/1", "allow-loose-00000000001")

    assert (disabled.status_code, disabled.json()) == (403, {"message": "Forbidden"})
    assert (loose.status_code, loose.json()) == (403, {"message": "Forbidden"})


def test_api_key_source_authorizer_takes_the_usage_identifier_key(
    aws: Callable[[str], Any], cloud: Any, build_api: Callable[..., Api], unique: str
) -> None:
    api = build_api(api_key_required=True, key_source="AUTHORIZER")
    key_id = _plan(aws, api, unique, "plan-key-from-authorizer")

    # The header is the authorizer's identity; the plan key comes from its usageIdentifierKey.
    with_key = api.call(cloud, "GET", "/items/1?plan_key=plan-key-from-authorizer", "allow-a")
    without = api.call(cloud, "GET", "/items/1", "allow-a")

    assert (with_key.status_code, with_key.json()["apiKeyId"]) == (200, key_id)
    assert (without.status_code, without.json()) == (403, {"message": "Forbidden"})


def test_with_key_source_authorizer_the_x_api_key_header_is_no_plan_key(
    aws: Callable[[str], Any], cloud: Any, build_api: Callable[..., Api], unique: str
) -> None:
    """The platform's API: API Gateway's key values meter, and a client holding one gets nothing.
    The authorizer (here: allowing any header value) names no usage key, so the plan key sent
    as ``x-api-key`` itself is refused, exactly as API Gateway does with the AUTHORIZER source."""
    api = build_api(api_key_required=True, key_source="AUTHORIZER")
    _plan(aws, api, unique, f"metering-key-{unique}")

    header_only = api.call(cloud, "GET", "/items/1", f"metering-key-{unique}")

    assert (header_only.status_code, header_only.json()) == (403, {"message": "Forbidden"})
