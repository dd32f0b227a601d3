"""Events: the ``event_writer`` function on the audit table's stream, one event per transition.

The audit table is append-only and written in the same transaction as every status change, so
its stream holds each transition exactly once, in order per payment. The writer turns each
``INSERT`` into the merchant's event (payment_core/events), written to the events table only if
its id (derived from the audit record) is absent: a redelivered record or a retried batch
writes nothing twice. A batch given up after every retry goes to the outbox's give-up bucket
(Lambda writes it under its own ``aws/lambda/<mapping UUID>/`` prefix, alarmed on the first
object), where the audit records are re-driven from (docs/operations.md).
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
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedStreamConsumer
from lib.components.base import PlatformConstruct
from lib.components.context import PlatformContext
from lib.components.function import PaymentFunction
from lib.components.outbox import GIVE_UP_PREFIX
from lib.components.policies import statement
from lib.config import EventsConfig

# The audit table is append-only: every transition is one INSERT (a MODIFY or REMOVE never is).
INSERTS_ONLY = json.dumps({"eventName": ["INSERT"]})
# Records per invocation: one conditional PutItem each.
WRITER_BATCH_SIZE = 50
# As the outbox's starter: enough to ride out a long throttle, never a shard blocked for 24 h.
WRITER_MAXIMUM_RETRY_ATTEMPTS = 100


class PaymentEvents(PlatformConstruct):
    """The ``writer_function`` and its ``stream_mapping`` on the audit table's stream."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        settings: EventsConfig,
        audit_table: DynamodbTable,
        events_table: DynamodbTable,
        give_up_bucket: S3Bucket,
    ) -> None:
        super().__init__(scope, construct_id, context)
        self._settings = settings
        self.writer_function: PaymentFunction = self._build_writer(audit_table, events_table, give_up_bucket)
        self.stream_mapping: LambdaEventSourceMapping = self._build_mapping(audit_table, give_up_bucket)

    def _build_writer(
        self, audit_table: DynamodbTable, events_table: DynamodbTable, bucket: S3Bucket
    ) -> PaymentFunction:
        return self._function(
            "writer",
            contract.EVENT_WRITER,
            [
                # Conditional puts only: an event is written once and never changed by the writer.
                statement("WriteEvents", ["dynamodb:PutItem"], [events_table.arn]),
                statement(
                    "ReadAuditInserts",
                    ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                    [f"{audit_table.arn}/stream/*"],
                ),
                # ListStreams has no resource type (Service Authorization Reference, DynamoDB):
                # scoped to a stream ARN it grants nothing, so "*" is the only grant.
                statement("FindAuditStreams", ["dynamodb:ListStreams"], ["*"]),
                # Lambda writes a batch given up on to the S3 on-failure destination as the
                # function (Lambda developer guide, DynamoDB on-failure destinations).
                statement("GiveUpToBucket", ["s3:PutObject"], [f"{bucket.arn}/{GIVE_UP_PREFIX}*"]),
                statement("ListGiveUpBucket", ["s3:ListBucket"], [bucket.arn]),
                # The stream, the events table and the bucket are encrypted with the CMK.
                statement("UseKey", ["kms:Decrypt", "kms:GenerateDataKey"], [self._context.key.arn]),
            ],
            environment={contract.EVENT_RETENTION_DAYS: str(self._settings.retention_days)},
        )

    def _build_mapping(self, audit_table: DynamodbTable, bucket: S3Bucket) -> LambdaEventSourceMapping:
        return LambdaEventSourceMapping(
            self,
            "stream_mapping",
            event_source_arn=audit_table.stream_arn,
            function_name=self.writer_function.lambda_function.arn,
            starting_position="TRIM_HORIZON",
            batch_size=WRITER_BATCH_SIZE,
            maximum_retry_attempts=WRITER_MAXIMUM_RETRY_ATTEMPTS,
            bisect_batch_on_function_error=True,
            function_response_types=["ReportBatchItemFailures"],
            filter_criteria=LambdaEventSourceMappingFilterCriteria(
                filter=[LambdaEventSourceMappingFilterCriteriaFilter(pattern=INSERTS_ONLY)]
            ),
            destination_config=LambdaEventSourceMappingDestinationConfig(
                on_failure=LambdaEventSourceMappingDestinationConfigOnFailure(destination_arn=bucket.arn)
            ),
            # CreateEventSourceMapping checks the function's role may read the stream: policy first.
            depends_on=[self.writer_function.policy],
        )

    def alarm_sources(self) -> AlarmSources:
        # Not written yet: the age of the oldest transition without its event.
        return AlarmSources(
            functions=(WatchedFunction(self.writer_function),),
            stream_consumers=(WatchedStreamConsumer("payment-events-lag", self.writer_function),),
        )
