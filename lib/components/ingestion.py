"""Batch ingestion: a file uploaded under the contract's incoming prefix → ``batch_ingest`` starts
that file's execution of the batch-file state machine (plan, chunks on a Distributed Map,
report; docs/batch-files.md) → queue → ``queue_consumer``."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.s3_bucket_notification import (
    S3BucketNotification,
    S3BucketNotificationLambdaFunction,
)
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct
from payment_core import contract

from lib.batch_file_definition import BatchFileWorkflowSpec, BatchRetry, batch_file_definition
from lib.components.base import PlatformConstruct
from lib.components.batch_file_role import file_state_machine_role
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.policies import condition, statement
from lib.components.queues import Queues
from lib.components.storage import Storage
from lib.components.workflow import THROTTLED_RETRY
from lib.config import BatchWorkflowConfig, QueueConfig

BATCH_STATE_MACHINE = "batch-file"


class BatchIngestion(PlatformConstruct):
    """The ``batch_ingest`` function behind the bucket's trigger, and ``queue_consumer`` behind the queue's."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        queue_settings: QueueConfig,
        workflow_settings: BatchWorkflowConfig,
        storage: Storage,
        queues: Queues,
    ) -> None:
        super().__init__(scope, construct_id, context)
        # The ingest side's own failure path: an S3 event that fails Lambda's async retries
        # lands here, never in the payment DLQ (whose redrive feeds the payment consumer).
        self.file_dlq: SqsQueue = context.queue(
            self,
            "file_dlq",
            context.namer("batch-file-dlq"),
            message_retention_seconds=queue_settings.dlq_retention_seconds,
        )
        self.ingest_function: PaymentFunction = self._build_ingest_function(workflow_settings, storage, queues)
        self._build_bucket_trigger(storage)
        self.file_log_group: CloudwatchLogGroup = context.log_group(
            self, "file_log_group", name=f"/aws/vendedlogs/states/{context.namer(BATCH_STATE_MACHINE)}"
        )
        # What the file state machine's definition is built from (once synthesized it is HCL).
        self.file_workflow_spec: BatchFileWorkflowSpec = self._file_workflow_spec(workflow_settings, storage)
        self.file_state_machine: SfnStateMachine = self._build_file_state_machine(storage)
        self.consumer_function: PaymentFunction = self._build_consumer_function(storage, queues)
        self._build_queue_trigger(queue_settings, queues)

    def _state_machine_arn(self) -> str:
        """Built from its name, not read from the resource: the state machine's definition names
        this function, so the function cannot also depend on the state machine."""
        context = self._context
        name = context.namer(BATCH_STATE_MACHINE)
        return f"arn:aws:states:{context.region}:{context.account_id}:stateMachine:{name}"

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
                contract.BATCH_TIME_RESERVE_MS: str(workflow.time_reserve_ms),
            },
            dead_letter_target_arn=self.file_dlq.arn,
        )

    def _file_workflow_spec(self, settings: BatchWorkflowConfig, storage: Storage) -> BatchFileWorkflowSpec:
        return BatchFileWorkflowSpec(
            function_arn=self.ingest_function.lambda_function.arn,
            bucket=storage.batch_bucket.bucket,
            max_concurrency=settings.max_concurrency,
            retry=BatchRetry(
                interval_seconds=settings.retry_interval_seconds,
                backoff_rate=settings.retry_backoff_rate,
                max_delay_seconds=settings.retry_max_delay_seconds,
                max_attempts=settings.retry_max_attempts,
            ),
            chunk_retry_errors=contract.BATCH_CHUNK_RETRY_ERRORS,
            chunk_progress_attempts=settings.chunk_progress_attempts,
            file_failed_error=contract.BATCH_FILE_FAILED,
            throttled_retry=THROTTLED_RETRY,
        )

    def _build_file_state_machine(self, storage: Storage) -> SfnStateMachine:
        role = file_state_machine_role(
            self,
            self._context,
            self.file_workflow_spec.function_arn,
            storage.batch_bucket.arn,
            self._state_machine_arn(),
        )
        definition = batch_file_definition(self.file_workflow_spec)
        return self._state_machine("file_state_machine", BATCH_STATE_MACHINE, role, definition, self.file_log_group)

    def _build_consumer_function(self, storage: Storage, queues: Queues) -> PaymentFunction:
        return self._function(
            "consumer",
            contract.QUEUE_CONSUMER,
            [
                statement(
                    "ConsumeQueue",
                    ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                    [queues.queue.arn],
                ),
                statement("DecryptMessages", ["kms:Decrypt"], [self._context.key.arn]),
                statement(
                    "CreatePayments",
                    ["dynamodb:GetItem", "dynamodb:PutItem"],
                    [storage.payments_table.arn],
                ),
                statement("AppendAudit", ["dynamodb:PutItem"], [storage.audit_table.arn]),
                # No StartExecution: the payment's stream record starts its workflow (outbox).
            ],
        )

    def _build_queue_trigger(self, settings: QueueConfig, queues: Queues) -> None:
        LambdaEventSourceMapping(
            self,
            "consumer_trigger",
            event_source_arn=queues.queue.arn,
            function_name=self.consumer_function.lambda_function.arn,
            batch_size=settings.consumer_batch_size,
            maximum_batching_window_in_seconds=settings.consumer_batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
            # Within the consumer's (and workflow's) reservation, validated by the config.
            scaling_config=LambdaEventSourceMappingScalingConfig(
                maximum_concurrency=settings.consumer_maximum_concurrency
            ),
            # CreateEventSourceMapping checks the function's role may read the queue: policy first.
            depends_on=[self.consumer_function.policy],
        )

    def _build_bucket_trigger(self, storage: Storage) -> None:
        function = self.ingest_function.lambda_function
        permission = LambdaPermission(
            self,
            "allow_bucket",
            statement_id="AllowBatchBucketNotifications",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="s3.amazonaws.com",
            source_arn=storage.batch_bucket.arn,
            source_account=self._context.account_id,
        )
        S3BucketNotification(
            self,
            "bucket_notification",
            bucket=storage.batch_bucket.id,
            lambda_function=[
                S3BucketNotificationLambdaFunction(
                    lambda_function_arn=function.arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=contract.BATCH_INCOMING_PREFIX,
                    filter_suffix=contract.BATCH_FILE_SUFFIX,
                )
            ],
            depends_on=[permission],
        )
