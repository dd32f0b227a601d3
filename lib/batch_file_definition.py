"""The per-file batch state machine (Amazon States Language), built from plain values.

    Plan ─▶ Planned? ─(RUNNING)─▶ IngestChunks (Distributed Map) ─▶ Finish ─▶ Done
               └─(COMPLETED / ALREADY_COMPLETED)────────────────────────────▶ Done
    any step's error (after its retries) ─▶ RecordFailure ─▶ FileFailed (Fail)

One Lambda function runs every step (``{"step": ...}``). The map reads the chunk descriptors
the planner wrote (``ItemReader`` over a JSON array in S3), so the items never pass through
the 256 KiB state payload, and keeps none of the children's results (each child returns a
marker; the Map's ``ResultSelector`` replaces the array): the counts live in the batch-jobs
table. A chunk whose retries run out fails the map run (the tolerated failure threshold stays
at its default, 0) and so the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class BatchRetry:
    """Backoff for a failed step: ``interval * rate^n``, capped, with full jitter."""

    interval_seconds: int
    backoff_rate: float
    max_delay_seconds: int
    max_attempts: int

    def retrier(self, errors: tuple[str, ...], max_attempts: int | None = None) -> dict[str, Any]:
        return {
            "ErrorEquals": list(errors),
            "IntervalSeconds": self.interval_seconds,
            "BackoffRate": self.backoff_rate,
            "MaxDelaySeconds": self.max_delay_seconds,
            "MaxAttempts": self.max_attempts if max_attempts is None else max_attempts,
            "JitterStrategy": "FULL",
        }


@dataclass(frozen=True)
class BatchFileWorkflowSpec:
    function_arn: str
    bucket: str
    # The ARN partition the S3 integration's resource is named in (arn:<partition>:states:::s3:getObject).
    partition: str
    max_concurrency: int
    retry: BatchRetry
    # Errors that mean "progress saved, try the chunk again" (chunk_ingest's exception names).
    chunk_retry_errors: tuple[str, ...]
    # A chunk that keeps making progress may need many attempts; other errors get retry.max_attempts.
    chunk_progress_attempts: int
    # The error a file that cannot complete ends its execution with (alarmed).
    file_failed_error: str
    # The function at its concurrency (Lambda.TooManyRequestsException): nothing ran, so every
    # step retries it with many short jittered waits before its own retries count (the payment
    # workflow's policy, lib.components.workflow.THROTTLED_RETRY).
    throttled_retry: dict[str, Any]


def batch_file_definition(spec: BatchFileWorkflowSpec) -> dict[str, Any]:
    retry = spec.retry
    catch_all = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RecordFailure"}]

    def task(step: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": spec.function_arn,
            "Parameters": {"step": step, "file.$": "$", **(extra or {})},
            "Retry": [spec.throttled_retry, retry.retrier(("States.ALL",))],
        }

    chunk_task = {
        "Type": "Task",
        "Resource": spec.function_arn,
        # The counts live in the batch-jobs table; a child returns only a marker.
        "ResultSelector": {"done": True},
        "Retry": [
            retry.retrier(spec.chunk_retry_errors, spec.chunk_progress_attempts),
            spec.throttled_retry,
            retry.retrier(("States.ALL",)),
        ],
        "End": True,
    }
    return {
        "Comment": "One execution per uploaded batch file version: plan, ingest chunks on a Distributed Map, report.",
        "StartAt": "Plan",
        "States": {
            "Plan": {
                **task("plan", {"execution.$": "$$.Execution.Name"}),
                "ResultPath": "$.plan",
                "Catch": catch_all,
                "Next": "Planned",
            },
            "Planned": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.plan.state", "StringEquals": "RUNNING", "Next": "IngestChunks"}],
                "Default": "Done",
            },
            "IngestChunks": {
                "Type": "Map",
                "ItemReader": {
                    "Resource": f"arn:{spec.partition}:states:::s3:getObject",
                    "ReaderConfig": {"InputType": "JSON"},
                    "Parameters": {"Bucket": spec.bucket, "Key.$": "$.plan.manifest_key"},
                },
                "ItemSelector": {"step": "chunk", "file.$": "$", "chunk.$": "$$.Map.Item.Value"},
                "MaxConcurrency": spec.max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "IngestChunk",
                    "States": {"IngestChunk": chunk_task},
                },
                "Label": "IngestChunks",
                # Not "ResultPath": null: cdktf drops None from a definition (Fn.jsonencode), and a
                # Map without ResultPath would replace the state with its results array.
                "ResultSelector": {"chunks_ingested": True},
                "ResultPath": "$.map",
                "Catch": catch_all,
                "Next": "Finish",
            },
            "Finish": {**task("finish"), "ResultPath": "$.result", "Catch": catch_all, "Next": "Done"},
            "Done": {"Type": "Succeed"},
            "RecordFailure": {**task("fail", {"error.$": "$.error"}), "ResultPath": "$.recorded", "Next": "FileFailed"},
            "FileFailed": {"Type": "Fail", "Error": spec.file_failed_error, "Cause": "see the batch-jobs record"},
        },
    }
