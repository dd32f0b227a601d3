"""Batch ingestion: a file uploaded under the contract's incoming prefix → ``batch_ingest`` starts
that file's execution of the batch-file state machine (plan, chunks on a Distributed Map,
report; docs/batch-files.md; the workflow: lib/components/batch_file_workflow.py) → queue →
``queue_consumer``."""

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
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction
from lib.components.batch_file_workflow import BatchFileWorkflow
from lib.components.foundations import Foundations
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.queues import Queues
from lib.components.storage import Storage
from lib.config import QueueConfig


class BatchIngestion(BatchFileWorkflow):
    """The batch-file workflow (``batch_ingest`` behind the bucket's trigger, the file state
    machine) and ``queue_consumer`` behind the payment queue's trigger; its settings are the
    batch workflow's, the consumer's batching is the queue's (``Queues.settings``)."""

    def _build(self, inputs: Foundations) -> None:
        storage, queues = inputs.storage, inputs.queues
        self._build_file_workflow(self._settings, queues.settings.dlq_retention_seconds, storage, queues)
        self._build_bucket_trigger(storage)
        self.consumer_function: PaymentFunction = self._build_consumer_function(storage, queues)
        self._build_queue_trigger(queues.settings, queues)

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
            function_name=self.consumer_function.live_arn,
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
        function = self.ingest_function
        permission = LambdaPermission(
            self,
            "allow_bucket",
            statement_id="AllowBatchBucketNotifications",
            action="lambda:InvokeFunction",
            function_name=function.lambda_function.function_name,
            qualifier=function.live_alias.name,  # S3 invokes the alias, not $LATEST
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
                    lambda_function_arn=function.live_arn,
                    events=["s3:ObjectCreated:*"],
                    filter_prefix=contract.BATCH_INCOMING_PREFIX,
                    filter_suffix=contract.BATCH_FILE_SUFFIX,
                )
            ],
            depends_on=[permission],
        )

    def alarm_sources(self) -> AlarmSources:
        return super().alarm_sources() + AlarmSources(functions=(WatchedFunction(self.consumer_function),))
