"""The per-file batch workflow in the synthesized stack: its state machine (a Distributed Map
over chunk descriptors), its function's environment and grants, its own DLQ and alarms."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from payment_core import contract

from lib.config import config_for
from tests.unit.config_refusal import refusal
from tests.unit.synth import SynthesizedStack


def _suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id.removeprefix("TapStack"))


def _definition(stack: SynthesizedStack) -> dict[str, Any]:
    """The definition as built for this stack (the synthesized one is HCL inside jsonencode),
    from the spec the stack built it from; the tests compare it with the config."""
    from lib.components.batch_file_workflow import batch_file_definition

    machine = stack.named("aws_sfn_state_machine", "name", f"batch-file-{_suffix(stack)}")
    assert machine["definition"].startswith("${jsonencode(")
    spec = stack.stack.platform.ingestion.file_workflow_spec
    settings = config_for(_suffix(stack)).batch_workflow
    # The synthesized HCL carries the same values: spot-check the ones config sets.
    assert f'"MaxConcurrency" = {settings.max_concurrency}' in machine["definition"]
    # No null survives synthesis (cdktf drops None), so the definition must not rely on one.
    assert "null" not in machine["definition"]
    assert '"Mode" = "DISTRIBUTED"' in machine["definition"]
    return batch_file_definition(spec)


def _ingest_function(stack: SynthesizedStack) -> dict[str, Any]:
    return stack.named("aws_lambda_function", "function_name", f"payment-batch-ingest-{_suffix(stack)}")


def test_the_file_map_reads_chunk_descriptors_with_config_concurrency_and_jittered_retries(
    env_stack: SynthesizedStack,
) -> None:
    from lib.components.workflow import THROTTLED_RETRY

    settings = config_for(_suffix(env_stack)).batch_workflow
    states = _definition(env_stack)["States"]
    assert list(states) == ["Plan", "Planned", "IngestChunks", "Finish", "Done", "RecordFailure", "FileFailed"]
    ingest = states["IngestChunks"]
    # The S3 integration's ARN in the stack's partition (the data source's, a token here).
    assert ingest["ItemReader"]["Resource"] == f"arn:{env_stack.stack.platform.context.partition}:states:::s3:getObject"
    (partition,) = env_stack.document["data"]["aws_partition"]
    machine = env_stack.named("aws_sfn_state_machine", "name", f"batch-file-{_suffix(env_stack)}")
    assert (
        f'"Resource" = "arn:${{data.aws_partition.{partition}.partition}}:states:::s3:getObject"'
        in (machine["definition"])
    )
    assert ingest["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert ingest["ItemReader"]["Parameters"]["Key.$"] == "$.plan.manifest_key"
    assert ingest["MaxConcurrency"] == settings.max_concurrency
    assert ingest["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    # The children's results go to S3 under the job's work prefix, never into the 256 KiB
    # state (collected results count before ResultSelector): the state keeps the manifest.
    spec = env_stack.stack.platform.ingestion.file_workflow_spec
    assert ingest["ResultWriter"] == {
        "Resource": f"arn:{spec.partition}:states:::s3:putObject",
        "Parameters": {"Bucket": spec.bucket, "Prefix.$": "$.plan.results_prefix"},
    }
    assert (ingest["ResultSelector"], ingest["ResultPath"]) == ({"results.$": "$.ResultWriterDetails"}, "$.map")
    assert "ResultSelector" not in ingest["ItemProcessor"]["States"]["IngestChunk"]
    chunk = ingest["ItemProcessor"]["States"]["IngestChunk"]
    progress, throttled, others = chunk["Retry"]
    # Throttling retries as in the payment workflow, before the chunk's own attempts count.
    assert throttled == THROTTLED_RETRY
    assert progress == {
        "ErrorEquals": ["ChunkIncomplete", "ClaimContention"],
        "IntervalSeconds": settings.retry_interval_seconds,
        "BackoffRate": settings.retry_backoff_rate,
        "MaxDelaySeconds": settings.retry_max_delay_seconds,
        "MaxAttempts": settings.chunk_progress_attempts,
        "JitterStrategy": "FULL",
    }
    assert others["ErrorEquals"] == ["States.ALL"]
    assert others["MaxAttempts"] == settings.retry_max_attempts
    for name in ("Plan", "IngestChunks", "Finish"):
        assert states[name]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}
        ]
    for name in ("Plan", "Finish", "RecordFailure"):
        assert [retrier["ErrorEquals"] for retrier in states[name]["Retry"]] == [
            ["Lambda.TooManyRequestsException"],
            ["States.ALL"],
        ]
        assert states[name]["Retry"][0] == THROTTLED_RETRY
    assert states["RecordFailure"]["Next"] == "FileFailed"
    assert states["FileFailed"] == {"Type": "Fail", "Error": "BatchFileFailed", "Cause": "see the batch-jobs record"}
    assert contract.BATCH_CHUNK_RETRY_ERRORS == ("ChunkIncomplete", "ClaimContention")


def test_batch_ingest_is_told_the_chunking_and_its_state_machine(env_stack: SynthesizedStack) -> None:
    settings = config_for(_suffix(env_stack)).batch_workflow
    variables = _ingest_function(env_stack)["environment"]["variables"]
    assert variables[contract.BATCH_RECORDS_PER_CHUNK] == str(settings.records_per_chunk)
    assert variables[contract.BATCH_TIME_RESERVE_MS] == str(settings.time_reserve_ms)
    assert variables[contract.BATCH_MAX_FILE_BYTES] == str(settings.max_file_bytes)
    assert variables[contract.BATCH_STATE_MACHINE_ARN].endswith(f":stateMachine:batch-file-{_suffix(env_stack)}")
    claims = env_stack.named("aws_dynamodb_table", "name", f"batch-payment-claims-{_suffix(env_stack)}")
    assert claims["hash_key"] == "payment_id"
    assert claims["point_in_time_recovery"] == {"enabled": True}
    assert variables[contract.BATCH_CLAIMS_TABLE_NAME] == env_stack.reference_of("aws_dynamodb_table", claims, "name")
    # Claims expire after the re-run window: the ledger writes the TTL attribute the table reads.
    assert variables[contract.BATCH_RERUN_WINDOW_DAYS] == str(settings.rerun_window_days)
    assert claims["ttl"] == {"attribute_name": contract.BATCH_CLAIM_EXPIRES_AT, "enabled": True}


def test_the_batch_execution_times_out_after_its_largest_file_at_worst(env_stack: SynthesizedStack) -> None:
    config = config_for(_suffix(env_stack))
    settings, step_timeout = config.batch_workflow, config.functions.batch_ingest.timeout_seconds
    machine = env_stack.named("aws_sfn_state_machine", "name", f"batch-file-{_suffix(env_stack)}")
    timeout = _definition(env_stack)["TimeoutSeconds"]
    # Plan, the chunks of a max_file_bytes file of 40-byte rows in waves of max_concurrency, Finish:
    # each one invocation at the function's timeout.
    chunks = -(-settings.max_file_bytes // (40 * settings.records_per_chunk))
    assert timeout == (2 + -(-chunks // settings.max_concurrency)) * step_timeout
    assert f'"TimeoutSeconds" = {timeout}' in machine["definition"]
    assert timeout <= 31_536_000


def test_a_file_size_the_workflow_cannot_finish_within_a_year_is_refused() -> None:
    # 12 GB of 40-byte rows is 600,000 chunks of 500, one at a time, 300 s each.
    assert refusal("dev", "batch_workflow", max_file_bytes=12_000_000_000) == (
        "batch_workflow.max_file_bytes 12000000000 needs a batch execution timeout of 180000600 s at "
        "max_concurrency 1, above Step Functions' 31536000 s"
    )


def test_the_file_path_has_its_own_alarms(dev: SynthesizedStack) -> None:
    alarms = {a["alarm_name"]: a for a in dev.resources("aws_cloudwatch_metric_alarm").values()}
    machine = dev.named("aws_sfn_state_machine", "name", "batch-file-dev")
    for name, metric in (
        ("batch-file-failed-dev", "ExecutionsFailed"),
        ("batch-file-timed-out-dev", "ExecutionsTimedOut"),
        ("batch-file-aborted-dev", "ExecutionsAborted"),
    ):
        assert alarms[name]["metric_name"] == metric
        assert alarms[name]["dimensions"] == {
            "StateMachineArn": dev.reference_of("aws_sfn_state_machine", machine, "arn")
        }
    dlq = dev.named("aws_sqs_queue", "name", "batch-file-dlq-dev")
    assert alarms["batch-file-dlq-not-empty-dev"]["dimensions"] == {
        "QueueName": dev.reference_of("aws_sqs_queue", dlq, "name")
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"max_concurrency": 4},
            "batch_workflow.max_concurrency must be below the batch_ingest reserved_concurrency (4), got 4",
        ),
        (
            {"time_reserve_ms": 300_000},
            "batch_workflow.time_reserve_ms must be below the batch_ingest timeout (300000 ms), got 300000",
        ),
    ],
)
def test_the_workflow_must_fit_the_function(change: dict[str, int], message: str) -> None:
    assert refusal("staging", "batch_workflow", **change) == message  # staging's batch_ingest reserves 4


def test_an_unreserved_ingest_function_bounds_no_concurrency() -> None:
    dev = config_for("dev")
    assert dev.functions.batch_ingest.reserved_concurrency is None  # dev/PR stacks reserve nothing
    assert (
        replace(dev, batch_workflow=replace(dev.batch_workflow, max_concurrency=40)).batch_workflow.max_concurrency
        == 40
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"records_per_chunk": 0}, "records_per_chunk must be between 1 and 10000, got 0"),
        ({"max_concurrency": 10_001}, "max_concurrency must be between 1 and 10000, got 10001"),
        ({"retry_backoff_rate": 0.5}, "retry_backoff_rate must be at least 1.0, got 0.5"),
        (
            {"retry_max_delay_seconds": 1},
            "retry_max_delay_seconds must be at least retry_interval_seconds (2), got 1",
        ),
        (
            {"max_file_bytes": 12_000_000_001},
            "batch_workflow.max_file_bytes must be between 1 and 12000000000 (Plan reads the whole file in one "
            "invocation: docs/batch-files.md), got 12000000001",
        ),
        ({"max_file_bytes": 0}, "batch_workflow.max_file_bytes must be between 1 and 12000000000 (Plan reads the "
         "whole file in one invocation: docs/batch-files.md), got 0"),
        ({"rerun_window_days": 0}, "rerun_window_days must be between 1 and 3650, got 0"),
    ],
)  # fmt: skip
def test_workflow_settings_are_checked_with_exact_messages(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        replace(config_for("dev").batch_workflow, **change)
    assert str(raised.value) == message


def test_the_file_machine_may_write_its_map_results_only_under_the_work_prefix(dev: SynthesizedStack) -> None:
    policy = dev.named("aws_iam_role_policy", "name", "batch-file-state-machine-policy-dev")
    statements = {s["sid"]: s for s in dev.policy_document(policy["policy"])["statement"]}
    writes = statements["WriteMapResults"]
    assert writes["actions"] == ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"]
    [resource] = writes["resources"]
    assert (
        resource.endswith(f"/{contract.BATCH_WORK_PREFIX}*")
        and resource == statements["ReadChunkDescriptors"]["resources"][0]
    )
    assert statements["EncryptMapResults"]["actions"] == ["kms:GenerateDataKey"]
    assert statements["EncryptMapResults"]["resources"] == statements["DecryptChunkDescriptors"]["resources"]
