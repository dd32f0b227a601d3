"""The sweeper: payments left non-final past the bound are found through the sparse index and re-driven."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from accepted import accept
from botocore.exceptions import ClientError
from payment_core import contract
from payment_core.payments.admission import StartSlots
from payment_core.payments.models import PaymentStatus, utc_now
from payment_core.payments.submission import StepFunctionsStarter
from payment_core.payments.sweeping import OpenPayments, Outcome, PaymentExecutions, sweep

from testkit.events import api_event

STALE_AFTER = timedelta(minutes=16)
LATER = STALE_AFTER + timedelta(minutes=1)


def sweeper_parts(aws: Any) -> tuple[OpenPayments, PaymentExecutions, StartSlots]:
    table = aws.handler_environment()[contract.PAYMENTS_TABLE_NAME]
    return (
        OpenPayments(aws.dynamodb, table),
        PaymentExecutions(aws.stepfunctions, aws.state_machine_arn),
        start_slots(aws),
    )


def start_slots(aws: Any, limit: int = 1000) -> StartSlots:
    return StartSlots(aws.dynamodb, aws.handler_environment()[contract.START_SLOTS_TABLE_NAME], limit)


def run_workflow_step(aws: Any, context: Any, step: str, payment_id: str, **extra: Any) -> Any:
    return aws.handlers["workflow"].handler({"step": step, "payment_id": payment_id, **extra}, context)


def recording_redrives(aws: Any) -> tuple[PaymentExecutions, list[str]]:
    """Executions whose ``RedriveExecution`` is recorded (the ARNs, in order) and answered as Step
    Functions does: moto 5.2.5 has no RedriveExecution."""
    redriven: list[str] = []

    class Recording:
        def __getattr__(self, name: str) -> Any:
            return getattr(aws.stepfunctions, name)

        def redrive_execution(self, executionArn: str) -> dict[str, Any]:
            redriven.append(executionArn)
            return {"redriveDate": utc_now()}

    return PaymentExecutions(Recording(), aws.state_machine_arn), redriven


def open_ids(aws: Any) -> set[str]:
    open_payments, *_ = sweeper_parts(aws)
    far_future = "9999-12-31T23:59:59.999Z"
    return {
        pid for shard in range(contract.OPEN_SHARDS) for pid in open_payments.created_before(str(shard), far_future)
    }


def test_a_payment_whose_start_was_lost_is_started_under_its_own_name(aws, context):
    payment_id = accept(aws, context, "lost")  # stored PENDING; the outbox never relayed it
    assert aws.executions() == []

    report = sweep(*sweeper_parts(aws), utc_now() + LATER, STALE_AFTER)

    assert report.found == 1
    assert report.outcomes == {Outcome.STARTED: 1}
    assert [e["name"] for e in aws.executions()] == [payment_id]
    assert aws.execution_inputs() == [{"payment_id": payment_id}]
    assert report.oldest_open_age_seconds >= LATER.total_seconds()


def test_the_outbox_starter_says_whether_it_started(aws):
    starter = StepFunctionsStarter(aws.stepfunctions, aws.state_machine_arn)

    assert starter.start("pay-once") is True
    # Step Functions answers a running execution's own start (same name and input) as a success.
    assert starter.start("pay-once") is True
    aws.stepfunctions.stop_execution(
        executionArn=PaymentExecutions(aws.stepfunctions, aws.state_machine_arn).execution_arn("pay-once")
    )
    assert starter.start("pay-once") is False  # ExecutionAlreadyExists: nothing started
    assert [(e["name"], e["status"]) for e in aws.executions()] == [("pay-once", "ABORTED")]


def test_a_fresh_payment_is_left_alone_but_counts_for_the_oldest_age(aws, context):
    accept(aws, context, "fresh")

    report = sweep(*sweeper_parts(aws), utc_now(), STALE_AFTER)

    assert report.found == 0
    assert aws.executions() == []
    assert 0 <= report.oldest_open_age_seconds < 60


def test_a_running_execution_is_left_running(aws, context):
    payment_id = accept(aws, context, "running")
    assert aws.relay_outbox(context) == {"batchItemFailures": []}

    report = sweep(*sweeper_parts(aws), utc_now() + LATER, STALE_AFTER)

    assert report.outcomes == {Outcome.RUNNING: 1}
    [execution] = aws.executions()
    assert (execution["name"], execution["status"]) == (payment_id, "RUNNING")


def test_a_failed_execution_is_redriven(aws, context):
    payment_id = accept(aws, context, "failed")
    assert aws.relay_outbox(context) == {"batchItemFailures": []}
    _, executions, _ = sweeper_parts(aws)
    aws.stepfunctions.stop_execution(executionArn=executions.execution_arn(payment_id))  # ABORTED
    recording, redriven = recording_redrives(aws)

    report = sweep(sweeper_parts(aws)[0], recording, start_slots(aws), utc_now() + LATER, STALE_AFTER)

    assert report.outcomes == {Outcome.REDRIVEN: 1}
    assert redriven == [executions.execution_arn(payment_id)]
    assert len(aws.executions()) == 1  # no second execution


def test_an_execution_step_functions_will_not_redrive_is_left_for_a_human(aws, context):
    payment_id = accept(aws, context, "stuck")
    assert aws.relay_outbox(context) == {"batchItemFailures": []}
    open_payments, executions, slots = sweeper_parts(aws)
    aws.stepfunctions.stop_execution(executionArn=executions.execution_arn(payment_id))

    class Refusing:
        def __getattr__(self, name: str) -> Any:
            return getattr(aws.stepfunctions, name)

        def redrive_execution(self, **_: Any) -> None:
            error = {"Error": {"Code": "ExecutionNotRedrivable", "Message": "redrive count exceeded"}}
            raise ClientError(error, "RedriveExecution")  # type: ignore[arg-type]

    refusing = PaymentExecutions(Refusing(), aws.state_machine_arn)
    report = sweep(open_payments, refusing, slots, utc_now() + LATER, STALE_AFTER)

    assert report.outcomes == {Outcome.NOT_REDRIVABLE: 1}
    assert report.needs_a_human == [payment_id]


def test_a_final_payment_leaves_the_index_in_the_write_that_makes_it_final(aws, context):
    settled, failed, pending = accept(aws, context, "s"), accept(aws, context, "f"), accept(aws, context, "p")
    assert open_ids(aws) == {settled, failed, pending}
    for step in ("validate", "process", "record"):
        run_workflow_step(aws, context, step, settled)
    error = {"Error": contract.PAYMENT_DECLINED, "Cause": json.dumps({"errorMessage": "declined"})}
    run_workflow_step(aws, context, "compensate", failed, error=error)

    assert open_ids(aws) == {pending}
    # Validated and authorized payments are still open; the stored item keeps no index key once final.
    item = aws.dynamodb.get_item(
        TableName=aws.handler_environment()[contract.PAYMENTS_TABLE_NAME], Key={"payment_id": {"S": settled}}
    )["Item"]
    assert item["status"]["S"] == PaymentStatus.SETTLED.value
    assert contract.OPEN_SHARD_ATTRIBUTE not in item


def test_the_index_key_never_reaches_the_api(aws, context):
    payment_id = accept(aws, context, "public")
    response = aws.handlers["api"].handler(api_event("GET", f"/payments/{payment_id}"), context)
    assert response["statusCode"] == 200
    assert contract.OPEN_SHARD_ATTRIBUTE not in json.loads(response["body"])


@pytest.mark.parametrize("stale_after_seconds", ["0", "-5", "soon"])
def test_the_handler_refuses_a_bad_bound(aws, context, monkeypatch, stale_after_seconds):
    monkeypatch.setenv(contract.SWEEP_STALE_AFTER_SECONDS, stale_after_seconds)
    with pytest.raises(
        ValueError, match=f"SWEEP_STALE_AFTER_SECONDS must be a positive integer, got '{stale_after_seconds}'"
    ):
        aws.handlers["sweeper"].handler({}, context)


def test_the_handler_publishes_what_it_found_and_the_oldest_age(aws, context, monkeypatch, capsys):
    payment_id = accept(aws, context, "handler")
    monkeypatch.setenv(contract.SWEEP_STALE_AFTER_SECONDS, "1")
    aws.dynamodb.update_item(
        TableName=aws.handler_environment()[contract.PAYMENTS_TABLE_NAME],
        Key={"payment_id": {"S": payment_id}},
        UpdateExpression="SET created_at = :old",
        ExpressionAttributeValues={":old": {"S": "2020-01-01T00:00:00.000Z"}},
    )
    capsys.readouterr()

    summary = aws.handlers["sweeper"].handler({}, context)

    assert summary == {"found": 1, "reclaimed": 0, "woken": 0, Outcome.STARTED.value: 1}
    assert [e["name"] for e in aws.executions()] == [payment_id]
    [emf] = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert (emf["SweepFound"], emf[Outcome.STARTED.value], emf[Outcome.REDRIVEN.value]) == ([1.0], [1.0], [0.0])
    [age] = emf[contract.OLDEST_OPEN_PAYMENT_AGE_METRIC]
    assert age > 86_400
