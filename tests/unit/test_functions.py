"""Lambda functions: runtime, sizing from config, exact environment, own role and log group."""

from __future__ import annotations

import pytest
from cdktf import Testing
from payment_core.contract import FUNCTION_ENVIRONMENT, FUNCTION_NAMES

from lib.config import config_for
from tests.unit.synth import SynthesizedStack, key_arn

FUNCTION_BASE_NAMES = {
    "api": "payment-api",
    "workflow": "payment-workflow",
    "batch_ingest": "payment-batch-ingest",
    "queue_consumer": "payment-queue-consumer",
    "workflow_starter": "payment-workflow-starter",
    "authorizer": "payment-authorizer",
    "sweeper": "payment-sweeper",
    "event_writer": "payment-event-writer",
    "webhook_fanout": "payment-webhook-fanout",
    "webhook_delivery": "payment-webhook-delivery",
}

# The functions that check payments against the business rules (payment_core.rules).
RULE_CHECKERS = ("api", "queue_consumer", "batch_ingest", "workflow")


def _function(stack: SynthesizedStack, function: str) -> dict:  # type: ignore[type-arg]
    suffix = stack.stack.node.id.removeprefix("TapStack")
    return stack.named("aws_lambda_function", "function_name", f"{FUNCTION_BASE_NAMES[function]}-{suffix}")


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_function_is_sized_from_config(env_stack: SynthesizedStack, function: str) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    settings = config.functions.by_name()[function]
    resource = _function(env_stack, function)
    assert resource["runtime"] == "python3.12"
    assert resource["handler"] == f"payment_core.handlers.{function}.handler"
    assert resource["memory_size"] == settings.memory_mb
    assert resource["timeout"] == settings.timeout_seconds
    # No reservation (dev/PR): the attribute is absent, not 0 or -1 (the preflight reads it).
    assert resource.get("reserved_concurrent_executions", None) == settings.reserved_concurrency
    assert ("reserved_concurrent_executions" in resource) == (settings.reserved_concurrency is not None)
    assert resource["tracing_config"] == {"mode": "Active"}
    assert resource["kms_key_arn"] == key_arn(env_stack)
    assert resource["layers"] == [
        env_stack.reference_of("aws_lambda_layer_version", env_stack.only("aws_lambda_layer_version"), "arn")
    ]


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_function_environment_is_exactly_the_contract(dev: SynthesizedStack, function: str) -> None:
    variables = _function(dev, function)["environment"]["variables"]
    assert sorted(variables) == sorted(FUNCTION_ENVIRONMENT[function])
    if function in RULE_CHECKERS:
        assert variables["MAX_PAYMENT_AMOUNT"] == "EUR=10000.00,GBP=8000.00,JPY=1500000,USD=10000.00"
        assert variables["ALLOWED_CURRENCIES"] == "USD,EUR,GBP,JPY"
    else:  # the payment rules go only where payments are checked
        assert "MAX_PAYMENT_AMOUNT" not in variables and "ALLOWED_CURRENCIES" not in variables
    assert variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"


def test_every_function_ships_the_same_code(dev: SynthesizedStack) -> None:
    hashes = {_function(dev, function)["source_code_hash"] for function in FUNCTION_NAMES}
    assert len(hashes) == 1


def test_prod_logs_less_and_keeps_logs_longer(prod: SynthesizedStack) -> None:
    assert _function(prod, "api")["environment"]["variables"]["POWERTOOLS_LOG_LEVEL"] == "INFO"
    assert Testing.to_have_resource_with_properties(
        prod.text,
        "aws_cloudwatch_log_group",
        {"name": "/aws/lambda/payment-api-prod", "retention_in_days": 365},
    )


