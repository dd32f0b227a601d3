"""Terraform AWS provider settings that point every service the stack uses at the emulator."""

from __future__ import annotations

from typing import Any

# Endpoint argument names of hashicorp/aws 5.x ("endpoints" block) for the services the stack
# and its resources call. sts is included because the provider calls GetCallerIdentity
# unless skip_requesting_account_id is set, and some resources read it anyway.
PROVIDER_ENDPOINT_SERVICES = (
    "apigateway",
    "cloudwatch",
    "dynamodb",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "sfn",
    "sns",
    "sqs",
    "sts",
    "wafv2",
)

TEST_REGION = "us-east-1"
TEST_ACCESS_KEY = "testing"
TEST_SECRET_KEY = "testing"
# Low on purpose: a call moto does not implement answers 500/501 and the provider would
# otherwise retry it for minutes, which looks like a hang.
LOCAL_MAX_RETRIES = 2


def provider_endpoints(endpoint_url: str) -> dict[str, str]:
    """``{"apigateway": endpoint_url, ..., "lambda": ..., "sfn": ...}`` in Terraform names."""
    return {service: endpoint_url for service in PROVIDER_ENDPOINT_SERVICES}


def cdktf_provider_endpoints(endpoint_url: str) -> dict[str, str]:
    """Same as provider_endpoints, keyed for ``AwsProviderEndpoints(**...)`` (``lambda_``)."""
    return {
        ("lambda_" if service == "lambda" else service): url
        for service, url in provider_endpoints(endpoint_url).items()
    }


def provider_settings(endpoint_url: str, region: str = TEST_REGION) -> dict[str, Any]:
    """Every provider argument the emulator target needs, in Terraform (snake_case) names."""
    return {
        "region": region,
        "access_key": TEST_ACCESS_KEY,
        "secret_key": TEST_SECRET_KEY,
        "skip_credentials_validation": True,
        "skip_requesting_account_id": True,
        "skip_metadata_api_check": True,
        "skip_region_validation": True,
        "s3_use_path_style": True,
        "max_retries": LOCAL_MAX_RETRIES,
        "endpoints": [provider_endpoints(endpoint_url)],
    }
