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
   function error or malformed response becomes 502 ``{"message": "Internal server error"}``;
   an Invoke that Lambda refuses (429 ``TooManyRequestsException`` past the reserved
   concurrency) becomes 500 with the same body, never retried.

The request as API Gateway hands it on: a body whose ``Content-Type`` is not one of the API's
``binaryMediaTypes`` is text, decoded as UTF-8 with every invalid byte replaced by U+FFFD (a body
that is not UTF-8 is never refused for it); one that is arrives base64-encoded with
``isBase64Encoded``. Query parameters keep an empty value (``?limit=`` → ``{"limit": ""}``); a
repeated one is its last value in ``queryStringParameters`` and all of them in
``multiValueQueryStringParameters``. Evidence: localcloud/README.md ("API Gateway's front").

Not modelled: mapping templates, CORS (authorizers and usage plans: ``api_authorizers``, ``api_usage_plans``).
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from localcloud.api_authorizers import (
    FUNCTION_IN_URI,
    Authorization,
    AuthorizerRequest,
    authorize,
    invoke_function,
    method_arn,
)
from localcloud.api_usage_plans import admit
from localcloud.gateway_responses import ApiResponse, GatewayError, render_gateway_error
from localcloud.provider import TEST_ACCESS_KEY, TEST_REGION, TEST_SECRET_KEY
from localcloud.request_payloads import binary_media, multi_values, proxy_body

__all__ = ["ApiResponse", "GatewayError", "build_proxy_event", "invoke_rest_api", "render_gateway_error"]

# moto's default account: the method ARNs an authorizer sees and requestContext.accountId.
ACCOUNT_ID = "123456789012"


@dataclass
class _Route:
    resource: dict[str, Any]
    method: dict[str, Any]
    path_parameters: dict[str, str] = field(default_factory=dict)


# "API Gateway does not retry any Lambda invocations" (Lambda developer guide, "Handling Lambda
# errors with an API Gateway API"): its Lambda client makes one attempt, where botocore's default
# would retry a 429 several times.
_NO_RETRIES = Config(retries={"total_max_attempts": 1})
_clients: dict[tuple[str, str, str], Any] = {}
_clients_lock = threading.Lock()


def _client(service: str, endpoint: str, region: str) -> Any:
    """One client per service, endpoint and region (building one costs ~25 ms; clients are thread-safe)."""
    with _clients_lock:
        client = _clients.get((service, endpoint, region))
        if client is None:
            client = _clients[(service, endpoint, region)] = boto3.client(  # type: ignore[call-overload]
                service,
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id=TEST_ACCESS_KEY,
                aws_secret_access_key=TEST_SECRET_KEY,
                config=_NO_RETRIES if service == "lambda" else None,
            )
    return client


def match_resource(resources: list[dict[str, Any]], path: str) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The resource API Gateway matches ``path`` to (the most literal segments win), and its template's
    variables; also how testkit's test events name their resource."""
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


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _aws_wording(error: Any) -> str:
    """One jsonschema error in the words of API Gateway's validator (json-schema-validator).

    API Gateway answers e.g. ``[object has missing required properties (["amount"])]``: the
    names, regexes and input strings come verbatim between double quotes, so the text holds
    quotes, brackets and backslashes (a regex like ``^[0-9]+(\\.[0-9]+)?$``).
    """
    kind, expected, instance = error.validator, error.validator_value, error.instance
    if kind == "required" and isinstance(instance, dict):
        missing = [name for name in expected if name not in instance]
        return f"object has missing required properties ({json.dumps(missing, separators=(',', ':'))})"
    if kind == "additionalProperties" and isinstance(instance, dict):
        declared = set(error.schema.get("properties", {}))
        extra = sorted(name for name in instance if name not in declared)
        return "object instance has properties which are not allowed by the schema: " + json.dumps(
            extra, separators=(",", ":")
        )
    if kind == "type":
        allowed = [expected] if isinstance(expected, str) else list(expected)
        return (
            f"instance type ({_json_type(instance)}) does not match any allowed primitive type "
            f"(allowed: {json.dumps(allowed, separators=(',', ':'))})"
        )
    if kind == "pattern":
        return f'ECMA 262 regex "{expected}" does not match input string "{instance}"'
    if kind == "minLength":
        return f'string "{instance}" is too short (length: {len(instance)}, required minimum: {expected})'
    if kind == "maxLength":
        return f'string "{instance}" is too long (length: {len(instance)}, required maximum: {expected})'
    return str(error.message)


