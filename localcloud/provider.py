"""Terraform AWS provider settings that point every service the stack uses at the emulator.

The one copy of these options: ``provider_overrides`` is what ``tap.py`` hands ``TapStack``
for the local target (``lib.target.ProviderOverrides``, so ``lib/`` never imports this
package); ``provider_settings`` is the same in Terraform JSON, for hand-written configurations.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from lib.target import ProviderOverrides

# Endpoint argument names of hashicorp/aws 5.x ("endpoints" block) for the services the stack
# and its resources call. sts is included because the provider calls GetCallerIdentity
# unless skip_requesting_account_id is set, and some resources read it anyway.
PROVIDER_ENDPOINT_SERVICES = (
    "apigateway",
    "backup",
    "cloudwatch",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "scheduler",
    "sfn",
    "sns",
    "sqs",
    "sts",
    "wafv2",
    "xray",
)

TEST_REGION = "us-east-1"
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
# Below the provider's default of 25 on purpose: a call moto does not implement answers
# 500/501 and 25 retries would look like a hang. Not lower than 5: under load the emulator's
# threaded HTTP server can drop a kept-alive connection, and the provider's SDK treats that
# ("use of closed network connection") as retryable; with 2 attempts a whole `terraform apply`
# failed on one KMS DescribeKey (fresh-clone run, 2026-12-02). Five attempts with the SDK's
# exponential backoff add at most ~15 s to an unimplemented call.
LOCAL_MAX_RETRIES = 5


def provider_endpoints(endpoint_url: str) -> dict[str, str]:
    """``{"apigateway": endpoint_url, ..., "lambda": ..., "sfn": ...}`` in Terraform names."""
    return {service: endpoint_url for service in PROVIDER_ENDPOINT_SERVICES}


def provider_overrides(endpoint_url: str) -> ProviderOverrides:
    """Every provider argument the emulator target needs besides the region."""
    return ProviderOverrides(
        access_key=TEST_ACCESS_KEY,
        secret_key=TEST_SECRET_KEY,
        skip_credentials_validation=True,
        skip_requesting_account_id=True,
        skip_metadata_api_check=True,
        skip_region_validation=True,
        s3_use_path_style=True,
        max_retries=LOCAL_MAX_RETRIES,
        endpoints=provider_endpoints(endpoint_url),
    )


def provider_settings(endpoint_url: str, region: str = TEST_REGION) -> dict[str, Any]:
    """``provider_overrides`` plus the region, in Terraform JSON (``endpoints`` is a block list)."""
    settings = asdict(provider_overrides(endpoint_url))
    settings["endpoints"] = [dict(settings["endpoints"])]
    return {"region": region, **settings}
