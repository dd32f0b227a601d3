"""The Lambda REQUEST authorizer's answer: the policy and context API Gateway acts on.

The policy names the whole stage (every method and path), so a cached answer is right for every
route of the API; the context carries the verified merchant (and its default API version) to the
integration. A cached answer keeps the version it was given for the authorizer's cache TTL.
"""

from __future__ import annotations

from typing import Any

from payment_core import contract
from payment_core.tenancy.merchants import Authentication


def stage_resource(method_arn: str) -> str:
    """``arn:...:<api>/<stage>/<VERB>/<path>`` → ``arn:...:<api>/<stage>/*/*``."""
    api_and_stage = "/".join(method_arn.split("/", 2)[:2])
    return f"{api_and_stage}/*/*"


def authorizer_response(authentication: Authentication, method_arn: str) -> dict[str, Any]:
    """Allow a merchant whose secret key authenticates on the whole stage, deny anything else.

    An allowed answer carries the merchant's metering identifier as ``usageIdentifierKey``
    (the API's key source is AUTHORIZER: API Gateway meters and throttles that API key) and
    never the secret key."""
    merchant = authentication.merchant
    allowed = authentication.allowed and merchant is not None
    principal = merchant.merchant_id if merchant is not None else "unknown"
    response: dict[str, Any] = {
        "principalId": principal,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow" if allowed else "Deny",
                    "Resource": stage_resource(method_arn),
                }
            ],
        },
    }
    if allowed and merchant is not None:
        response["context"] = {
            "merchant_id": merchant.merchant_id,
            "tier": merchant.tier,
            contract.MERCHANT_API_VERSION_CONTEXT: merchant.api_version,
        }
        response["usageIdentifierKey"] = merchant.usage_key
    return response
