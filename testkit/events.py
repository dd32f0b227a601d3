"""Events as the AWS services deliver them to the handlers."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

from payment_core.batch import EXPECTED_HEADER

from testkit.environment import ACCOUNT_ID, REGION

CSV_HEADER = ",".join(EXPECTED_HEADER)

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:payment-queue-test"


def api_event(
    method: str,
    path: str,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    path_parameters: dict[str, str] | None = None,
    base64_body: bool = False,
    resource: str | None = None,
    merchant_id: str | None = "merchant-1",
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the integration delivers it, after the Lambda
    authorizer verified ``merchant_id`` (None: no authorizer context, a deployment bug)."""
    if base64_body and body is not None:
        body = base64.b64encode(body.encode()).decode()
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()} or None,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": path_parameters,
        "stageVariables": None,
        "requestContext": {
            "requestId": "api-request-1",
            "stage": "test",
            "httpMethod": method,
            "path": f"/test{path}",
            "resourcePath": resource or path,
            "identity": {"sourceIp": "127.0.0.1"},
            **({"authorizer": {"merchant_id": merchant_id, "principalId": merchant_id}} if merchant_id else {}),
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


def get_payment_event(payment_id: str, merchant_id: str = "merchant-1") -> dict[str, Any]:
    """``GET /payments/{payment_id}`` as API Gateway routes it, for ``merchant_id``."""
    return api_event(
        "GET",
        f"/payments/{payment_id}",
        path_parameters={"payment_id": payment_id},
        resource="/payments/{payment_id}",
        merchant_id=merchant_id,
    )


def s3_event(bucket: str, key: str, etag: str, version_id: str | None = None) -> dict[str, Any]:
    """S3 ObjectCreated for one object (the key URL-encoded, as S3 sends it)."""
    obj = {"key": quote_plus(key, safe="/"), "size": 1, "eTag": etag, "sequencer": "0A1B"}
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-01-01T00:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "incoming-csv",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": obj,
                },
            }
        ]
    }


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str = QUEUE_ARN) -> dict[str, Any]:
    """What an SQS event source mapping delivers for ``messages`` (shaped as ReceiveMessage returns them)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {"ApproximateReceiveCount": "1"}),
                "messageAttributes": {},
                "md5OfBody": message.get("MD5OfBody", "x"),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
            for message in messages
        ]
    }


def sqs_event_of(*bodies: str) -> dict[str, Any]:
    """An SQS event of these bodies, their message ids ``msg-0``, ``msg-1``, …"""
    return sqs_event(
        {"MessageId": f"msg-{n}", "ReceiptHandle": f"rh-{n}", "Body": body} for n, body in enumerate(bodies)
    )
