"""Lambda REQUEST authorizer: the merchant behind the ``x-api-key`` of a request.

The key's SHA-256 is looked up in the merchants table (``payment_core.tenancy.merchants``); an
active merchant is allowed on the whole stage with ``context.merchant_id``, anything else is
denied (API Gateway answers 403 with the API's ``ACCESS_DENIED`` gateway response). The key is
never logged. API Gateway's result cache is off (``authorizer_cache_ttl_seconds`` = 0, see
docs/architecture.md), so a disabled merchant is refused on its next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core import contract
from payment_core.runtime import FunctionRuntime
from payment_core.settings import FunctionEnvironment, variable
from payment_core.tenancy.merchants import MerchantDirectory, authorizer_response


@dataclass(frozen=True)
class AuthorizerEnvironment(FunctionEnvironment):
    """Resolves API keys in the merchants table (and reads no payment rules)."""

    merchants_table: str = field(metadata=variable(contract.MERCHANTS_TABLE_NAME))


runtime = FunctionRuntime(contract.AUTHORIZER, AuthorizerEnvironment)
merchant_directory = runtime.cached(
    lambda: MerchantDirectory(runtime.dynamodb(), runtime.environment().merchants_table)
)


def _api_key(event: dict[str, Any]) -> str:
    headers = event.get("headers") or {}
    return next((str(value) for name, value in headers.items() if name.lower() == "x-api-key" and value), "")


# No response in the traces: the answer names the merchant and its tier (the event, never
# traced, carries the key itself).
@runtime.handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    api_key = _api_key(event)
    merchant = merchant_directory().by_api_key(api_key) if api_key else None
    response = authorizer_response(merchant, str(event["methodArn"]))
    allowed = response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    runtime.logger.info(
        "credential allowed" if allowed else "credential refused",
        extra={"merchant_id": merchant.merchant_id if merchant else None},
    )
    runtime.count("CredentialAllowed" if allowed else "CredentialRefused")
    return response
