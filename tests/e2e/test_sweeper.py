"""The deployed sweeper, on its schedule, recovers a payment whose start was lost and one whose execution stopped.

Both payments are accepted by the API while every ``workflow_starter`` invocation fails before any
of its code runs (the emulator's fault switch, ``lambda:InitError``: ``Runtime.ExitError``, a
function error the stream mapping retries and counts, so after its retries the batch would go to the
S3 on-failure destination): the outbox never starts them and only the sweeper can. (A
``lambda:Timeout`` fault would not do: the handler runs to the end first, so the start happens.) Their
``created_at`` is then moved back past the stale bound (the workflow's execution timeout plus a
minute, 16 minutes: a constant of the stack, not a knob) so that the next sweep, which the emulated
EventBridge Scheduler runs every ``sweeper.interval_minutes`` (1 in the dev preset), finds them
rather than one 16 minutes later. The second payment's execution is started and stopped at once
(``ABORTED``): the sweeper redrives it through ``RedriveExecution`` (localcloud
``patches/stepfunctions_redrive.py``), under the same name, with no second execution. Last, the
``payment-oldest-open-age`` alarm is checked against what the sweeper published: the same
namespace, metric and dimension, in the records CloudWatch makes metrics of.

A refund is lost the same way (#22): a payment created before the outage settles, its refund is
accepted during it (PENDING, never started) and backdated with the two payments, and the same sweep
starts its execution (named after the refund id): it ends SUCCEEDED, the money on the payment.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from payment_core import contract
from payment_core.payments.models import format_timestamp, utc_now

from testkit.deployment import StackDeployment
from testkit.fault_switch import fault_switch
from testkit.money_moves import Money, refunds_final
from testkit.traffic import PlatformClient

# One interval for the schedule to come round, one more in case a sweep began just before the
# payments were backdated, then the executions themselves.
RECOVERED_WITHIN_SECONDS = 240
EXECUTION_ENDS_WITHIN_SECONDS = 60


def _published_metrics(platform: PlatformClient, function_name: str) -> list[dict[str, Any]]:
    """The embedded-metric-format records (Powertools) the function logged: what CloudWatch turns into metrics."""
    logs = platform.client("logs")
    configuration = platform.client("lambda").get_function_configuration(FunctionName=function_name)
    group = configuration.get("LoggingConfig", {}).get("LogGroup", f"/aws/lambda/{function_name}")
    records = []
    for page in logs.get_paginator("filter_log_events").paginate(logGroupName=group):
        for event in page["events"]:
            message = event["message"].strip()
            if message.startswith("{") and '"_aws"' in message:
                records.append(json.loads(message))
    return records


def _assert_the_alarmed_metric_is_published(platform: PlatformClient, suffix: str) -> None:
    """The sweeper's alarm watches the metric the deployed sweeper publishes (namespace, name,
    dimension), and the sweeps counted what they did (docs/operations.md's runbook reads them)."""
    cloudwatch = platform.client("cloudwatch")
    (alarm,) = cloudwatch.describe_alarms(AlarmNames=[f"payment-oldest-open-age-{suffix}"])["MetricAlarms"]
    assert cloudwatch.describe_alarms(AlarmNames=[f"payment-sweeper-errors-{suffix}"])["MetricAlarms"]
    records = _published_metrics(platform, f"payment-sweeper-{suffix}")
    dimensions = {d["Name"]: d["Value"] for d in alarm["Dimensions"]}
    alarmed = [
        record
        for record in records
        for directive in record["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == alarm["Namespace"]
        and alarm["MetricName"] in {metric["Name"] for metric in directive["Metrics"]}
        and all(record.get(name) == value for name, value in dimensions.items())
        and set(dimensions) <= {name for names in directive["Dimensions"] for name in names}
    ]
    assert (alarm["Statistic"], len(alarmed) > 0) == ("Maximum", True), (alarm, records[-1:])

    def total(metric: str) -> float:
        values = [record.get(metric, 0) for record in records]
        return sum(sum(v) if isinstance(v, list) else v for v in values)

    assert total("SweepFound") >= 3 and total("SweepStarted") >= 2 and total("SweepRedriven") >= 1


def _ended(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """The execution once it has ended: a payment is final at its last write, a few states before
    its execution ends (a loaded emulator takes seconds for those)."""
    deadline = time.monotonic() + EXECUTION_ENDS_WITHIN_SECONDS
    while (described := dict(sfn.describe_execution(executionArn=execution_arn)))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            break
        time.sleep(0.5)
    return described


@pytest.fixture
def refundable(platform: PlatformClient) -> str:
    """A payment accepted and relayed before the outage (its execution exists): it settles while
    the test sets up."""
    payment_id = _accept(platform, f"sweep-refundable-{uuid.uuid4().hex[:8]}")
    sfn, machine = platform.client("stepfunctions"), platform.outputs["state_machine_arn"]
    execution_arn = machine.replace(":stateMachine:", ":execution:", 1) + ":" + payment_id
    deadline = time.monotonic() + EXECUTION_ENDS_WITHIN_SECONDS
    while True:
        try:
            sfn.describe_execution(executionArn=execution_arn)
            return payment_id
        except sfn.exceptions.ExecutionDoesNotExist:
            assert time.monotonic() < deadline, f"the outbox did not start {payment_id}"
            time.sleep(0.2)


@pytest.fixture
def outbox_down(deployment: StackDeployment) -> Iterator[str]:
    """Every workflow_starter invocation fails before its handler: the stream's records are retried, never relayed."""
    fault = f"lambda:InitError:payment-workflow-starter-{deployment.suffix}"
    fault_switch(deployment.endpoint, {"seed": 22, "rates": {fault: 1.0}})
    try:
        yield fault
    finally:
        fault_switch(deployment.endpoint, {})


def _accept(platform: PlatformClient, key: str) -> str:
    body = {"merchant_id": "merchant-e2e", "amount": "15.00", "currency": "USD", "customer_ref": f"cust-{key}"}
    response = platform.create_payment(body, idempotency_key=key)
    assert response.status_code == 202, response.text
    return str(response.json()["payment_id"])


def _stale_after_seconds(deployment: StackDeployment, platform: PlatformClient) -> int:
    """The deployed sweeper's stale bound, read from its configuration: importing it from
    lib.components loads the AWS provider bindings (~20 s of CPU) into the e2e session."""
    configuration = platform.client("lambda").get_function_configuration(
        FunctionName=f"payment-sweeper-{deployment.suffix}"
    )
    return int(configuration["Environment"]["Variables"][contract.SWEEP_STALE_AFTER_SECONDS])


def _backdate(platform: PlatformClient, payment_id: str, stale_after_seconds: int) -> None:
    """As if accepted before the stale bound (only a payment still open, i.e. still indexed)."""
    created_at = format_timestamp(utc_now() - timedelta(seconds=stale_after_seconds + 60))
    platform.client("dynamodb").update_item(
        TableName=platform.outputs["payments_table_name"],
        Key={"payment_id": {"S": payment_id}},
        UpdateExpression="SET created_at = :created_at",
        ConditionExpression="attribute_exists(open_shard)",
        ExpressionAttributeValues={":created_at": {"S": created_at}},
    )


def test_the_scheduled_sweeper_starts_a_lost_payment_and_redrives_a_stopped_execution(
    deployment: StackDeployment, platform: PlatformClient, refundable: str, outbox_down: str
) -> None:
    sfn = platform.client("stepfunctions")
    machine = platform.outputs["state_machine_arn"]
    tag = uuid.uuid4().hex[:8]
    lost, stopped = _accept(platform, f"sweep-lost-{tag}"), _accept(platform, f"sweep-stopped-{tag}")
    started = sfn.start_execution(stateMachineArn=machine, name=stopped, input=json.dumps({"payment_id": stopped}))
    sfn.stop_execution(executionArn=started["executionArn"])
    while sfn.describe_execution(executionArn=started["executionArn"])["status"] == "RUNNING":
        time.sleep(0.2)
    assert sfn.describe_execution(executionArn=started["executionArn"])["status"] == "ABORTED"
    money = Money(platform, "merchant-e2e")
    money.wait(refundable, lambda payment: payment["status"] == "SETTLED", "settled", EXECUTION_ENDS_WITHIN_SECONDS)
    answer = money.refund(refundable, f"sweep-refund-{tag}", "5.00")
    assert answer.status_code == 202, answer.body
    refund_id = str(answer.json()["refund_id"])
    stale_after_seconds = _stale_after_seconds(deployment, platform)
    for payment_id in (lost, stopped, refund_id):  # a PENDING refund is in the open index too
        _backdate(platform, payment_id, stale_after_seconds)

    final = platform.wait_for_final([lost, stopped], timeout=RECOVERED_WITHIN_SECONDS)
    refunded = money.wait(refundable, refunds_final, "refunded", EXECUTION_ENDS_WITHIN_SECONDS)

    assert {pid: (item or {}).get("status") for pid, item in final.items()} == {lost: "SETTLED", stopped: "SETTLED"}
    assert [(r["refund_id"], r["status"]) for r in refunded["refunds"]] == [(refund_id, "SUCCEEDED")]
    assert (refunded["amount_refunded"], refunded["amount_refund_pending"]) == ("5.00", "0.00")
    arn_of_refund = started["executionArn"].rsplit(":", 1)[0] + ":" + refund_id
    refund_execution = _ended(sfn, arn_of_refund)
    assert (refund_execution["status"], json.loads(refund_execution["input"])) == (
        "SUCCEEDED",
        {"payment_id": refund_id},
    )
    arn_of = {pid: started["executionArn"].rsplit(":", 1)[0] + ":" + pid for pid in (lost, stopped)}
    lost_execution = _ended(sfn, arn_of[lost])
    assert (lost_execution["status"], lost_execution["redriveCount"]) == ("SUCCEEDED", 0)
    redriven = _ended(sfn, arn_of[stopped])
    assert (redriven["status"], redriven["redriveCount"]) == ("SUCCEEDED", 1)
    history = [event["type"] for event in sfn.get_execution_history(executionArn=arn_of[stopped])["events"]]
    assert history.count("ExecutionStarted") == 1
    assert history.index("ExecutionAborted") < history.index("ExecutionRedriven") < history.index("ExecutionSucceeded")
    # The outbox relayed none of them: every starter invocation failed before its handler, so
    # the sweeper made every move.
    switch = fault_switch(deployment.endpoint)
    assert switch["failed"][outbox_down] == switch["calls"][outbox_down] >= 1
    _assert_the_alarmed_metric_is_published(platform, deployment.suffix)
