"""Drivers for triggers the emulator cannot fire by itself.

API Gateway REST: moto 5.2.5 stores REST APIs but never executes them in server mode
(``moto/apigateway/models.py``: "Other types (AWS_PROXY, MOCK, etc) are ignored" and "This
only works when using the decorators, not in ServerMode"). ``invoke_rest_api`` does what the
API Gateway front end does for a Lambda proxy integration, reading the deployed definition
from the emulator:

1. match the path against the API's resources (``/payments/{payment_id}``) and the method
   (404/403 ``{"message": ...}`` like API Gateway when nothing matches);
2. ``apiKeyRequired``: require ``x-api-key`` to be an enabled key of a usage plan attached to
   the stage (403 ``{"message": "Forbidden"}``);
3. request validator with ``validateRequestBody``: validate the JSON body against the
   method's request model (400 ``{"message": "Invalid request body"}``); with
   ``validateRequestParameters``, require the method's required parameters;
4. build the REST (payload v1) proxy event, invoke the integration's function
   synchronously, and map the proxy response (``statusCode``/``headers``/``body``); a
   function error or malformed response becomes 502 ``{"message": "Internal server error"}``.

Not modelled: throttling/quotas of usage plans, authorizers, mapping templates, CORS.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3

from localcloud.provider import TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY

FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+?)/invocations$")


@dataclass(frozen=True)
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Route:
    resource: dict[str, Any]
    method: dict[str, Any]
    path_parameters: dict[str, str] = field(default_factory=dict)


def _client(service: str, endpoint: str, region: str) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=TEST_ACCESS_KEY,
        aws_secret_access_key=TEST_SECRET_KEY,
    )


@dataclass(frozen=True)
class GatewayError:
    """A refusal by API Gateway itself, before or after the integration."""

    response_type: str
    status_code: int
    message: str
    validation_error: str = ""


DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'


def render_gateway_error(apigw: Any, api_id: str, error: GatewayError) -> ApiResponse:
    """Apply the API's gateway response (its own type, else DEFAULT_4XX/5XX) like API Gateway."""
    responses = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api_id).get("items", [])}
    fallback = "DEFAULT_5XX" if error.status_code >= 500 else "DEFAULT_4XX"
    configured = responses.get(error.response_type) or responses.get(fallback) or {}
    template = (configured.get("responseTemplates") or {}).get("application/json") or DEFAULT_TEMPLATE
    body = (
        template.replace("$context.error.validationErrorString", json.dumps(error.validation_error))
        .replace("$context.error.messageString", json.dumps(error.message))
        .replace("$context.error.message", error.message)
        .replace("$context.error.responseType", error.response_type)
    )
    headers = {"Content-Type": "application/json"}
    for name, value in (configured.get("responseParameters") or {}).items():
        if name.startswith("gatewayresponse.header."):
            headers[name.removeprefix("gatewayresponse.header.")] = value.strip("'")
    status = int(configured.get("statusCode") or error.status_code)
    return ApiResponse(status, headers, body)


def _match_resource(resources: list[dict[str, Any]], path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    wanted = [p for p in path.strip("/").split("/") if p]
    best: tuple[int, dict[str, Any], dict[str, str]] | None = None
    for resource in resources:
        template = [p for p in resource["path"].strip("/").split("/") if p]
        if len(template) != len(wanted):
            continue
        parameters: dict[str, str] = {}
        literal_parts = 0
        for part, value in zip(template, wanted, strict=True):
            if part.startswith("{") and part.endswith("}"):
                parameters[part[1:-1].rstrip("+")] = value
            elif part == value:
                literal_parts += 1
            else:
                break
        else:
            if best is None or literal_parts > best[0]:
                best = (literal_parts, resource, parameters)
    return (best[1], best[2]) if best else None


def _api_key_allowed(apigw: Any, api_id: str, stage: str, key_value: str | None) -> bool:
    if not key_value:
        return False
    keys = apigw.get_api_keys(includeValues=True)["items"]
    key = next((k for k in keys if k.get("value") == key_value and k.get("enabled")), None)
    if key is None:
        return False
    for plan in apigw.get_usage_plans(keyId=key["id"])["items"]:
        for api_stage in plan.get("apiStages", []):
            if api_stage.get("apiId") == api_id and api_stage.get("stage") == stage:
                return True
    return False


def _body_errors(apigw: Any, api_id: str, method: dict[str, Any], body: str | None) -> str | None:
    """None if the body satisfies the method's model, else a validation error string.

    The wording comes from jsonschema, not from API Gateway's validator (whose messages read
    like ``[object has missing required properties (["amount"])]``); the bracketed list form
    is kept.
    """
    models = method.get("requestModels") or {}
    model_name = models.get("application/json")
    try:
        document = json.loads(body) if body else None
    except ValueError as exc:
        return f"[Invalid JSON: {exc}]"
    if not model_name or model_name == "Empty":
        return None
    import jsonschema  # type: ignore[import-untyped]

    schema = json.loads(apigw.get_model(restApiId=api_id, modelName=model_name)["schema"])
    schema.pop("$schema", None)  # API Gateway models are draft-04; validate the structure
    messages = sorted(error.message for error in jsonschema.Draft4Validator(schema).iter_errors(document))
    return f"[{', '.join(messages)}]" if messages else None


def _required_parameters_present(method: dict[str, Any], headers: dict[str, str], query: dict[str, str]) -> bool:
    lowered = {k.lower() for k in headers}
    for name, required in (method.get("requestParameters") or {}).items():
        if not required:
            continue
        _, _, location, key = name.split(".", 3)
        if location == "querystring" and key not in query:
            return False
        if location == "header" and key.lower() not in lowered:
            return False
    return True


def build_proxy_event(
    api_id: str,
    stage: str,
    route_resource: dict[str, Any],
    http_method: str,
    path: str,
    headers: dict[str, str],
    query: dict[str, str],
    path_parameters: dict[str, str],
    body: str | None,
    api_key_id: str | None = None,
    region: str = TEST_REGION,
) -> dict[str, Any]:
    """The REST API (payload format 1.0) Lambda proxy event."""
    now = time.time()
    return {
        "resource": route_resource["path"],
        "path": path,
        "httpMethod": http_method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": route_resource["id"],
            "resourcePath": route_resource["path"],
            "httpMethod": http_method,
            "extendedRequestId": uuid.uuid4().hex[:16],
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "path": f"/{stage}{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": api_id,
            "requestTimeEpoch": int(now * 1000),
            "requestId": str(uuid.uuid4()),
            "identity": {
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", "localcloud"),
                "apiKey": headers.get("x-api-key"),
                "apiKeyId": api_key_id,
            },
            "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
            "apiId": api_id,
        },
        "body": body,
        "isBase64Encoded": False,
    }


