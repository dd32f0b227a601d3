"""workflow_starter: the outbox relay from the payments table's stream to Step Functions."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from accepted import accept
from botocore.exceptions import ClientError


def test_each_new_payment_starts_one_execution_named_after_it(aws, context):
    first, second = accept(aws, context, "a"), accept(aws, context, "b")

    assert aws.relay_outbox(context) == {"batchItemFailures": []}

    assert sorted(e["name"] for e in aws.executions()) == sorted([first, second])
    assert sorted(i["payment_id"] for i in aws.execution_inputs()) == sorted([first, second])


def test_a_redelivered_record_starts_nothing_twice(aws, context):
    payment_id = accept(aws, context, "a")
    aws.stepfunctions.start_execution(stateMachineArn=aws.state_machine_arn, name=payment_id, input="{}")

    assert aws.relay_outbox(context) == {"batchItemFailures": []}  # ExecutionAlreadyExists is success
    assert len(aws.executions()) == 1


def test_a_failed_start_is_reported_so_the_mapping_retries_that_record(aws, context):
    payment_id = accept(aws, context, "a")
    runtime = aws.handlers["workflow_starter"].runtime
    [record] = [r for r in aws.outbox_records() if r["eventName"] == "INSERT"]

    class Throttled:
        def start_execution(self, **_: Any) -> None:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "StartExecution")

    runtime.stepfunctions.override(Throttled())
    # Throttled past the starter's own retries (it retries while time is left: 1.1 s, 1 s reserve).
    response = aws.relay_outbox(replace(context, remaining_millis=1_100))

    # The stream's item identifier is the record's sequence number (Lambda resumes from it).
    assert response == {"batchItemFailures": [{"itemIdentifier": record["dynamodb"]["SequenceNumber"]}]}
    assert aws.executions() == []
    runtime.stepfunctions.override(aws.stepfunctions)
    event = {"Records": [{**record, "eventSourceARN": "arn:aws:dynamodb:stream"}]}
    assert aws.handlers["workflow_starter"].handler(event, context) == {"batchItemFailures": []}
    assert [e["name"] for e in aws.executions()] == [payment_id]
