"""Warm execution environments and reserved concurrency, as the Lambda service runs functions."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.localcloud.conftest import clients, wait_for

# Module state and the process id tell whether an invocation ran in a warm environment.
COUNTING_HANDLER = """
import os, time
INVOCATIONS = 0

def handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    time.sleep(event.get("sleep", 0))
    if event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"invocations": INVOCATIONS, "pid": os.getpid(), "request_id": context.aws_request_id}
"""


def invoke(aws: Callable[[str], Any], arn: str, event: dict[str, Any]) -> tuple[str | None, Any]:
    response = aws("lambda").invoke(FunctionName=arn, Payload=json.dumps(event).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def without_retries(cloud: Any) -> Callable[[str], Any]:
    """A client factory whose calls are tried once: botocore would retry a 429 by itself."""
    return clients(cloud.endpoint, Config(retries={"total_max_attempts": 1}))


def test_module_state_carries_over_between_invocations_of_one_environment(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER})

    results = [invoke(aws, arn, {})[1] for _ in range(3)]
    error, _ = invoke(aws, arn, {"fail": True})  # a handled exception keeps the environment
    after_error = invoke(aws, arn, {})[1]

    assert [r["invocations"] for r in results] == [1, 2, 3]
    assert len({r["pid"] for r in results}) == 1
    assert len({r["request_id"] for r in results}) == 3
    assert error == "Unhandled"
    assert (after_error["invocations"], after_error["pid"]) == (5, results[0]["pid"])


def test_a_timeout_resets_the_environment(aws: Callable[[str], Any], create_function: Callable[..., str]) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER}, timeout=1)
    first = invoke(aws, arn, {})[1]

    error, timed_out = invoke(aws, arn, {"sleep": 3})
    after = invoke(aws, arn, {})[1]

    assert (error, timed_out["errorType"]) == ("Unhandled", "Sandbox.Timedout")
    assert after["invocations"] == 1
    assert after["pid"] != first["pid"]


def test_a_configuration_change_starts_new_environments(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER})
    before = invoke(aws, arn, {})[1]

    aws("lambda").update_function_configuration(FunctionName=arn, Environment={"Variables": {"V": "2"}})
    after = invoke(aws, arn, {})[1]

    assert (after["invocations"], after["pid"] != before["pid"]) == (1, True)


def _concurrent(aws: Callable[[str], Any], arn: str, events: list[dict[str, Any]]) -> list[Any]:
    outcomes: list[Any] = [None] * len(events)

    def run(index: int) -> None:
        try:
            outcomes[index] = invoke(aws, arn, events[index])
        except ClientError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(n,)) for n in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_unreserved_functions_scale_out_to_parallel_environments(
    aws: Callable[[str], Any], create_function: Callable[..., str]
) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER})

    outcomes = _concurrent(aws, arn, [{"sleep": 1.5}] * 3)

    assert all(isinstance(outcome, tuple) and outcome[0] is None for outcome in outcomes)
    assert len({outcome[1]["pid"] for outcome in outcomes}) == 3


def test_a_synchronous_invoke_past_the_reserved_concurrency_is_throttled_with_429(
    aws: Callable[[str], Any], create_function: Callable[..., str], cloud: Any
) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER})
    aws("lambda").put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=1)

    outcomes = _concurrent(without_retries(cloud), arn, [{"sleep": 2}, {"sleep": 2}])

    throttled = [o for o in outcomes if isinstance(o, ClientError)]
    ran = [o for o in outcomes if isinstance(o, tuple)]
    assert len(ran) == 1 and len(throttled) == 1
    response = throttled[0].response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["Error"]["Code"] == "TooManyRequestsException"
    assert response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    # Once the running invocation has finished, the slot is free again.
    assert invoke(aws, arn, {})[0] is None


def test_reserved_concurrency_zero_throttles_every_invoke(
    aws: Callable[[str], Any], create_function: Callable[..., str], cloud: Any
) -> None:
    arn = create_function({"handler.py": COUNTING_HANDLER})
    aws("lambda").put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=0)

    with pytest.raises(ClientError) as raised:
        invoke(without_retries(cloud), arn, {})

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"


RECORD_HANDLER = """
import os, time, boto3
def handler(event, context):
    time.sleep(0.5)
    records = event.get("Records") or [event]
    for record in records:
        receive_count = record.get("attributes", {}).get("ApproximateReceiveCount", "0")
        boto3.client("dynamodb").put_item(
            TableName=os.environ["TABLE_NAME"],
            Item={"pk": {"S": record.get("body", record.get("id", ""))}, "receives": {"N": receive_count}},
        )
    return {}
"""


def _rows(aws: Callable[[str], Any], table: str) -> dict[str, int]:
    items = aws("dynamodb").scan(TableName=table)["Items"]
    return {row["pk"]["S"]: int(row["receives"]["N"]) for row in items}


def test_throttled_async_events_are_retried_until_they_run(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str
) -> None:
    arn = create_function({"handler.py": RECORD_HANDLER}, environment={"TABLE_NAME": table})
    aws("lambda").put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=1)

    for n in range(4):
        aws("lambda").invoke(FunctionName=arn, InvocationType="Event", Payload=json.dumps({"id": f"e{n}"}).encode())

    # 4 events, one environment at a time, 0.5 s each: the throttled ones wait and run later.
    rows = wait_for(lambda: len(_rows(aws, table)) == 4 and _rows(aws, table), timeout=30)
    assert set(rows) == {"e0", "e1", "e2", "e3"}


def _sqs_mapping(
    aws: Callable[[str], Any], arn: str, unique: str, reserved: int, maximum_concurrency: int | None
) -> str:
    queue_url = aws("sqs").create_queue(QueueName=f"work-{unique}", Attributes={"VisibilityTimeout": "5"})["QueueUrl"]
    queue_arn = aws("sqs").get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    aws("lambda").put_function_concurrency(FunctionName=arn, ReservedConcurrentExecutions=reserved)
    extra = {"ScalingConfig": {"MaximumConcurrency": maximum_concurrency}} if maximum_concurrency else {}
    aws("lambda").create_event_source_mapping(EventSourceArn=queue_arn, FunctionName=arn, BatchSize=1, **extra)
    for n in range(6):
        aws("sqs").send_message(QueueUrl=queue_url, MessageBody=f"m{n}")
    return str(queue_url)


def test_an_sqs_mapping_without_maximum_concurrency_outruns_the_reservation(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    """AWS: throttled batches return after the visibility timeout with a higher receive count."""
    arn = create_function({"handler.py": RECORD_HANDLER}, environment={"TABLE_NAME": table})
    _sqs_mapping(aws, arn, unique, reserved=2, maximum_concurrency=None)

    rows = wait_for(lambda: len(_rows(aws, table)) == 6 and _rows(aws, table), timeout=40)

    assert max(rows.values()) >= 2  # some batches were throttled and received again


def test_maximum_concurrency_within_the_reservation_means_no_throttled_batch(
    aws: Callable[[str], Any], create_function: Callable[..., str], table: str, unique: str
) -> None:
    arn = create_function({"handler.py": RECORD_HANDLER}, environment={"TABLE_NAME": table})
    _sqs_mapping(aws, arn, unique, reserved=2, maximum_concurrency=2)

    rows = wait_for(lambda: len(_rows(aws, table)) == 6 and _rows(aws, table), timeout=40)

    assert set(rows.values()) == {1}
