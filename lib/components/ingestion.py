"""Batch ingestion: a file uploaded under the contract's incoming prefix → ``batch_ingest`` → queue
→ ``queue_consumer``."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.s3_bucket_notification import (
    S3BucketNotification,
    S3BucketNotificationLambdaFunction,
)
from constructs import Construct

from lib.components.base import PlatformConstruct
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.queues import Queues
from lib.components.storage import Storage
from lib.config import QueueConfig
from lib.lambda_sources import contract


class BatchIngestion(PlatformConstruct):
    """The ``batch_ingest`` function behind the bucket's trigger, and ``queue_consumer`` behind the queue's."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        queue_settings: QueueConfig,
        storage: Storage,
        queues: Queues,
    ) -> None:
        super().__init__(scope, construct_id, context)
        self.ingest_function: PaymentFunction = self._build_ingest_function(storage, queues)
        self._build_bucket_trigger(storage)
        self.consumer_function: PaymentFunction = self._build_consumer_function(storage, queues)
        self._build_queue_trigger(queue_settings, queues)

    def _build_ingest_function(self, storage: Storage, queues: Queues) -> PaymentFunction:
        bucket = storage.batch_bucket
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
                statement(
                    "TrackBatchJobs",
                    ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                    [storage.batch_jobs_table.arn],
                ),
                statement("QueueRows", ["sqs:SendMessage"], [queues.queue.arn]),
                # Each row's merchant must be active (MerchantDirectory.is_active).
                statement("CheckRowMerchants", ["dynamodb:GetItem"], [storage.merchants_table.arn]),
                # S3 is invoked asynchronously: an event that fails every retry lands here.
                statement("DeadLetterFailedEvents", ["sqs:SendMessage"], [queues.dlq.arn]),
                # Decrypt batch files, encrypt reports and queue messages with the CMK.
                statement("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self._context.key.arn]),
            ],
            dead_letter_target_arn=queues.dlq.arn,
        )

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
