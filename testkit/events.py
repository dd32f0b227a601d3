"""Events as the AWS services deliver them to the handlers."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote_plus

from payment_core.api_contract import ROUTES
from payment_core.batch.rows import EXPECTED_HEADER

from testkit.environment import ACCOUNT_ID, REGION

CSV_HEADER = ",".join(EXPECTED_HEADER)
# A batch file with a row of each kind the ingest tells apart: good rows (p-001, p-003, p-009,
# p-011: quoted fields with commas and a line break), bad amounts (p-002: a comma inside quotes,
# p-004, p-010), a bad currency (p-005), a bad id, a repeated id (p-001 again), a short row
# (p-008) and a blank line; with a BOM and CRLF line ends.
MIXED_CSV = (
    "\ufeff" + CSV_HEADER + "\r\n"
    "p-001,merchant-1,10.00,USD,cust-1\r\n"
    '"p-002","merchant-1","1,5",USD,cust-2\r\n'  # comma inside quotes -> bad amount
    'p-003,merchant-2,7.5,EUR,"ref, with comma"\r\n'
    "p-004,merchant-1,-3.00,USD,cust-4\r\n"
    "p-005,merchant-1,3.00,XXX,cust-5\r\n"
    "bad id!,merchant-1,3.00,USD,cust-6\r\n"
    "p-001,merchant-1,99.00,USD,cust-7\r\n"
    "p-008,merchant-1,3.00,USD\r\n"
    "\r\n"
    "p-009,merchant-1,1000,JPY,cust-9\r\n"
    "p-010,merchant-1,10.123,USD,cust-10\r\n"
    'p-011,merchant-1,12.00,GBP,"multi\r\nline"\r\n'
)

QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:payment-queue-test"


def matched_resource(path: str) -> tuple[str, dict[str, str]]:
    """The API resource API Gateway matches ``path`` to among ``api_contract.ROUTES`` (from which
    the stack builds the resources), as the local cloud's API Gateway matches it, and the values of
    its template's variables. A path no resource matches is returned as it is."""
    from localcloud.triggers import match_resource

    matched = match_resource([{"path": path} for path in sorted({route.path for route in ROUTES})], path)
    return (matched[0]["path"], matched[1]) if matched else (path, {})


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
    authorizer verified ``merchant_id`` (None: no authorizer context, a deployment bug). The
    resource and path parameters are the ones API Gateway matches ``path`` to, unless given."""
    if base64_body and body is not None:
        body = base64.b64encode(body.encode()).decode()
    if resource is None:
        resource, matched = matched_resource(path)
        if path_parameters is None and matched:
            path_parameters = matched
    return {
        "resource": resource,
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
            "resourcePath": resource,
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
