"""The batch-file workflow: its state machine's definition (Amazon States Language, built from plain
values), its role, and the part of ``BatchIngestion`` that builds it (as ``workflow.py`` holds the
payment workflow's).

    Plan ─▶ Planned? ─(RUNNING)─▶ IngestChunks (Distributed Map) ─▶ Finish ─▶ Done
               └─(COMPLETED / ALREADY_COMPLETED)────────────────────────────▶ Done
    any step's error (after its retries) ─▶ RecordFailure ─▶ FileFailed (Fail)

One Lambda function runs every step (``{"step": ...}``). The map reads the chunk descriptors
the planner wrote (``ItemReader`` over a JSON array in S3), so the items never pass through
the 256 KiB state payload, and writes the children's results to S3 (``ResultWriter``, under
the job's ``results/`` prefix): a Map's collected results count against that payload limit
*before* its ``ResultSelector``, so without the writer a file of ~19,000 chunks (14-byte
markers) or ~3,500 (chunk summaries) would fail with ``States.DataLimitExceeded`` after every
row was queued. Finish reads the counts from the batch-jobs table, never from the state. A
chunk whose retries run out fails the map run (the tolerated failure threshold stays at its
default, 0) and so the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedDeadLetterQueue, WatchedFunction, WatchedStateMachine
from lib.components.base import ConfiguredConstruct
from lib.components.foundations import Foundations
from lib.components.function import PaymentFunction
from lib.components.policies import condition, statement
from lib.components.queues import Queues
from lib.components.state_machine import state_machine_role
from lib.components.storage import Storage
from lib.components.workflow import THROTTLED_RETRY
from lib.config import BatchWorkflowConfig

BATCH_STATE_MACHINE = "batch-file"


@dataclass(frozen=True)
class BatchRetry:
    """Backoff for a failed step: ``interval * rate^n``, capped, with full jitter."""

    interval_seconds: int
    backoff_rate: float
    max_delay_seconds: int
    max_attempts: int

    @classmethod
    def of(cls, settings: BatchWorkflowConfig) -> BatchRetry:
        """The config's ``retry_*`` knobs."""
        return cls(
            settings.retry_interval_seconds,
            settings.retry_backoff_rate,
            settings.retry_max_delay_seconds,
            settings.retry_max_attempts,
        )

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
    # The execution's TimeoutSeconds (BatchWorkflowConfig.execution_timeout_seconds): past it the
    # execution times out, which a Catch cannot see but the timed-out alarm does.
    timeout_seconds: int


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
        # The child's result (the chunk's counts) goes to the map's result files in S3, for
        # whoever investigates a file; the job's counts live in the batch-jobs table.
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
        "TimeoutSeconds": spec.timeout_seconds,
        "States": {
            "Plan": {
                **task(contract.BATCH_STEP_PLAN, {"execution.$": "$$.Execution.Name"}),
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
                "ItemSelector": {"step": contract.BATCH_STEP_CHUNK, "file.$": "$", "chunk.$": "$$.Map.Item.Value"},
                "MaxConcurrency": spec.max_concurrency,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "IngestChunk",
                    "States": {"IngestChunk": chunk_task},
                },
                "Label": "IngestChunks",
                # The children's results go to S3, never into the 256 KiB state; the state keeps
                # where (the manifest). Not "ResultPath": null: cdktf drops None from a
                # definition (Fn.jsonencode).
                "ResultWriter": {
                    "Resource": f"arn:{spec.partition}:states:::s3:putObject",
                    "Parameters": {"Bucket": spec.bucket, "Prefix.$": "$.plan.results_prefix"},
                },
                "ResultSelector": {"results.$": "$.ResultWriterDetails"},
                "ResultPath": "$.map",
                "Catch": catch_all,
                "Next": "Finish",
            },
            "Finish": {
                **task(contract.BATCH_STEP_FINISH),
                "ResultPath": "$.result",
                "Catch": catch_all,
                "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
            "RecordFailure": {
                **task(contract.BATCH_STEP_FAIL, {"error.$": "$.error"}),
                "ResultPath": "$.recorded",
                "Next": "FileFailed",
            },
            "FileFailed": {"Type": "Fail", "Error": spec.file_failed_error, "Cause": "see the batch-jobs record"},
        },
    }


