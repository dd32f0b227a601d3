"""A deployed stack's merchant resources, as moto holds them for the ops tests."""

from __future__ import annotations

from typing import Any

import boto3

REGION = "eu-west-1"


def deploy_stack(region: str, endpoint: str | None = None, url_region: str | None = None) -> dict[str, Any]:
    """A stack's merchant resources in ``region``; its outputs (the invoke URL naming ``url_region``)."""
    clients = {"region_name": region, "endpoint_url": endpoint}
    apigw = boto3.client("apigateway", **clients)  # type: ignore[call-overload]
    api_id = apigw.create_rest_api(name="payments")["id"]
    plans = {
        tier: apigw.create_usage_plan(name=f"plan-{tier}", apiStages=[{"apiId": api_id, "stage": "prod"}])["id"]
        for tier in ("standard", "premium")
    }
    boto3.client("dynamodb", **clients).create_table(  # type: ignore[call-overload]
        TableName="merchants-prod",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return {
        "api_endpoint_url": f"https://{api_id}.execute-api.{url_region or region}.amazonaws.com/prod",
        "merchants_table_name": "merchants-prod",
        "merchant_usage_plan_ids": plans,
    }
