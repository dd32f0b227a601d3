"""The webhook delivery pipeline as synthesized: the fan-out on the events table's stream, the
delivery queue whose visibility holds the retries, its DLQ past every attempt the horizon
allows, one message per delivery invocation, and the retry schedule from the config."""

from __future__ import annotations

import json
from typing import Any

from payment_core import contract

from lib.config import config_for
from tests.unit.synth import SynthesizedStack


def _suffix(stack: SynthesizedStack) -> str:
    return stack.stack.node.id.removeprefix("TapStack")


def _function(stack: SynthesizedStack, function: str) -> dict[str, Any]:
    name = f"{contract.function_base_name(function)}-{_suffix(stack)}"
    return stack.named("aws_lambda_function", "function_name", name)


def _mapping_of(stack: SynthesizedStack, function: str) -> dict[str, Any]:
    arn = stack.live_reference(_function(stack, function), "arn")
    [mapping] = [m for m in stack.resources("aws_lambda_event_source_mapping").values() if m["function_name"] == arn]
    return mapping


def test_the_queue_holds_retries_past_the_horizon_and_dead_letters_only_after_every_attempt(
    env_stack: SynthesizedStack,
) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    queue = env_stack.named("aws_sqs_queue", "name", f"webhook-deliveries-{_suffix(env_stack)}")
    dlq = env_stack.named("aws_sqs_queue", "name", f"webhook-deliveries-dlq-{_suffix(env_stack)}")
    # 6 x the delivery function's timeout, as Lambda asks of a queue it polls.
    assert queue["visibility_timeout_seconds"] == 6 * config.functions.webhook_delivery.timeout_seconds
    assert queue["message_retention_seconds"] == dlq["message_retention_seconds"] == 1_209_600
    assert config.webhooks.horizon_seconds + config.webhooks.backoff_cap_seconds <= 1_209_600
    dlq_arn = env_stack.reference_of("aws_sqs_queue", dlq, "arn").removeprefix("${").removesuffix("}")
    threshold = config.webhooks.max_receive_count
    assert queue["redrive_policy"] == (
        f'${{jsonencode({{"deadLetterTargetArn" = {dlq_arn}, "maxReceiveCount" = {threshold}}})}}'
    )
    assert queue["kms_master_key_id"] == dlq["kms_master_key_id"]


def test_the_dead_letter_threshold_is_past_every_attempt_the_horizon_allows() -> None:
    # dev: 1 h from 5 s doubling to 10 min, each wait at least half its ceiling (the jitter's floor).
    dev = config_for("dev").webhooks
    assert (dev.attempts_within_horizon, dev.max_receive_count) == (19, 24)
    staging = config_for("staging").webhooks
    assert (staging.horizon_seconds, staging.backoff_base_seconds, staging.backoff_cap_seconds) == (
        259_200,
        30,
        21_600,
    )
    assert staging.max_receive_count == staging.attempts_within_horizon + 5


def test_each_delivery_is_its_own_invocation_within_the_reservation(env_stack: SynthesizedStack) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    mapping = _mapping_of(env_stack, contract.WEBHOOK_DELIVERY)
    queue = env_stack.named("aws_sqs_queue", "name", f"webhook-deliveries-{_suffix(env_stack)}")
    assert mapping["event_source_arn"] == env_stack.reference_of("aws_sqs_queue", queue, "arn")
    assert (mapping["batch_size"], mapping["function_response_types"]) == (1, ["ReportBatchItemFailures"])
    reserved = config.functions.webhook_delivery.reserved_concurrency
    expected = {"maximum_concurrency": reserved} if reserved else None
    assert mapping.get("scaling_config") == expected


def test_the_fanout_reads_new_items_of_the_events_table(dev: SynthesizedStack) -> None:
    table = dev.named("aws_dynamodb_table", "name", "payment-events-dev")
    mapping = _mapping_of(dev, contract.WEBHOOK_FANOUT)
    assert mapping["event_source_arn"] == dev.reference_of("aws_dynamodb_table", table, "stream_arn")
    assert mapping["filter_criteria"] == {"filter": [{"pattern": json.dumps({"eventName": ["INSERT"]})}]}
    assert (mapping["starting_position"], mapping["maximum_retry_attempts"]) == ("TRIM_HORIZON", 100)
    assert mapping["destination_config"]["on_failure"]["destination_arn"].startswith("${aws_s3_bucket.")


def test_the_delivery_function_reads_the_schedule_of_its_environment(env_stack: SynthesizedStack) -> None:
    settings = config_for(env_stack.stack.node.id.removeprefix("TapStack")).webhooks
    variables = _function(env_stack, contract.WEBHOOK_DELIVERY)["environment"]["variables"]
    assert {
        name: variables[name]
        for name in (
            contract.WEBHOOK_HORIZON_SECONDS,
            contract.WEBHOOK_BACKOFF_BASE_SECONDS,
            contract.WEBHOOK_BACKOFF_CAP_SECONDS,
        )
    } == {
        contract.WEBHOOK_HORIZON_SECONDS: str(settings.horizon_seconds),
        contract.WEBHOOK_BACKOFF_BASE_SECONDS: str(settings.backoff_base_seconds),
        contract.WEBHOOK_BACKOFF_CAP_SECONDS: str(settings.backoff_cap_seconds),
    }
