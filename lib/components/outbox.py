"""The transactional outbox: every new payment's workflow starts from the payments table's stream.

The write that accepts a payment also records it on the table's stream (atomically, it is the
same write), so a payment can no longer be stored without its workflow being started: the
``workflow_starter`` function calls ``StartExecution(name=<payment_id>)`` for each ``INSERT``
record, and a failed start fails that record, which the mapping retries in order. Why a
stream rather than a scheduled reconciler: docs/architecture.md, "Starting the workflow".

When the mapping gives a batch up, Lambda writes the *whole* invocation record (the stream
records, not just their sequence range) to the starter's own bucket: stream records expire
after 24 hours, the bucket keeps them until someone re-drives the payments
(docs/operations.md, "A workflow start given up").
"""

from __future__ import annotations

import json

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingDestinationConfig,
    LambdaEventSourceMappingDestinationConfigOnFailure,
    LambdaEventSourceMappingFilterCriteria,
    LambdaEventSourceMappingFilterCriteriaFilter,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_metric import S3BucketMetric, S3BucketMetricFilter
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedGiveUps, WatchedStreamConsumer
from lib.components.base import PlatformConstruct
from lib.components.buckets import private_bucket
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.policies import statement

# Only new payments start workflows; status updates (MODIFY) are dropped by Lambda, unbilled.
INSERTS_ONLY = json.dumps({"eventName": ["INSERT"]})
# Records per invocation: one StartExecution each.
STARTER_BATCH_SIZE = 10
# A failing batch is retried this many times (Lambda backs off between retries; the record
# blocks its shard meanwhile, which keeps starts in order) before the invocation record goes
# to the give-up bucket, whose alarm fires on the first object. Enough to ride out a long
# StartExecution throttle; a poison record cannot block the shard for 24 hours.
STARTER_MAXIMUM_RETRY_ATTEMPTS = 100
# Where Lambda writes an S3 on-failure record: aws/lambda/<mapping UUID>/<shard id>/YYYY/MM/DD/...
# (Lambda developer guide, "Retain discarded records for a DynamoDB event source"). The
# request-metrics filter and the starter's PutObject grant both cover exactly this prefix.
GIVE_UP_PREFIX = "aws/lambda/"
GIVE_UP_METRICS_FILTER = "starter-give-ups"


class WorkflowOutbox(PlatformConstruct):
    """The ``workflow_starter`` function, its mapping on the payments table's stream, and the
    bucket that keeps what the mapping gives up (``give_up_bucket``)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        payments_table: DynamodbTable,
        state_machine: SfnStateMachine,
        give_up_retention_days: int,
    ) -> None:
        super().__init__(scope, construct_id, context)
        self.give_up_bucket: S3Bucket = self._build_give_up_bucket(give_up_retention_days)
        self.starter_function: PaymentFunction = self._build_starter(payments_table, state_machine)
        self.stream_mapping: LambdaEventSourceMapping = self._build_mapping(payments_table)

    def _build_give_up_bucket(self, retention_days: int) -> S3Bucket:
        context = self._context
        bucket = private_bucket(
            self,
            "give_up_bucket",
            context.namer.account_wide(f"payment-start-give-ups-{context.account_id}"),
            key=context.key,
            versioning=True,
            lifecycle=S3BucketLifecycleConfigurationRule(
                id="age-out-give-up-records",
                status="Enabled",
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                # Long enough to be re-driven after any weekend or holiday; the runbook moves a
                # handled record out of the way (deletes it), which this rule then cleans up.
                expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=retention_days)],
                noncurrent_version_expiration=[
                    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=retention_days)
                ],
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                ],
            ),
        )
        S3BucketMetric(
            self,
            "give_up_metrics",
            bucket=bucket.id,
            name=GIVE_UP_METRICS_FILTER,
            filter=S3BucketMetricFilter(prefix=GIVE_UP_PREFIX),
        )
        return bucket

    def _build_starter(self, payments_table: DynamodbTable, state_machine: SfnStateMachine) -> PaymentFunction:
        bucket = self.give_up_bucket
        return self._function(
            "starter",
            contract.WORKFLOW_STARTER,
            [
                statement("StartWorkflow", ["states:StartExecution"], [state_machine.arn]),
                # What Lambda's poller needs on the function's role to read the stream, scoped
                # to the table's streams as the DynamoDB developer guide's example for Lambda does.
                statement(
                    "ReadPaymentInserts",
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [f"{payments_table.arn}/stream/*"],
                ),
                # ListStreams is among the permissions Lambda's documentation lists for a DynamoDB
                # event source, and it has no resource type (Service Authorization Reference,
                # DynamoDB): scoped to a stream ARN it grants nothing, so "*" is the only grant.
                statement("FindPaymentStreams", ["dynamodb:ListStreams"], ["*"]),
                # Lambda writes a batch given up on to the S3 on-failure destination as the
                # function: s3:PutObject and s3:ListBucket (Lambda developer guide, DynamoDB
                # on-failure destinations), the objects only under Lambda's own prefix.
                statement("GiveUpToBucket", ["s3:PutObject"], [f"{bucket.arn}/{GIVE_UP_PREFIX}*"]),
                statement("ListGiveUpBucket", ["s3:ListBucket"], [bucket.arn]),
                # The table's stream and the bucket are encrypted with the CMK.
                statement("UseKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self._context.key.arn]),
            ],
            environment={contract.STATE_MACHINE_ARN: state_machine.arn},
        )

    def _build_mapping(self, payments_table: DynamodbTable) -> LambdaEventSourceMapping:
        return LambdaEventSourceMapping(
            self,
            "stream_mapping",
            event_source_arn=payments_table.stream_arn,
            function_name=self.starter_function.live_arn,
            starting_position="TRIM_HORIZON",
            batch_size=STARTER_BATCH_SIZE,
            maximum_retry_attempts=STARTER_MAXIMUM_RETRY_ATTEMPTS,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=LambdaEventSourceMappingFilterCriteria(
                filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=INSERTS_ONLY)]
            ),
            # An S3 destination keeps the whole invocation record (an SQS or SNS one only the
            # batch's shard and sequence range, useless once the stream trims them after 24 h).
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=self.give_up_bucket.arn)
            ),
            # CreateEventSourceMapping checks the function's role may read the stream: policy first.
            depends_on=[self.starter_function.policy],
        )

    def alarm_sources(self) -> AlarmSources:
        # Not started yet: the age of the oldest payment insert the starter has not handled. A
        # start given up after every retry is written to the give-up bucket, alarmed on the first
        # record (and on a record Lambda could not write).
        give_ups = WatchedGiveUps(
            "payment-workflow-start-given-up",
            self.give_up_bucket,
            GIVE_UP_METRICS_FILTER,
            "payment-workflow-start-give-up-undelivered",
            self.starter_function,
        )
        return AlarmSources(
            functions=(WatchedFunction(self.starter_function),),
            stream_consumers=(WatchedStreamConsumer("payment-workflow-start-lag", self.starter_function),),
            give_ups=(give_ups,),
        )