class BatchFileWorkflow(ConfiguredConstruct[BatchWorkflowConfig, Foundations]):
    """The batch-file workflow inside a component: the ``batch_ingest`` function (every step),
    the file state machine with its role and logs, and the file DLQ.
    ``BatchIngestion`` (lib/components/ingestion.py) is that component: one construct, so the
    Terraform addresses stay those of its construct id."""

    def _build_file_workflow(
        self, settings: BatchWorkflowConfig, dlq_retention_seconds: int, storage: Storage, queues: Queues
    ) -> None:
        # The ingest side's own failure path: an S3 event that fails Lambda's async retries
        # lands here, never in the payment DLQ (whose redrive feeds the payment consumer).
        self.file_dlq: SqsQueue = self._context.queue(
            self, "file_dlq", self._context.namer("batch-file-dlq"), message_retention_seconds=dlq_retention_seconds
        )
        self.ingest_function: PaymentFunction = self._build_ingest_function(settings, storage, queues)
        self.file_log_group: CloudwatchLogGroup = self._context.log_group(
            self, "file_log_group", name=f"/aws/vendedlogs/states/{self._context.namer(BATCH_STATE_MACHINE)}"
        )
        # What the file state machine's definition is built from (once synthesized it is HCL).
        self.file_workflow_spec: BatchFileWorkflowSpec = self._file_workflow_spec(settings, storage)
        self.file_state_machine: SfnStateMachine = self._build_file_state_machine(storage)

    def _state_machine_arn(self) -> str:
        """Built from its name, not read from the resource: the state machine's definition names
        this function, so the function cannot also depend on the state machine."""
        context = self._context
        name = context.namer(BATCH_STATE_MACHINE)
        return f"arn:{context.partition}:states:{context.region}:{context.account_id}:stateMachine:{name}"

    def _build_ingest_function(
        self, workflow: BatchWorkflowConfig, storage: Storage, queues: Queues
    ) -> PaymentFunction:
        bucket = storage.batch_bucket
        work = f"{bucket.arn}/{contract.BATCH_WORK_PREFIX}*"
        return self._function(
            "ingest",
            contract.BATCH_INGEST,
            [
                # A versioned bucket's events carry a versionId, and reading by version is its own action.
                statement(
                    "ReadIncomingFiles",
                    ["s3:GetObject", "s3:GetObjectVersion"],
                    [f"{bucket.arn}/{contract.BATCH_INCOMING_PREFIX}*"],
                ),
                statement("WriteErrorReports", ["s3:PutObject"], [f"{bucket.arn}/{contract.BATCH_REPORTS_PREFIX}*"]),
                # Chunk descriptors and per-chunk rejections, per job.
                statement("UseWorkObjects", ["s3:GetObject", "s3:PutObject"], [work]),
                # finish joins a job's rejection parts: ListObjectsV2 is ListBucket on the bucket,
                # narrowed to the work prefix.
                statement(
                    "ListWorkObjects",
                    ["s3:ListBucket"],
                    [bucket.arn],
                    conditions=[condition("StringLike", "s3:prefix", [f"{contract.BATCH_WORK_PREFIX}*"])],
                ),
                statement(
                    "TrackBatchJobs",
                    ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                    [storage.batch_jobs_table.arn],
                ),
                # Claims are conditional Puts inside TransactWriteItems (each checked as PutItem).
                statement("ClaimPaymentIds", ["dynamodb:PutItem"], [storage.batch_claims_table.arn]),
                statement("StartFileExecutions", ["states:StartExecution"], [self._state_machine_arn()]),
                statement("QueueRows", ["sqs:SendMessage"], [queues.queue.arn]),
                # Each row's merchant must be active (MerchantDirectory.is_active).
                statement("CheckRowMerchants", ["dynamodb:GetItem"], [storage.merchants_table.arn]),
                # S3 is invoked asynchronously: an event that fails every retry lands here.
                statement("DeadLetterFailedEvents", ["sqs:SendMessage"], [self.file_dlq.arn]),
                # Decrypt batch files, encrypt reports and queue messages with the CMK.
                statement("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self._context.key.arn]),
            ],
            # What only this component knows: its state machine and the batch workflow's knobs.
            environment={
                contract.BATCH_STATE_MACHINE_ARN: self._state_machine_arn(),
                contract.BATCH_RECORDS_PER_CHUNK: str(workflow.records_per_chunk),
                contract.BATCH_MAX_FILE_BYTES: str(workflow.max_file_bytes),
                contract.BATCH_TIME_RESERVE_MS: str(workflow.time_reserve_ms),
                contract.BATCH_RERUN_WINDOW_DAYS: str(workflow.rerun_window_days),
            },
            dead_letter_target_arn=self.file_dlq.arn,
        )

    def _file_workflow_spec(self, settings: BatchWorkflowConfig, storage: Storage) -> BatchFileWorkflowSpec:
        return BatchFileWorkflowSpec(
            function_arn=self.ingest_function.version_arn,  # an execution keeps its version
            bucket=storage.batch_bucket.bucket,
            partition=self._context.partition,
            max_concurrency=settings.max_concurrency,
            retry=BatchRetry.of(settings),
            chunk_retry_errors=contract.BATCH_CHUNK_RETRY_ERRORS,
            chunk_progress_attempts=settings.chunk_progress_attempts,
            file_failed_error=contract.BATCH_FILE_FAILED,
            throttled_retry=THROTTLED_RETRY,
            timeout_seconds=settings.execution_timeout_seconds(
                self._context.function_sizing[contract.BATCH_INGEST].timeout_seconds
            ),
        )

    def _build_file_state_machine(self, storage: Storage) -> SfnStateMachine:
        role = self._build_file_role(storage.batch_bucket.arn)
        definition = batch_file_definition(self.file_workflow_spec)
        return self._state_machine("file_state_machine", BATCH_STATE_MACHINE, role, definition, self.file_log_group)

    def _build_file_role(self, bucket_arn: str) -> tuple[IamRole, IamRolePolicy]:
        """What the file state machine may do: invoke its one function, read the chunk
        descriptors for its map and write its results, run the map's children, deliver logs and traces. Returns the role
        and its inline policy (the machine waits for the policy: CreateStateMachine checks it)."""
        arn = self._state_machine_arn()
        execution_arns = arn.replace(":stateMachine:", ":execution:") + "/*"
        statements = [
            statement("InvokeSteps", ["lambda:InvokeFunction"], self.ingest_function.invoke_grant),
            # The map's ItemReader reads the chunk descriptors the Plan step wrote.
            statement("ReadChunkDescriptors", ["s3:GetObject"], [f"{bucket_arn}/{contract.BATCH_WORK_PREFIX}*"]),
            statement("DecryptChunkDescriptors", ["kms:Decrypt"], [self._context.key.arn]),
            # The map's ResultWriter writes the children's results next to them ("IAM policies
            # for ResultWriter", Step Functions developer guide), encrypted with the bucket's key.
            statement(
                "WriteMapResults",
                ["s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload"],
                [f"{bucket_arn}/{contract.BATCH_WORK_PREFIX}*"],
            ),
            statement("EncryptMapResults", ["kms:GenerateDataKey"], [self._context.key.arn]),
            # A Distributed Map runs each item as a child execution of this state machine
            # ("IAM policies for Distributed Map states", Step Functions developer guide).
            statement("RunMapChildren", ["states:StartExecution"], [arn]),
            statement("ManageMapChildren", ["states:DescribeExecution", "states:StopExecution"], [execution_arns]),
        ]
        return state_machine_role(self, self._context, "batch-file-state-machine", statements, id_prefix="file_")

    def alarm_sources(self) -> AlarmSources:
        """The ingest side's own failure path: a file that failed, timed out or was stopped, and
        an S3 event that never started one (its DLQ). Any one needs a human."""
        return AlarmSources(
            functions=(WatchedFunction(self.ingest_function),),
            state_machines=(
                WatchedStateMachine("batch-file", self.file_state_machine, alarm_on_first=True, on_dashboard=False),
            ),
            dead_letter_queues=(WatchedDeadLetterQueue("batch-file-dlq-not-empty", self.file_dlq),),
        )
