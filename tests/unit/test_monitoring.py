"""Alarms reach the alarm topic; the dashboard covers the platform."""

from __future__ import annotations

import pytest

from lib.config import config_for
from tests.unit.synth import SynthesizedStack


def _alarms(stack: SynthesizedStack) -> dict[str, dict]:  # type: ignore[type-arg]
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


def test_alarm_set_is_complete(dev: SynthesizedStack) -> None:
    functions = [
        "payment-api",
        "payment-workflow",
        "payment-batch-ingest",
        "payment-queue-consumer",
        "payment-authorizer",
        "payment-workflow-starter",
    ]
    # The workflow function's Errors are mostly declines the state machine routes on purpose:
    # no errors alarm there (its infrastructure failures fail executions, which alarm).
    expected = (
        {f"{f}-throttles-dev" for f in functions}
        | {f"{f}-errors-dev" for f in functions if f != "payment-workflow"}
        | {
            "payment-dlq-not-empty-dev",
            "payments-api-5xx-dev",
            "payments-api-p99-latency-dev",
            "payment-workflow-failed-dev",
            "payment-workflow-timed-out-dev",
            "payment-workflow-aborted-dev",
            "payment-workflow-start-lag-dev",
            # the batch-file workflow's own failure path
            "batch-file-failed-dev",
            "batch-file-timed-out-dev",
            "batch-file-aborted-dev",
            "batch-file-dlq-not-empty-dev",
        }
    )
    assert set(_alarms(dev)) == expected


@pytest.mark.parametrize(
    ("alarm", "metric"),
    [
        ("payment-workflow-failed-dev", "ExecutionsFailed"),
        ("payment-workflow-timed-out-dev", "ExecutionsTimedOut"),
        ("payment-workflow-aborted-dev", "ExecutionsAborted"),
    ],
)
def test_every_execution_that_ends_without_a_final_payment_alarms(
    dev: SynthesizedStack, alarm: str, metric: str
) -> None:
    found = _alarms(dev)[alarm]
    machine = dev.named("aws_sfn_state_machine", "name", "payment-workflow-dev")
    assert (found["namespace"], found["metric_name"], found["threshold"]) == ("AWS/States", metric, 1)
    assert found["dimensions"] == {"StateMachineArn": dev.reference_of("aws_sfn_state_machine", machine, "arn")}


def test_payments_waiting_for_their_workflow_start_alarm_by_age(dev: SynthesizedStack) -> None:
    alarm = _alarms(dev)["payment-workflow-start-lag-dev"]
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert alarm["threshold"] == config_for("dev").alarms.unstarted_payment_age_seconds * 1000
    starter = dev.named("aws_lambda_function", "function_name", "payment-workflow-starter-dev")
    assert alarm["dimensions"] == {"FunctionName": dev.reference_of("aws_lambda_function", starter, "function_name")}


def test_business_outcomes_are_dashboard_metrics(dev: SynthesizedStack) -> None:
    body = dev.only("aws_cloudwatch_dashboard")["dashboard_body"]
    for metric in ("PaymentSettled", "PaymentDeclined", "PaymentRejected", "TransientProcessorError"):
        assert f'"{metric}"' in body


def test_every_alarm_notifies_the_alarm_topic(env_stack: SynthesizedStack) -> None:
    topic = env_stack.named(
        "aws_sns_topic", "name", f"payment-alarms-{env_stack.stack.node.id.removeprefix('TapStack')}"
    )
    arn = env_stack.reference_of("aws_sns_topic", topic, "arn")
    for alarm in _alarms(env_stack).values():
        assert alarm["alarm_actions"] == [arn]
        assert alarm["ok_actions"] == [arn]


def test_first_dead_letter_raises_the_alarm(dev: SynthesizedStack) -> None:
    alarm = _alarms(dev)["payment-dlq-not-empty-dev"]
    assert (alarm["metric_name"], alarm["statistic"], alarm["threshold"], alarm["comparison_operator"]) == (
        "ApproximateNumberOfMessagesVisible",
        "Maximum",
        0,
        "GreaterThanThreshold",
    )


def test_latency_alarm_watches_p99_against_config(prod: SynthesizedStack) -> None:
    alarm = _alarms(prod)["payments-api-p99-latency-prod"]
    thresholds = config_for("prod").alarms
    assert alarm["extended_statistic"] == "p99"
    assert "statistic" not in alarm
    assert alarm["threshold"] == thresholds.api_p99_latency_ms
    assert (alarm["period"], alarm["evaluation_periods"]) == (thresholds.period_seconds, thresholds.evaluation_periods)


def test_dashboard_is_named_and_built_from_references(dev: SynthesizedStack) -> None:
    dashboard = dev.only("aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == "payment-platform-dev"
    assert dashboard["dashboard_body"].startswith("${jsonencode(")
    assert "ExecutionsFailed" in dashboard["dashboard_body"]