INTERNAL_ERROR = GatewayError("DEFAULT_5XX", 502, "Internal server error")


def _proxy_response(payload: bytes) -> ApiResponse | GatewayError:
    try:
        response = json.loads(payload)
        status = int(response["statusCode"])
    except (ValueError, KeyError, TypeError):
        return INTERNAL_ERROR
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ",".join(str(v) for v in values)
    body = response.get("body") or ""
    if response.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return ApiResponse(status, headers, body)


def invoke_rest_api(
    endpoint: str,
    api_id: str,
    stage: str,
    method: str,
    path: str,
    body: str | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    region: str = TEST_REGION,
) -> ApiResponse:
    """Send one request to a deployed REST API of the emulator, as API Gateway would."""
    apigw = _client("apigateway", endpoint, region)
    outcome = _route_and_invoke(apigw, endpoint, api_id, stage, method, path, body, headers, region)
    if isinstance(outcome, GatewayError):
        return render_gateway_error(apigw, api_id, outcome)
    return outcome


def _route_and_invoke(
    apigw: Any,
    endpoint: str,
    api_id: str,
    stage: str,
    method: str,
    path: str,
    body: str | dict[str, Any] | None,
    headers: dict[str, str] | None,
    region: str,
) -> ApiResponse | GatewayError:
    http_method = method.upper()
    split = urlsplit(path)
    path_only = "/" + split.path.strip("/")
    query = dict(parse_qsl(split.query))
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")

    resources = apigw.get_resources(restApiId=api_id, limit=500, embed=["methods"])["items"]
    match = _match_resource(resources, path_only)
    if match is None:
        return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    resource, path_parameters = match
    methods = resource.get("resourceMethods") or {}
    method_key = http_method if http_method in methods else "ANY" if "ANY" in methods else None
    if method_key is None:
        return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    method_def = apigw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method_key)

    api_key = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
    if method_def.get("apiKeyRequired") and not _api_key_allowed(apigw, api_id, stage, api_key):
        return GatewayError("INVALID_API_KEY", 403, "Forbidden")

    validator_id = method_def.get("requestValidatorId")
    if validator_id:
        validator = apigw.get_request_validator(restApiId=api_id, requestValidatorId=validator_id)
        body_errors = _body_errors(apigw, api_id, method_def, body) if validator.get("validateRequestBody") else None
        if body_errors:
            return GatewayError("BAD_REQUEST_BODY", 400, "Invalid request body", body_errors)
        if validator.get("validateRequestParameters") and not _required_parameters_present(method_def, headers, query):
            return GatewayError(
                "BAD_REQUEST_PARAMETERS",
                400,
                "Missing required request parameters",
                "Missing required request parameters",
            )

    integration = method_def.get("methodIntegration") or {}
    found = FUNCTION_IN_URI.search(integration.get("uri", ""))
    if integration.get("type") != "AWS_PROXY" or found is None:
        return GatewayError("DEFAULT_5XX", 500, "Internal server error")

    event = build_proxy_event(
        api_id,
        stage,
        resource,
        http_method,
        path_only,
        headers,
        query,
        path_parameters,
        body,
        region=region,
    )
    result = _client("lambda", endpoint, region).invoke(
        FunctionName=found.group("arn"), Payload=json.dumps(event).encode()
    )
    payload = result["Payload"].read()
    if result.get("FunctionError"):
        return INTERNAL_ERROR
    return _proxy_response(payload)
