"""Batch ingestion: S3 ``incoming/*.csv`` → ``batch_ingest`` → queue → ``queue_consumer``."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.lambda_permission import LambdaPermission
from cdktf_cdktf_provider_aws.s3_bucket_notification import (
    S3BucketNotification,
    S3BucketNotificationLambdaFunction,
)
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from constructs import Construct

from lib.config import PlatformConfig
from lib.constructs.function import FunctionSpec, PaymentFunction
from lib.constructs.policies import statement
from lib.constructs.queues import Queues
from lib.constructs.storage import Storage
from lib.lambda_sources import contract
from lib.naming import Namer


class BatchIngestion(Construct):
    """Exposes ``ingest_function`` and ``consumer_function`` (PaymentFunctions)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        namer: Namer,
        key: KmsKey,
        layer: LambdaLayerVersion,
        storage: Storage,
        queues: Queues,
        state_machine: SfnStateMachine,
        common_environment: dict[str, str],
        account_id: str,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = storage.batch_bucket
        self.ingest_function = PaymentFunction(
            self,
            "ingest",
            spec=FunctionSpec(
                function=contract.BATCH_INGEST,
                settings=config.functions.batch_ingest,
                environment={
                    **common_environment,
                    contract.BATCH_JOBS_TABLE_NAME: storage.batch_jobs_table.name,
                    contract.PAYMENT_QUEUE_URL: queues.queue.url,
                },
                statements=[
                    # A versioned bucket's events carry a versionId, and reading by version is its own action.
                    statement(
                        "ReadIncomingFiles",
                        ["s3:GetObject", "s3:GetObjectVersion"],
                        [f"{bucket.arn}/{contract.BATCH_INCOMING_PREFIX}*"],
                    ),
                    statement(
                        "WriteErrorReports", ["s3:PutObject"], [f"{bucket.arn}/{contract.BATCH_REPORTS_PREFIX}*"]
                    ),
                    statement(
                        "TrackBatchJobs",
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                        [storage.batch_jobs_table.arn],
                    ),
                    statement("QueueRows", ["sqs:SendMessage"], [queues.queue.arn]),
                    # S3 is invoked asynchronously: an event that fails every retry lands here.
                    statement("DeadLetterFailedEvents", ["sqs:SendMessage"], [queues.dlq.arn]),
                    # Decrypt batch files, encrypt reports and queue messages with the CMK.
                    statement("UseDataKey", ["kms:Decrypt", "kms:GenerateDataKey"], [key.arn]),
                ],
                dead_letter_target_arn=queues.dlq.arn,
            ),
            config=config,
            namer=namer,
            key=key,
            layer=layer,
        )
        self._build_bucket_trigger(storage, account_id)
        self.consumer_function = PaymentFunction(
            self,
            "consumer",
            spec=FunctionSpec(
                function=contract.QUEUE_CONSUMER,
                settings=config.functions.queue_consumer,
                environment={
                    **common_environment,
                    contract.PAYMENTS_TABLE_NAME: storage.payments_table.name,
                    contract.AUDIT_TABLE_NAME: storage.audit_table.name,
                    contract.STATE_MACHINE_ARN: state_machine.arn,
                },
                statements=[
                    statement(
                        "ConsumeQueue",
                        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                        [queues.queue.arn],
                    ),
                    statement("DecryptMessages", ["kms:Decrypt"], [key.arn]),
                    statement(
                        "CreatePayments",
                        ["dynamodb:GetItem", "dynamodb:PutItem"],
                        [storage.payments_table.arn],
                    ),
                    statement("AppendAudit", ["dynamodb:PutItem"], [storage.audit_table.arn]),
                    statement("StartWorkflow", ["states:StartExecution"], [state_machine.arn]),
                ],
            ),
            config=config,
            namer=namer,
            key=key,
            layer=layer,
        )
        LambdaEventSourceMapping(
            self,
            "consumer_trigger",
            event_source_arn=queues.queue.arn,
            function_name=self.consumer_function.function.arn,
            batch_size=config.queues.consumer_batch_size,
            maximum_batching_window_in_seconds=config.queues.consumer_batching_window_seconds,
            function_response_types=["ReportBatchItemFailures"],
        )

    def _build_bucket_trigger(self, storage: Storage, account_id: str) -> None:
        function = self.ingest_function.function
        permission = LambdaPermission(
            self,
            "allow_bucket",
            statement_id="AllowBatchBucketNotifications",
            action="lambda:InvokeFunction",
            function_name=function.function_name,
            principal="s3.amazonaws.com",
            source_arn=storage.batch_bucket.arn,
            source_account=account_id,
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
