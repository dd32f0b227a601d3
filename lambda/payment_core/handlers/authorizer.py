"""Lambda REQUEST authorizer: the merchant behind the ``Authorization: Bearer sk_...`` of a request.

A malformed header is refused without a table read; a well-formed secret key's SHA-256 is
looked up in the merchants table (``payment_core.tenancy.merchants``). A live key of an active
merchant is allowed on the whole stage with ``context.merchant_id`` and the merchant's
metering identifier as ``usageIdentifierKey``; anything else is denied (API Gateway answers
403 with the API's ``ACCESS_DENIED`` gateway response). The log line and the metric name the
verdict (revoked, expired, overlap ended...), never the key. API Gateway's result cache is off
(``authorizer_cache_ttl_seconds`` = 0, see docs/architecture.md), so a revoked key or a
disabled merchant is refused on its next request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core import contract
from payment_core.payments.models import utc_now
from payment_core.runtime import FunctionRuntime
from payment_core.settings import FunctionEnvironment, variable
from payment_core.tenancy.authorizer_policy import authorizer_response
from payment_core.tenancy.merchants import Authentication, MerchantDirectory
from payment_core.tenancy.secret_keys import CredentialCheck, bearer_secret


@dataclass(frozen=True)
class AuthorizerEnvironment(FunctionEnvironment):
    """Resolves secret keys in the merchants table (and reads no payment rules)."""

    merchants_table: str = field(metadata=variable(contract.MERCHANTS_TABLE_NAME))


runtime = FunctionRuntime(contract.AUTHORIZER, AuthorizerEnvironment)
merchant_directory = runtime.cached(
    lambda: MerchantDirectory(runtime.dynamodb(), runtime.environment().merchants_table)
)


# No response in the traces: the answer names the merchant, its tier and its metering id (the
# event, never traced, carries the secret key itself).
@runtime.handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    secret = bearer_secret(event.get("headers"))
    authentication = (
        merchant_directory().authenticate(secret, utc_now())
        if secret is not None
        else Authentication(CredentialCheck.MALFORMED)
    )
    merchant = authentication.merchant
    runtime.logger.info(
        "credential allowed" if authentication.allowed else "credential refused",
        extra={"merchant_id": merchant.merchant_id if merchant else None, "check": authentication.check.value},
    )
    runtime.count("CredentialAllowed" if authentication.allowed else "CredentialRefused")
    return authorizer_response(authentication, str(event["methodArn"]))
