"""API Gateway's own refusals and how a REST API's gateway responses render them.

A gateway response's body-mapping template is *not* a VTL mapping template: API Gateway only
substitutes variables in it ("This variable can only be used for simple variable
substitution in a GatewayResponse body-mapping template, which is not processed by the
Velocity Template Language engine", API Gateway developer guide, "Variables for data
transformations"), so ``$util.escapeJavaScript`` and ``#if`` are not available there. The
substitution is exactly the documented one, with no escaping added:

* ``$context.error.message``: the message, raw;
* ``$context.error.messageString``: "The quoted value of $context.error.message, namely
  "$context.error.message"": the message between double quotes, its own quotes and
  backslashes *not* escaped (the documentation promises quotes, not JSON escaping);
* ``$context.error.validationErrorString``: "A string containing a detailed validation error
  message": raw, no quotes. The validator's text itself holds double quotes and brackets
  (``[object has missing required properties (["amount"])]``), so a template that puts it
  between JSON quotes, or bare, does not render JSON;
* ``$context.error.responseType``, ``$context.requestId``, ``$context.apiId``,
  ``$context.stage``, ``$context.resourcePath``, ``$context.httpMethod``: raw.

A variable the driver does not know is left as written (AWS documents no others for gateway
responses that this stack could need).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

DEFAULT_TEMPLATE = '{"message":$context.error.messageString}'

_VARIABLE = re.compile(r"\$context\.[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*")


@dataclass(frozen=True)
class ApiResponse:
    status_code: int
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class GatewayError:
    """A refusal by API Gateway itself, before or after the integration.

    ``message`` None is API Gateway's ``null`` message (authorizer configuration errors
    answer ``{"message": null}``).
    """

    response_type: str
    status_code: int
    message: str | None
    validation_error: str = ""
    context: dict[str, str] = field(default_factory=dict)


def substitute(template: str, error: GatewayError) -> str:
    """Render a gateway-response template exactly as API Gateway does (see module docstring)."""
    message = error.message
    values = {
        "$context.error.message": "" if message is None else message,
        "$context.error.messageString": "null" if message is None else f'"{message}"',
        "$context.error.validationErrorString": error.validation_error,
        "$context.error.responseType": error.response_type,
        **{f"$context.{name}": value for name, value in error.context.items()},
    }
    return _VARIABLE.sub(lambda found: values.get(found.group(0), found.group(0)), template)


def render_gateway_error(
    apigw: Any, api_id: str, error: GatewayError, request_context: dict[str, str] | None = None
) -> ApiResponse:
    """Apply the API's gateway response (its own type, else DEFAULT_4XX/5XX) like API Gateway.

    ``request_context``: ``$context`` values of the request (``requestId``, ``apiId``, ``stage``).
    """
    responses = {r["responseType"]: r for r in apigw.get_gateway_responses(restApiId=api_id).get("items", [])}
    fallback = "DEFAULT_5XX" if error.status_code >= 500 else "DEFAULT_4XX"
    configured = responses.get(error.response_type) or responses.get(fallback) or {}
    template = (configured.get("responseTemplates") or {}).get("application/json") or DEFAULT_TEMPLATE
    headers = {"Content-Type": "application/json"}
    for name, value in (configured.get("responseParameters") or {}).items():
        if name.startswith("gatewayresponse.header."):
            headers[name.removeprefix("gatewayresponse.header.")] = value.strip("'")
    status = int(configured.get("statusCode") or error.status_code)
    if request_context:
        error = replace(error, context={**request_context, **error.context})
    return ApiResponse(status, headers, substitute(template, error))