def _body_errors(apigw: Any, api_id: str, method: dict[str, Any], body: str | None) -> str | None:
    """None if the body satisfies the method's model, else API Gateway's validation error string."""
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
    errors = jsonschema.Draft4Validator(schema).iter_errors(document)
    messages = sorted(_aws_wording(error) for error in errors)
    return f"[{', '.join(messages)}]" if messages else None


def _missing_parameters(method: dict[str, Any], headers: dict[str, str], query: dict[str, str]) -> list[str]:
    lowered = {k.lower() for k in headers}
    missing: list[str] = []
    for name, required in (method.get("requestParameters") or {}).items():
        if not required:
            continue
        _, _, location, key = name.split(".", 3)
        if (location == "querystring" and key not in query) or (location == "header" and key.lower() not in lowered):
            missing.append(key)
    return missing


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
    authorization: Authorization | None = None,
    api_key: str | None = None,
    multi_query: dict[str, list[str]] | None = None,
    body_is_base64: bool = False,
) -> dict[str, Any]:
    """The REST API (payload format 1.0) Lambda proxy event."""
    multi = multi_query if multi_query is not None else {k: [v] for k, v in query.items()}
    now = time.time()
    request_context: dict[str, Any] = {
        "resourceId": route_resource["id"],
        "resourcePath": route_resource["path"],
        "httpMethod": http_method,
        "extendedRequestId": uuid.uuid4().hex[:16],
        "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "path": f"/{stage}{path}",
        "accountId": ACCOUNT_ID,
        "protocol": "HTTP/1.1",
        "stage": stage,
        "domainPrefix": api_id,
        "requestTimeEpoch": int(now * 1000),
        "requestId": str(uuid.uuid4()),
        "identity": {
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("User-Agent", "localcloud"),
            "apiKey": api_key if api_key is not None else headers.get("x-api-key"),
            "apiKeyId": api_key_id,
        },
        "domainName": f"{api_id}.execute-api.{region}.amazonaws.com",
        "apiId": api_id,
    }
    if authorization is not None:
        request_context["authorizer"] = {
            **authorization.context,
            "principalId": authorization.principal_id,
            "integrationLatency": authorization.latency_ms,
        }
    return {
        "resource": route_resource["path"],
        "path": path,
        "httpMethod": http_method,
        "headers": headers or None,
        "multiValueHeaders": {k: [v] for k, v in headers.items()} or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi or None,
        "pathParameters": path_parameters or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body,
        "isBase64Encoded": body_is_base64,
    }


INTERNAL_ERROR = GatewayError("DEFAULT_5XX", 502, "Internal server error")
# Lambda refused the Invoke (throttled, ...): the function never ran.
INVOCATION_REJECTED = GatewayError("DEFAULT_5XX", 500, "Internal server error")


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
    body: str | bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    region: str = TEST_REGION,
) -> ApiResponse:
    """Send one request to a deployed REST API of the emulator, as API Gateway would."""
    apigw = _client("apigateway", endpoint, region)
    outcome = _route_and_invoke(apigw, endpoint, api_id, stage, method, path, body, headers, region)
    if isinstance(outcome, GatewayError):
        context = {"requestId": str(uuid.uuid4()), "apiId": api_id, "stage": stage}
        return render_gateway_error(apigw, api_id, outcome, context)
    return outcome


