"""API Gateway's own refusals, in the API's ``{"error": {...}}`` shape, JSON for any message.

A gateway response's template gets simple variable substitution only (no VTL, so no
``$util.escapeJavaScript``): ``$context.error.validationErrorString`` arrives raw, with the
validator's double quotes, brackets and backslashes, and ``$context.error.messageString`` is
documented as quoted, not as escaped. Either one inside a template can break the JSON on AWS
(issue #11). So every template here is our own fixed text plus only variables whose values
cannot hold a quote or a backslash: ``$context.error.responseType`` (an enum name such as
``MISSING_AUTHENTICATION_TOKEN``) and ``$context.requestId`` (a UUID). A unit test renders each
template under API Gateway's substitution with hostile messages and parses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from payment_core import contract


@dataclass(frozen=True)
class GatewayAnswer:
    code: str
    message: str


# Response type → what the client gets; the status stays API Gateway's own for the type.
# Types not listed fall back to DEFAULT_4XX/5XX, whose "type" field names the precise reason.
GATEWAY_ANSWERS: Final = MappingProxyType(
    {
        "BAD_REQUEST_BODY": GatewayAnswer("invalid_request", "the request body does not match the API's schema"),
        "BAD_REQUEST_PARAMETERS": GatewayAnswer(
            "invalid_request", "a required request parameter is missing (Idempotency-Key header on POST)"
        ),
        "UNAUTHORIZED": GatewayAnswer(
            "unauthorized", f"send your merchant secret key as {contract.CREDENTIAL_HEADER}: Bearer sk_..."
        ),
        "ACCESS_DENIED": GatewayAnswer(
            "forbidden", "this secret key is not valid (unknown, revoked or expired) or its merchant is disabled"
        ),
        # With the key source AUTHORIZER, only a merchant whose metering key left its usage plan.
        "INVALID_API_KEY": GatewayAnswer("forbidden", "this merchant has no usage plan on this API"),
        "THROTTLED": GatewayAnswer("throttled", "too many requests; retry with exponential backoff"),
        "QUOTA_EXCEEDED": GatewayAnswer("quota_exceeded", "the merchant's request quota for the period is used up"),
        "WAF_FILTERED": GatewayAnswer("blocked", "the request was blocked by the web application firewall"),
        "DEFAULT_4XX": GatewayAnswer("request_refused", "the API gateway refused the request"),
        "DEFAULT_5XX": GatewayAnswer("internal_error", "internal error; quote the request_id when reporting it"),
    }
)


def gateway_template(answer: GatewayAnswer) -> str:
    """The ``application/json`` template: fixed text, the response type, the request id."""
    body = {
        "error": {
            "code": answer.code,
            "message": answer.message,
            "type": "$context.error.responseType",
            "request_id": "$context.requestId",
        }
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"))