@pytest.mark.parametrize("function", FUNCTION_NAMES)
def test_each_function_has_an_encrypted_log_group_and_its_own_role(env_stack: SynthesizedStack, function: str) -> None:
    resource = _function(env_stack, function)
    log_group = env_stack.named("aws_cloudwatch_log_group", "name", f"/aws/lambda/{resource['function_name']}")
    assert log_group["kms_key_id"] == key_arn(env_stack)
    suffix = env_stack.stack.node.id.removeprefix("TapStack")
    base = resource["function_name"].removesuffix(f"-{suffix}")
    role = env_stack.named("aws_iam_role", "name", f"{base}-role-{suffix}")
    assert resource["role"] == env_stack.reference_of("aws_iam_role", role, "arn")
    assume = env_stack.policy_document(role["assume_role_policy"])["statement"]
    assert [s["principals"] for s in assume] == [[{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]]


def test_batch_ingest_dead_letters_failed_async_events(dev: SynthesizedStack) -> None:
    # The ingest side's own DLQ: a failed S3 event never lands in the payment DLQ.
    dlq = dev.named("aws_sqs_queue", "name", "batch-file-dlq-dev")
    assert _function(dev, "batch_ingest")["dead_letter_config"] == {
        "target_arn": dev.reference_of("aws_sqs_queue", dlq, "arn")
    }


def _mapping_of(stack: SynthesizedStack, function: str) -> dict:  # type: ignore[type-arg]
    arn = stack.live_reference(_function(stack, function), "arn")
    [mapping] = [m for m in stack.resources("aws_lambda_event_source_mapping").values() if m["function_name"] == arn]
    return mapping


def test_consumer_reports_partial_batch_failures(dev: SynthesizedStack) -> None:
    mapping = _mapping_of(dev, "queue_consumer")
    queue = dev.named("aws_sqs_queue", "name", "payment-processing-dev")
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert mapping["event_source_arn"] == dev.reference_of("aws_sqs_queue", queue, "arn")
    assert mapping["batch_size"] == 10


def test_consumer_mapping_runs_no_more_batches_than_configured(env_stack: SynthesizedStack) -> None:
    # Lambda's pollers would otherwise outrun a reservation and burn receive counts on throttles.
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    mapping = _mapping_of(env_stack, "queue_consumer")
    assert mapping["scaling_config"] == {"maximum_concurrency": config.queues.consumer_maximum_concurrency}


def test_new_payments_start_their_workflow_from_the_table_stream(dev: SynthesizedStack) -> None:
    table = dev.named("aws_dynamodb_table", "name", "payments-dev")
    # New and old images (what a global table's replica needs): the starter reads the keys of INSERTs.
    assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    mapping = _mapping_of(dev, "workflow_starter")
    assert mapping["event_source_arn"] == dev.reference_of("aws_dynamodb_table", table, "stream_arn")
    assert mapping["filter_criteria"] == {"filter": [{"pattern": '{"eventName": ["INSERT"]}'}]}
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert (mapping["starting_position"], mapping["maximum_retry_attempts"]) == ("TRIM_HORIZON", 100)
    assert mapping["bisect_batch_on_function_error"] is True
    # Its on-failure destination (the give-up bucket): tests/unit/test_outbox.py.


def test_layer_ships_for_the_function_runtime(dev: SynthesizedStack) -> None:
    layer = dev.only("aws_lambda_layer_version")
    assert layer["layer_name"] == "payment-shared-dev"
    assert layer["compatible_runtimes"] == ["python3.12"]


@pytest.mark.stacks
def test_function_environment_must_match_the_contract_exactly() -> None:
    from lib.components.function import FunctionSpec, function_environment

    # The platform has no value for STATUS_TOPIC_ARN yet; the function's own values add one the
    # contract does not give it.
    common = {name: "x" for name in FUNCTION_ENVIRONMENT["workflow"] if name != "STATUS_TOPIC_ARN"}
    spec = FunctionSpec(name="workflow", statements=[], environment={"EXTRA": "y"})
    with pytest.raises(ValueError) as refused:
        function_environment(spec, common)
    assert str(refused.value).endswith("missing ['STATUS_TOPIC_ARN'], unexpected ['EXTRA']")


@pytest.mark.stacks
def test_a_function_gets_only_the_variables_the_contract_lists_for_it() -> None:
    from lib.components.function import FunctionSpec, function_environment

    common = {name: f"common-{name}" for name in ("PAYMENTS_TABLE_NAME", "MERCHANTS_TABLE_NAME", "UNRELATED")}
    common |= {name: "x" for name in FUNCTION_ENVIRONMENT["authorizer"] if name != "MERCHANTS_TABLE_NAME"}
    spec = FunctionSpec(name="authorizer", statements=[])
    environment = function_environment(spec, common)
    assert set(environment) == set(FUNCTION_ENVIRONMENT["authorizer"])
    assert environment["MERCHANTS_TABLE_NAME"] == "common-MERCHANTS_TABLE_NAME"