def _route_and_invoke(
    apigw: Any,
    endpoint: str,
    api_id: str,
    stage: str,
    method: str,
    path: str,
    body: str | bytes | dict[str, Any] | None,
    headers: dict[str, str] | None,
    region: str,
) -> ApiResponse | GatewayError:
    http_method = method.upper()
    split = urlsplit(path)
    path_only = "/" + unquote(split.path).strip("/")
    pairs = parse_qsl(split.query, keep_blank_values=True)
    query = dict(pairs)  # a repeated parameter: its last value
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    text_body, body_is_base64 = proxy_body(body, binary_media(apigw, api_id, content_type))

    resources = apigw.get_resources(restApiId=api_id, limit=500, embed=["methods"])["items"]
    match = match_resource(resources, path_only)
    if match is None:
        return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    resource, path_parameters = match
    methods = resource.get("resourceMethods") or {}
    method_key = http_method if http_method in methods else "ANY" if "ANY" in methods else None
    if method_key is None:
        return GatewayError("MISSING_AUTHENTICATION_TOKEN", 403, "Missing Authentication Token")
    method_def = apigw.get_method(restApiId=api_id, resourceId=resource["id"], httpMethod=method_key)
    lambda_client = _client("lambda", endpoint, region)

    # 1. authorizer, 2. API key + usage plan, 3. request validation, 4. integration.
    authorization: Authorization | None = None
    if method_def.get("authorizationType") == "CUSTOM" and method_def.get("authorizerId"):
        event = build_proxy_event(
            api_id, stage, resource, http_method, path_only, headers, query, path_parameters, None, region=region
        )
        for not_for_authorizers in ("body", "isBase64Encoded"):
            event.pop(not_for_authorizers)
        request = AuthorizerRequest(
            method_arn=method_arn(region, ACCOUNT_ID, api_id, stage, http_method, path_only),
            headers=headers,
            query=query,
            stage_variables={},
            request_context=event["requestContext"],
            event=event,
        )
        decided = authorize(apigw, lambda_client, api_id, endpoint, method_def["authorizerId"], request)
        if isinstance(decided, GatewayError):
            return decided
        authorization = decided

    api_key_use = None
    api_key: str | None = None
    if method_def.get("apiKeyRequired"):
        source = apigw.get_rest_api(restApiId=api_id).get("apiKeySource") or "HEADER"
        if source == "AUTHORIZER":
            api_key = authorization.usage_identifier_key if authorization else None
        else:
            api_key = next((v for k, v in headers.items() if k.lower() == "x-api-key"), None)
        admitted = admit(apigw, endpoint, api_id, stage, api_key)
        if isinstance(admitted, GatewayError):
            return admitted
        api_key_use = admitted

    validator_id = method_def.get("requestValidatorId")
    if validator_id:
        validator = apigw.get_request_validator(restApiId=api_id, requestValidatorId=validator_id)
        validates = validator.get("validateRequestBody")
        body_errors = _body_errors(apigw, api_id, method_def, text_body) if validates else None
        if body_errors:
            return GatewayError("BAD_REQUEST_BODY", 400, "Invalid request body", body_errors)
        missing = _missing_parameters(method_def, headers, query) if validator.get("validateRequestParameters") else []
        if missing:
            text = f"Missing required request parameters: [{', '.join(missing)}]"
            return GatewayError("BAD_REQUEST_PARAMETERS", 400, text, text)

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
        text_body,
        api_key_id=api_key_use.key_id if api_key_use else None,
        region=region,
        authorization=authorization,
        api_key=api_key,
        multi_query=multi_values(pairs),
        body_is_base64=body_is_base64,
    )
    try:
        payload, failed = invoke_function(lambda_client, found, event)
    except ClientError:
        # "If the Lambda API rejects the invocation request, API Gateway returns a 500 error code"
        # (throttled 429 TooManyRequestsException, and any other refusal); no retry.
        return INVOCATION_REJECTED
    if failed:
        return INTERNAL_ERROR
    return _proxy_response(payload)
