"""Helpers for the handler tests: test environment, handler loading, a moto account built
per docs/design.md, and API Gateway event builders."""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote_plus

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_DIR = ROOT / "lambda"
FUNCTIONS = ("api", "workflow", "batch_ingest", "queue_consumer")

TEST_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "1",
    "POWERTOOLS_SERVICE_NAME": "payment-platform-test",
    "POWERTOOLS_METRICS_NAMESPACE": "PaymentPlatformTest",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "PAYMENTS_TABLE_NAME": "payments-test",
    "AUDIT_TABLE_NAME": "payment-audit-test",
    "IDEMPOTENCY_TABLE_NAME": "payment-idempotency-test",
    "BATCH_JOBS_TABLE_NAME": "batch-jobs-test",
    "MAX_PAYMENT_AMOUNT": "10000.00",
    "ALLOWED_CURRENCIES": "USD,EUR,GBP,JPY",
    "BLOCKED_MERCHANT_IDS": "merchant-blocked,merchant-banned",
}
# Variables that would send boto3 somewhere other than moto.
UNSET_ENV = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")

if str(LAMBDA_DIR / "shared") not in sys.path:
    sys.path.insert(0, str(LAMBDA_DIR / "shared"))

from payment_core.repository import from_attributes  # noqa: E402  (needs the path above)

REGION = "us-east-1"
ACCOUNT = "123456789012"


def load_handler(function: str) -> ModuleType:
    """Each function's module is called handler.py; import each under its own name."""
    name = f"{function}_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, LAMBDA_DIR / function / "handler.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class FakeContext:
    function_name: str = "payment-test-fn"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:payment-test-fn"
    aws_request_id: str = "req-0000-1111"
    log_group_name: str = "/aws/lambda/payment-test-fn"
    log_stream_name: str = "stream"
    remaining_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass
class Aws:
    """Clients and names of the resources the moto account holds."""

    dynamodb: Any
    sqs: Any
    sns: Any
    s3: Any
    sfn: Any
    queue_url: str
    dlq_url: str
    topic_arn: str
    topic_probe_url: str
    state_machine_arn: str
    bucket: str
    handlers: dict[str, ModuleType] = field(default_factory=dict)

    def payments(self) -> list[dict[str, Any]]:
        items = self.dynamodb.scan(TableName=TEST_ENV["PAYMENTS_TABLE_NAME"], ConsistentRead=True)["Items"]
        return [from_attributes(item) for item in items]

    def audit(self, payment_id: str) -> list[dict[str, Any]]:
        items = self.dynamodb.query(
            TableName=TEST_ENV["AUDIT_TABLE_NAME"],
            KeyConditionExpression="payment_id = :p",
            ExpressionAttributeValues={":p": {"S": payment_id}},
        )["Items"]
        return [from_attributes(item) for item in items]

    def executions(self) -> list[dict[str, Any]]:
        return self.sfn.list_executions(stateMachineArn=self.state_machine_arn)["executions"]

    def execution_inputs(self) -> list[dict[str, Any]]:
        return [
            json.loads(self.sfn.describe_execution(executionArn=e["executionArn"])["input"]) for e in self.executions()
        ]

    def drain(self, queue_url: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not batch:
                return messages
            messages.extend(batch)
            for message in batch:
                self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def create_tables(dynamodb: Any) -> None:
    def table(name: str, keys: list[tuple[str, str, str]], **extra: Any) -> None:
        dynamodb.create_table(
            TableName=name,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": n, "KeyType": k} for n, _, k in keys],
            AttributeDefinitions=[{"AttributeName": n, "AttributeType": t} for n, t, _ in keys]
            + extra.pop("more_attributes", []),
            **extra,
        )

    table(
        TEST_ENV["PAYMENTS_TABLE_NAME"],
        [("payment_id", "S", "HASH")],
        more_attributes=[
            {"AttributeName": "merchant_id", "AttributeType": "S"},
            {"AttributeName": "created_at", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "merchant-created-index",
                "KeySchema": [
                    {"AttributeName": "merchant_id", "KeyType": "HASH"},
                    {"AttributeName": "created_at", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    table(TEST_ENV["AUDIT_TABLE_NAME"], [("payment_id", "S", "HASH"), ("sequence", "N", "RANGE")])
    table(TEST_ENV["IDEMPOTENCY_TABLE_NAME"], [("id", "S", "HASH")])
    dynamodb.update_time_to_live(
        TableName=TEST_ENV["IDEMPOTENCY_TABLE_NAME"],
        TimeToLiveSpecification={"Enabled": True, "AttributeName": "expiration"},
    )
    table(TEST_ENV["BATCH_JOBS_TABLE_NAME"], [("job_id", "S", "HASH")])


def create_workflow(sfn: Any) -> str:
    definition = {
        "StartAt": "Done",
        "States": {"Done": {"Type": "Pass", "End": True}},
    }
    return sfn.create_state_machine(
        name="payment-workflow-test",
        definition=json.dumps(definition),
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/payment-workflow-test",
    )["stateMachineArn"]


def reset_lazies(module: ModuleType) -> None:
    from payment_core.lazy import Lazy

    for value in vars(module).values():
        if isinstance(value, Lazy):
            value.reset()


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
) -> dict[str, Any]:
    """An API Gateway REST proxy event as the integration delivers it."""
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
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


VALID_BODY = {
    "merchant_id": "merchant-1",
    "amount": "125.50",
    "currency": "USD",
    "customer_ref": "cust-42",
    "description": "order 1001",
}


def call(aws: Aws, context: FakeContext, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = aws.handlers["api"].handler(event, context)
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return response["statusCode"], json.loads(response["body"])


def post(
    aws: Aws,
    context: FakeContext,
    body: dict[str, Any] | str,
    key: str | None = "key-1",
    **kwargs: Any,
) -> tuple[int, dict[str, Any]]:
    headers = {"Idempotency-Key": key} if key is not None else {}
    text = body if isinstance(body, str) else json.dumps(body)
    return call(aws, context, api_event("POST", "/payments", body=text, headers=headers, **kwargs))


HEADER = "payment_id,merchant_id,amount,currency,customer_ref"


def s3_event(bucket: str, key: str, etag: str, version_id: str | None = None) -> dict:
    obj = {"key": quote_plus(key, safe="/"), "size": 1, "eTag": etag, "sequencer": "0A1B"}
    if version_id:
        obj["versionId"] = version_id
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
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
