"""Functions run their own zip (+ layers) in a subprocess, with the AWS runtime contract."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from localcloud.faults import LAMBDA_ACCESS_KEY_ID
from tests.localcloud.conftest import item, make_zip

RECORDING_HANDLER = """
import os, boto3, greeting

def handler(event, context):
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={"pk": {"S": event["id"]}, "greeting": {"S": greeting.TEXT}},
    )
    return {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "aws_request_id": context.aws_request_id,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "env": {k: os.environ.get(k) for k in (
            "AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "AWS_ENDPOINT_URL", "TABLE_NAME",
            "AWS_ACCESS_KEY_ID", "_X_AMZN_TRACE_ID", "LAMBDA_TASK_ROOT")},
    }
"""

FAILING_HANDLER = """
class PaymentDeclined(Exception):
    pass

def handler(event, context):
    print("about to fail")
    raise PaymentDeclined(f"card {event['card']} declined")
"""


def invoke(aws: Callable[[str], Any], arn: str, event: Any) -> tuple[str | None, Any]:
    response = aws("lambda").invoke(FunctionName=arn, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_handler_and_layer_run_with_the_function_environment(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, cloud: Any
) -> None:
    layer = aws("lambda").publish_layer_version(
        LayerName="greeting",
        Content={"ZipFile": make_zip({"python/greeting.py": "TEXT = 'hello from the layer'\n"})},
        CompatibleRuntimes=["python3.12"],
    )
    arn = create_function(
        {"handler.py": RECORDING_HANDLER},
        environment={"TABLE_NAME": table},
        layers=[layer["LayerVersionArn"]],
    )

    error, result = invoke(aws, arn, {"id": "p-1"})

    assert error is None
    assert item(aws, table, "p-1") == {
        "pk": {"S": "p-1"},
        "greeting": {"S": "hello from the layer"},
    }
    name = arn.rsplit(":", 1)[1]
    assert result["function_name"] == name
    assert result["invoked_function_arn"] == arn
    assert result["memory_limit_in_mb"] == 256
    assert 0 < result["remaining_ms"] <= 10_000
    assert len(result["aws_request_id"]) == 36
    env = result["env"]
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert env["AWS_REGION"] == "us-east-1"
    assert env["AWS_ENDPOINT_URL"] == cloud.endpoint
    assert env["TABLE_NAME"] == table
    assert env["AWS_ACCESS_KEY_ID"] == LAMBDA_ACCESS_KEY_ID  # the fault switch keys on it
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["LAMBDA_TASK_ROOT"].endswith("/task")


def test_an_exception_comes_back_as_unhandled_with_the_class_name(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    arn = create_function({"handler.py": FAILING_HANDLER})

    response = aws("lambda").invoke(FunctionName=arn, Payload=b'{"card": "4000"}', LogType="Tail")

    assert response["FunctionError"] == "Unhandled"
    payload = json.loads(response["Payload"].read())
    assert payload["errorType"] == "PaymentDeclined"
    assert payload["errorMessage"] == "card 4000 declined"
    assert any("raise PaymentDeclined" in frame for frame in payload["stackTrace"])
    tail = base64.b64decode(response["LogResult"]).decode()
    assert "about to fail" in tail
    assert "[ERROR] PaymentDeclined: card 4000 declined" in tail


def test_the_function_timeout_kills_the_handler(aws: Callable[[str], Any], create_function: Callable[..., str]) -> None:
    arn = create_function(
        {"handler.py": "import time\ndef handler(event, context):\n    time.sleep(30)\n"},
        timeout=1,
    )

    error, payload = invoke(aws, arn, {})

    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]


def test_only_what_the_aws_runtime_bundles_is_importable(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    # boto3 ships with the AWS python runtime; Powertools must come from a layer.
    source = "import boto3\nimport aws_lambda_powertools\ndef handler(event, context):\n    return 1\n"
    arn = create_function({"handler.py": source})

    error, payload = invoke(aws, arn, {})

    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ImportModuleError"
    assert "aws_lambda_powertools" in payload["errorMessage"]


def test_async_invocation_returns_202_and_runs_in_the_background(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str
) -> None:
    from tests.localcloud.conftest import wait_for

    layer = aws("lambda").publish_layer_version(
        LayerName="greeting-async",
        Content={"ZipFile": make_zip({"python/greeting.py": "TEXT = 'async'\n"})},
    )
    arn = create_function(
        {"handler.py": RECORDING_HANDLER},
        environment={"TABLE_NAME": table},
        layers=[layer["LayerVersionArn"]],
    )

    response = aws("lambda").invoke(FunctionName=arn, InvocationType="Event", Payload=b'{"id": "async-1"}')

    assert response["StatusCode"] == 202
    assert wait_for(lambda: item(aws, table, "async-1"))["greeting"] == {"S": "async"}


def test_invocation_logs_reach_cloudwatch(
    aws: Callable[[str], Any], create_function: Callable[..., str], unique: str
) -> None:
    arn = create_function({"handler.py": "def handler(event, context):\n    print('marker-42')\n"})
    invoke(aws, arn, {})

    group = f"/aws/lambda/{arn.rsplit(':', 1)[1]}"
    streams = aws("logs").describe_log_streams(logGroupName=group)["logStreams"]
    messages = [
        event["message"]
        for stream in streams
        for event in aws("logs").get_log_events(logGroupName=group, logStreamName=stream["logStreamName"])["events"]
    ]
    assert "marker-42" in messages
    assert any(m.startswith("REPORT RequestId:") for m in messages)


def test_an_async_event_that_keeps_failing_lands_in_the_dead_letter_queue(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    from tests.localcloud.conftest import wait_for

    sqs = aws("sqs")
    dlq_url = sqs.create_queue(QueueName=f"fn-dlq-{unique}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    lam = aws("lambda")
    lam.create_function(
        FunctionName=f"async-fail-{unique}",
        Runtime="python3.12",
        Role=role_arn,
        Handler="handler.handler",
        Code={"ZipFile": make_zip({"handler.py": FAILING_HANDLER})},
        DeadLetterConfig={"TargetArn": dlq_arn},
    )
    lam.put_function_event_invoke_config(FunctionName=f"async-fail-{unique}", MaximumRetryAttempts=1)

    lam.invoke(FunctionName=f"async-fail-{unique}", InvocationType="Event", Payload=b'{"card": "5100"}')

    def dead_letters() -> list[dict[str, Any]]:
        return sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"]).get("Messages", [])

    [message] = wait_for(dead_letters, timeout=20)
    assert json.loads(message["Body"]) == {"card": "5100"}
    assert message["MessageAttributes"]["ErrorMessage"]["StringValue"] == "card 5100 declined"
    group = f"/aws/lambda/async-fail-{unique}"
    streams = aws("logs").describe_log_streams(logGroupName=group)["logStreams"]
    assert len(streams) == 2  # the first attempt and MaximumRetryAttempts=1 retry
