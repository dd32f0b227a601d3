"""Alarms reach the alarm topic; the dashboard covers the platform."""

from __future__ import annotations

import pytest

from lib.config import config_for
from tests.unit.synth import SynthesizedStack


def _alarms(stack: SynthesizedStack) -> dict[str, dict]:  # type: ignore[type-arg]
    return {a["alarm_name"]: a for a in stack.resources("aws_cloudwatch_metric_alarm").values()}


TABLES = (
    "payments",
    "payment-audit",
    "batch-jobs",
    "batch-payment-claims",
    "merchants",
    "payment-events",
    "payment-start-slots",
)


def test_alarm_set_is_complete(dev: SynthesizedStack) -> None:
    functions = [
        "payment-api",
        "payment-workflow",
        "payment-batch-ingest",
        "payment-queue-consumer",
        "payment-authorizer",
        "payment-workflow-starter",
        "payment-sweeper",
        "payment-event-writer",
        "payment-webhook-fanout",
        "payment-webhook-delivery",
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
            # transitions not yet written as events (the audit stream's consumer)
            "payment-events-lag-dev",
            "payment-oldest-open-age-dev",
            # webhooks: events not yet fanned out, a delivery the function failed on, an endpoint disabled
            "webhook-fanout-lag-dev",
            "webhook-dlq-not-empty-dev",
            "webhook-endpoint-disabled-dev",
            # the batch-file workflow's own failure path
            "batch-file-failed-dev",
            "batch-file-timed-out-dev",
            "batch-file-aborted-dev",
            "batch-file-dlq-not-empty-dev",
            # the outbox's give-up path (tests/unit/test_outbox.py)
            "payment-workflow-start-given-up-dev",
            "payment-workflow-start-give-up-undelivered-dev",
            # the processing queue left undrained
            "payment-processing-oldest-message-age-dev",
            # Step Functions throttling: each state machine, and the account's token buckets
            "payment-workflow-throttled-dev",
            "batch-file-throttled-dev",
            "step-functions-start-execution-throttled-dev",
            "step-functions-state-transitions-throttled-dev",
        }
        | {
            f"{scope}-{operation}-throttled-dev"
            for scope in (*TABLES, "payments-merchant-created-index", "payments-open-payments-index")
            for operation in ("reads", "writes")
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


def test_the_first_endpoint_disabled_past_the_horizon_alarms(dev: SynthesizedStack) -> None:
    alarm = _alarms(dev)["webhook-endpoint-disabled-dev"]
    assert (alarm["metric_name"], alarm["statistic"], alarm["threshold"]) == ("WebhookEndpointDisabled", "Maximum", 1)
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"


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


@pytest.mark.stacks
def test_monitoring_builds_from_what_a_component_offers_and_the_context() -> None:
    # A component Monitoring has never heard of: it offers a state machine whose first unfinished
    # execution needs a human, and a dead-letter queue. The metric namespace and service come
    # from the context (the functions' variables are empty here, so nothing can be read back).
    import json
    from dataclasses import replace

    from cdktf import TerraformStack, Testing
    from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
    from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
    from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue

    from lib.components.alarm_sources import AlarmSources, Watch, WatchedDeadLetterQueue, WatchedStateMachine
    from lib.components.monitoring import Monitoring
    from tests.unit.component_stack import bare_context

    stack = TerraformStack(Testing.app(), "watched")
    machine = SfnStateMachine(stack, "machine", name="m", role_arn="arn:aws:iam::123456789012:role/r", definition="{}")
    queue = SqsQueue(stack, "queue", name="q")

    class Component:
        def alarm_sources(self) -> AlarmSources:
            return AlarmSources(
                state_machines=(WatchedStateMachine("reports", machine, alarm_on_first=True, on_dashboard=True),),
                dead_letter_queues=(WatchedDeadLetterQueue("reports-dlq-not-empty", queue),),
            )

    context = bare_context(stack, "t1", xray_tracing=False, metrics_namespace="Reports", service_name="reports-service")
    # The component's machine alarms on its first failure whatever the config's threshold says.
    settings = replace(config_for("prod").alarms, state_machine_failed_threshold=3)
    monitoring = Monitoring(
        stack, "monitoring", context, settings, Watch([Component()], SnsTopic(stack, "topic", name="alarms"))
    )
    assert sorted(monitoring.alarms) == [
        "reports-aborted-t1",
        "reports-dlq-not-empty-t1",
        "reports-failed-t1",
        "reports-throttled-t1",
        "reports-timed-out-t1",
        # Any state machine: the account's Step Functions token buckets.
        "step-functions-start-execution-throttled-t1",
        "step-functions-state-transitions-throttled-t1",
    ]
    synthesized = json.loads(Testing.synth(stack))["resource"]
    alarms = {a["alarm_name"]: a for a in synthesized["aws_cloudwatch_metric_alarm"].values()}
    assert {alarms[f"reports-{outcome}-t1"]["threshold"] for outcome in ("failed", "timed-out", "aborted")} == {1}
    assert alarms["reports-dlq-not-empty-t1"]["comparison_operator"] == "GreaterThanThreshold"
    (dashboard,) = (each["dashboard_body"] for each in synthesized["aws_cloudwatch_dashboard"].values())
    assert '"Reports"' in dashboard and '"reports-service"' in dashboard


def test_an_undrained_processing_queue_alarms_long_before_sqs_expires_its_messages(env_stack: SynthesizedStack) -> None:
    suffix = env_stack.stack.node.id.removeprefix("TapStack")
    alarms = config_for(suffix).alarms
    alarm = _alarms(env_stack)[f"payment-processing-oldest-message-age-{suffix}"]
    queue = env_stack.named("aws_sqs_queue", "name", f"payment-processing-{suffix}")
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == (
        "AWS/SQS",
        "ApproximateAgeOfOldestMessage",
        "Maximum",
    )
    assert alarm["dimensions"] == {"QueueName": env_stack.reference_of("aws_sqs_queue", queue, "name")}
    assert alarm["threshold"] == alarms.queue_oldest_message_age_seconds
    assert alarm["threshold"] <= queue["message_retention_seconds"] // 2


@pytest.mark.parametrize("table", TABLES)
def test_every_table_alarms_on_throttled_reads_and_writes(dev: SynthesizedStack, table: str) -> None:
    resource = dev.named("aws_dynamodb_table", "name", f"{table}-dev")
    for operation, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents")):
        alarm = _alarms(dev)[f"{table}-{operation}-throttled-dev"]
        assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/DynamoDB", metric, "Sum")
        # TableName alone: the table's own events, not its indexes'.
        assert alarm["dimensions"] == {"TableName": dev.reference_of("aws_dynamodb_table", resource, "name")}
        assert alarm["threshold"] == config_for("dev").alarms.dynamodb_throttle_threshold


def test_the_merchant_time_index_alarms_on_its_own_throttling(dev: SynthesizedStack) -> None:
    table = dev.named("aws_dynamodb_table", "name", "payments-dev")
    for operation, metric in (("reads", "ReadThrottleEvents"), ("writes", "WriteThrottleEvents")):
        alarm = _alarms(dev)[f"payments-merchant-created-index-{operation}-throttled-dev"]
        assert alarm["metric_name"] == metric
        assert alarm["dimensions"] == {
            "TableName": dev.reference_of("aws_dynamodb_table", table, "name"),
            "GlobalSecondaryIndexName": "merchant-created-index",
        }


def test_step_functions_throttling_alarms_per_machine_and_per_token_bucket(dev: SynthesizedStack) -> None:
    alarms, threshold = _alarms(dev), config_for("dev").alarms.step_functions_throttle_threshold
    for stem, machine_name in (("payment-workflow", "payment-workflow-dev"), ("batch-file", "batch-file-dev")):
        machine = dev.named("aws_sfn_state_machine", "name", machine_name)
        alarm = alarms[f"{stem}-throttled-dev"]
        assert (alarm["namespace"], alarm["metric_name"], alarm["threshold"]) == (
            "AWS/States",
            "ExecutionThrottled",
            threshold,
        )
        assert alarm["dimensions"] == {"StateMachineArn": dev.reference_of("aws_sfn_state_machine", machine, "arn")}
    start = alarms["step-functions-start-execution-throttled-dev"]
    transitions = alarms["step-functions-state-transitions-throttled-dev"]
    assert (start["metric_name"], start["dimensions"]) == ("ThrottledEvents", {"APIName": "StartExecution"})
    assert (transitions["metric_name"], transitions["dimensions"]) == (
        "ThrottledEvents",
        {"ServiceMetric": "StateTransition"},
    )


def test_the_dr_copy_of_the_batch_bucket_alarms_when_replication_falls_behind_rtc(
    prod: SynthesizedStack, dev: SynthesizedStack
) -> None:
    alarm = _alarms(prod)["payment-batch-replication-latency-prod"]
    (replication,) = prod.resources("aws_s3_bucket_replication_configuration").values()
    (rule,) = replication["rule"]
    source = replication["bucket"].replace(".id}", ".bucket}")
    destination = rule["destination"]["bucket"].replace(".arn}", ".bucket}")
    assert "provider" not in alarm  # S3 publishes the metric in the source bucket's region
    assert (alarm["namespace"], alarm["metric_name"], alarm["statistic"]) == ("AWS/S3", "ReplicationLatency", "Maximum")
    assert alarm["dimensions"] == {"SourceBucket": source, "DestinationBucket": destination, "RuleId": rule["id"]}
    # S3 RTC's threshold: the rule's own 15 minutes.
    assert alarm["threshold"] == rule["destination"]["replication_time"]["time"]["minutes"] * 60 == 900
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["alarm_description"].startswith("Runbook: docs/operations.md, the DR copy of the batch bucket")
    assert "payment-batch-replication-latency-dev" not in _alarms(dev)  # no DR region, no copy
