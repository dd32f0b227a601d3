"""Lambda authorizers (REQUEST and TOKEN) of a REST API method, evaluated as API Gateway does.

Evidence: API Gateway developer guide, "Use API Gateway Lambda authorizers" and "Input to /
Output from an API Gateway Lambda authorizer"; API reference ``Authorizer.identitySource``:
"For the REQUEST authorizer, this is required when authorization caching is enabled ... These
parameters will be used to derive the authorization caching key and to perform runtime
validation of the REQUEST authorizer by verifying all of the identity-related request
parameters are present, not null and non-empty. Only when this is true does the authorizer
invoke the authorizer Lambda function, otherwise, it returns a 401 Unauthorized response
without calling the Lambda function."

What the driver does, in order:

1. identity sources (``method.request.header.X``, ``method.request.querystring.X``,
   ``stageVariables.X``, ``context.X``; TOKEN: one header) must all be present and
   non-empty, else 401 ``UNAUTHORIZED`` "Unauthorized" without invoking; a TOKEN
   authorizer's ``identityValidationExpression`` must match the token, else 401 as well;
2. with ``authorizerResultTtlInSeconds`` > 0 the returned policy and context are cached per
   authorizer and identity-source values for that many seconds, and the *cached policy* is
   evaluated against each later request's method ARN (as on AWS, where a policy that names
   only the first method denies the others while it is cached);
3. otherwise the authorizer function is invoked with the REQUEST (or TOKEN) event. A
   function error whose message is ``Unauthorized`` gives 401 ``UNAUTHORIZED``; any other
   error, or an output without ``principalId``/``policyDocument``, or a ``context`` value
   that is an object or array, gives 500 ``AUTHORIZER_CONFIGURATION_ERROR`` with a ``null``
   message;
4. the policy: an explicit ``Deny`` matching ``execute-api:Invoke`` on the method ARN gives
   403 ``ACCESS_DENIED`` "User is not authorized to access this resource with an explicit
   deny"; no matching ``Allow`` gives 403 ``ACCESS_DENIED`` "User is not authorized to
   access this resource";
5. allowed: the integration's ``requestContext.authorizer`` is ``principalId``,
   ``integrationLatency`` and the context entries as strings ("the stringified value", REST
   API payload 1.0), and ``usageIdentifierKey`` is the API key when the API's
   ``apiKeySource`` is ``AUTHORIZER``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from localcloud.gateway_responses import GatewayError

FUNCTION_IN_URI = re.compile(r":lambda:path/[^/]+/functions/(?P<arn>.+?)/invocations$")


def invoke_function(lambda_client: Any, uri_match: re.Match[str], event: dict[str, Any]) -> tuple[bytes, bool]:
    """Invoke the function a ``FUNCTION_IN_URI`` match names, synchronously as API Gateway does
    (an integration or an authorizer): its payload, and whether it ended in a function error."""
    result = lambda_client.invoke(FunctionName=uri_match.group("arn"), Payload=json.dumps(event).encode())
    return result["Payload"].read(), bool(result.get("FunctionError"))


UNAUTHORIZED = GatewayError("UNAUTHORIZED", 401, "Unauthorized")
CONFIGURATION_ERROR = GatewayError("AUTHORIZER_CONFIGURATION_ERROR", 500, None)
EXPLICIT_DENY = GatewayError(
    "ACCESS_DENIED", 403, "User is not authorized to access this resource with an explicit deny"
)
NOT_ALLOWED = GatewayError("ACCESS_DENIED", 403, "User is not authorized to access this resource")


@dataclass(frozen=True)
class Authorization:
    """What an allowing authorizer hands to the rest of the request."""

    principal_id: str
    context: dict[str, str]
    usage_identifier_key: str | None
    latency_ms: int


@dataclass(frozen=True)
class _Decision:
    principal_id: str
    policy: dict[str, Any]
    context: dict[str, str]
    usage_identifier_key: str | None
    expires_at: float


@dataclass(frozen=True)
class AuthorizerRequest:
    """The parts of a request an authorizer sees (``event`` is the REQUEST event without
    ``type`` and ``methodArn``)."""

    method_arn: str
    headers: dict[str, str]
    query: dict[str, str]
    stage_variables: dict[str, str]
    request_context: dict[str, Any]
    event: dict[str, Any]


_CACHE: dict[tuple[str, ...], _Decision] = {}
_CACHE_LOCK = threading.Lock()


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def method_arn(region: str, account: str, api_id: str, stage: str, http_method: str, path: str) -> str:
    return f"arn:aws:execute-api:{region}:{account}:{api_id}/{stage}/{http_method}/{path.lstrip('/')}"


def _identity_values(authorizer: dict[str, Any], request: AuthorizerRequest) -> list[str | None]:
    lowered = {k.lower(): v for k, v in request.headers.items()}
    values: list[str | None] = []
    for source in (s.strip() for s in (authorizer.get("identitySource") or "").split(",") if s.strip()):
        if source.startswith("method.request.header."):
            values.append(lowered.get(source.removeprefix("method.request.header.").lower()))
        elif source.startswith("method.request.querystring."):
            values.append(request.query.get(source.removeprefix("method.request.querystring.")))
        elif source.startswith("stageVariables."):
            values.append(request.stage_variables.get(source.removeprefix("stageVariables.")))
        elif source.startswith("context."):
            found: Any = request.request_context
            for part in source.removeprefix("context.").split("."):
                found = found.get(part) if isinstance(found, dict) else None
            values.append(None if found is None else str(found))
        else:
            values.append(None)
    return values


def _statement_matches(statement: dict[str, Any], arn: str) -> bool:
    actions = statement.get("Action", [])
    resources = statement.get("Resource", [])
    actions = [actions] if isinstance(actions, str) else actions
    resources = [resources] if isinstance(resources, str) else resources
    action_ok = any(fnmatchcase("execute-api:invoke", str(a).lower()) for a in actions)
    return action_ok and any(fnmatchcase(arn, str(r)) for r in resources)


def evaluate_policy(policy: dict[str, Any], arn: str) -> GatewayError | None:
    """None if the policy allows ``execute-api:Invoke`` on ``arn`` (an explicit Deny wins)."""
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    matching = [s for s in statements if isinstance(s, dict) and _statement_matches(s, arn)]
    if any(s.get("Effect") == "Deny" for s in matching):
        return EXPLICIT_DENY
    if any(s.get("Effect") == "Allow" for s in matching):
        return None
    return NOT_ALLOWED


def _decision_from_output(output: Any, ttl: int) -> _Decision | GatewayError:
    if not isinstance(output, dict) or not isinstance(output.get("policyDocument"), dict):
        return CONFIGURATION_ERROR
    if "principalId" not in output:
        return CONFIGURATION_ERROR
    context = output.get("context") or {}
    if not isinstance(context, dict) or any(isinstance(v, dict | list) for v in context.values()):
        return CONFIGURATION_ERROR
    stringified = {str(k): (json.dumps(v) if isinstance(v, bool) else str(v)) for k, v in context.items()}
    usage_key = output.get("usageIdentifierKey")
    return _Decision(
        principal_id=str(output["principalId"]),
        policy=output["policyDocument"],
        context=stringified,
        usage_identifier_key=str(usage_key) if usage_key is not None else None,
        expires_at=time.monotonic() + ttl,
    )


def authorize(
    apigw: Any,
    lambda_client: Any,
    api_id: str,
    endpoint: str,
    authorizer_id: str,
    request: AuthorizerRequest,
) -> Authorization | GatewayError:
    authorizer = apigw.get_authorizer(restApiId=api_id, authorizerId=authorizer_id)
    kind = authorizer.get("type")
    ttl = int(authorizer.get("authorizerResultTtlInSeconds") or 0)
    identity = _identity_values(authorizer, request)
    if kind == "TOKEN" and len(identity) != 1:
        return CONFIGURATION_ERROR
    if any(not value for value in identity):
        return UNAUTHORIZED
    if kind == "TOKEN":
        expression = authorizer.get("identityValidationExpression")
        if expression and not re.fullmatch(expression, str(identity[0])):
            return UNAUTHORIZED
    elif kind != "REQUEST":
        return CONFIGURATION_ERROR  # COGNITO_USER_POOLS is not emulated

    cache_key = (endpoint, api_id, authorizer_id, *(str(v) for v in identity))
    started = time.monotonic()
    with _CACHE_LOCK:
        decision = _CACHE.get(cache_key) if ttl > 0 else None
        if decision is not None and decision.expires_at <= started:
            del _CACHE[cache_key]
            decision = None
    if decision is None:
        outcome = _invoke(lambda_client, authorizer, request, identity, ttl)
        if isinstance(outcome, GatewayError):
            return outcome
        decision = outcome
        if ttl > 0:
            with _CACHE_LOCK:
                _CACHE[cache_key] = decision
    refused = evaluate_policy(decision.policy, request.method_arn)
    if refused is not None:
        return refused
    return Authorization(
        principal_id=decision.principal_id,
        context=decision.context,
        usage_identifier_key=decision.usage_identifier_key,
        latency_ms=int((time.monotonic() - started) * 1000),
    )


def _invoke(
    lambda_client: Any,
    authorizer: dict[str, Any],
    request: AuthorizerRequest,
    identity: list[str | None],
    ttl: int,
) -> _Decision | GatewayError:
    found = FUNCTION_IN_URI.search(authorizer.get("authorizerUri") or "")
    if found is None:
        return CONFIGURATION_ERROR
    if authorizer.get("type") == "TOKEN":
        event: dict[str, Any] = {
            "type": "TOKEN",
            "authorizationToken": identity[0],
            "methodArn": request.method_arn,
        }
    else:
        event = {"type": "REQUEST", "methodArn": request.method_arn, **request.event}
    try:
        payload, failed = invoke_function(lambda_client, found, event)
    except Exception:
        return CONFIGURATION_ERROR
    if failed:
        try:
            message = json.loads(payload).get("errorMessage")
        except (ValueError, AttributeError):
            message = None
        return UNAUTHORIZED if message == "Unauthorized" else CONFIGURATION_ERROR
    try:
        output = json.loads(payload)
    except ValueError:
        return CONFIGURATION_ERROR
    return _decision_from_output(output, ttl)
