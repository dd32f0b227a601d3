"""API Gateway's front as the emulator serves it over HTTP: what reaches the function, as AWS hands it on.

AWS's side (localcloud/README.md, "API Gateway's front"): a body is text unless its Content-Type
is one of the API's binary media types, and text is UTF-8 with invalid bytes replaced (U+FFFD), never
a refusal; a binary one arrives base64-encoded. Query parameters keep empty values; a repeated one
is its last value single-valued and all of them multi-valued.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from localcloud.execute_api import local_invoke_url
from tests.localcloud.conftest import proxy_route, root_resource

ECHO_HANDLER = """
import json

def handler(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({
            "body": event["body"],
            "isBase64Encoded": event["isBase64Encoded"],
            "query": event["queryStringParameters"],
            "multiQuery": event["multiValueQueryStringParameters"],
            "resource": event["resource"],
            "pathParameters": event["pathParameters"],
        }),
    }
"""


@pytest.fixture
def echo_api(aws: Callable[[str], Any], create_function: Callable[..., str], unique: str, cloud: Any) -> str:
    """An API whose POST/GET /echo hands the proxy event's body and query back; octet-stream is binary."""
    function_arn = create_function({"handler.py": ECHO_HANDLER})
    apigw = aws("apigateway")
    api_id = apigw.create_rest_api(name=f"echo-{unique}")["id"]
    # moto 5.2.5's CreateRestApi drops binaryMediaTypes (the stack declares none); UpdateRestApi keeps it.
    binary = {"op": "add", "path": "/binaryMediaTypes/application~1octet-stream", "value": "application/octet-stream"}
    apigw.update_rest_api(restApiId=api_id, patchOperations=[binary])
    echo = apigw.create_resource(restApiId=api_id, parentId=root_resource(apigw, api_id), pathPart="echo")["id"]
    for method in ("GET", "POST"):
        proxy_route(apigw, api_id, echo, method, function_arn, authorizationType="NONE")
    item = apigw.create_resource(restApiId=api_id, parentId=echo, pathPart="{item_id}")["id"]
    proxy_route(apigw, api_id, item, "GET", function_arn, authorizationType="NONE")
    apigw.create_deployment(restApiId=api_id, stageName="v1")
    return f"{local_invoke_url(cloud.endpoint, api_id, 'v1')}/echo"


def send(url: str, body: bytes | None = None, content_type: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": content_type} if content_type else {}
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if body is not None else "GET")
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())


def test_a_body_that_is_not_utf8_reaches_the_function_as_text_with_replacement_characters(echo_api: str) -> None:
    status, seen = send(echo_api, b'{"customer_ref": "caf\xe9 \xff"}', "application/json")

    assert status == 200
    assert seen["body"] == '{"customer_ref": "caf\ufffd \ufffd"}'
    assert seen["isBase64Encoded"] is False


def test_a_body_of_a_binary_media_type_arrives_base64_encoded(echo_api: str) -> None:
    raw = b"\x00\xff\xfe binary"
    status, seen = send(echo_api, raw, "application/octet-stream")

    assert status == 200
    assert (base64.b64decode(seen["body"]), seen["isBase64Encoded"]) == (raw, True)


def test_utf8_text_is_passed_unchanged(echo_api: str) -> None:
    status, seen = send(echo_api, '{"customer_ref": "café ✓"}'.encode(), "application/json; charset=utf-8")

    assert (status, seen["body"], seen["isBase64Encoded"]) == (200, '{"customer_ref": "café ✓"}', False)


def test_query_parameters_keep_empty_values_and_repeats(echo_api: str) -> None:
    status, seen = send(f"{echo_api}?limit=&next_token=a&next_token=b&flag")

    assert status == 200
    assert seen["query"] == {"limit": "", "next_token": "b", "flag": ""}
    assert seen["multiQuery"] == {"limit": [""], "next_token": ["a", "b"], "flag": [""]}


def test_no_query_is_null_as_on_aws(echo_api: str) -> None:
    assert send(echo_api)[1] == {
        "body": None,
        "isBase64Encoded": False,
        "query": None,
        "multiQuery": None,
        "resource": "/echo",
        "pathParameters": None,
    }


def test_an_encoded_hash_or_question_mark_stays_in_its_path_parameter(echo_api: str) -> None:
    """Found by schemathesis: ``/payments/%230...`` was routed as ``GET /payments`` (the decoded ``#``
    started a fragment), so the list answered a request for one payment."""
    status, seen = send(f"{echo_api}/%230%3Fa?limit=1")

    assert status == 200
    assert (seen["resource"], seen["pathParameters"], seen["query"]) == (
        "/echo/{item_id}",
        {"item_id": "#0?a"},
        {"limit": "1"},
    )
