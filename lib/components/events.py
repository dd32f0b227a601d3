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

from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import LambdaEventSourceMapping
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedStreamConsumer
from lib.components.base import ConfiguredConstruct
from lib.components.foundations import StreamFoundations
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.stream_consumer import inserts_mapping, stream_consumer_statements
from lib.config import EventsConfig

# Records per invocation: one conditional PutItem each.
WRITER_BATCH_SIZE = 50


class PaymentEvents(ConfiguredConstruct[EventsConfig, StreamFoundations]):
    """The ``writer_function`` and its ``stream_mapping`` on the audit table's stream."""

    def _build(self, inputs: StreamFoundations) -> None:
        audit_table, events_table = inputs.storage.audit_table, inputs.storage.events_table
        self.writer_function: PaymentFunction = self._build_writer(audit_table, events_table, inputs.give_up_bucket)
        self.stream_mapping: LambdaEventSourceMapping = self._build_mapping(audit_table, inputs.give_up_bucket)

    def _build_writer(
        self, audit_table: DynamodbTable, events_table: DynamodbTable, bucket: S3Bucket
    ) -> PaymentFunction:
        return self._function(
            "writer",
            contract.EVENT_WRITER,
            [
                # Conditional puts only: an event is written once and never changed by the writer.
                statement("WriteEvents", ["dynamodb:PutItem"], [events_table.arn]),
                *stream_consumer_statements("Audit", audit_table, bucket, self._context.key.arn),
            ],
            environment={contract.EVENT_RETENTION_DAYS: str(self._settings.retention_days)},
        )

    def _build_mapping(self, audit_table: DynamodbTable, bucket: S3Bucket) -> LambdaEventSourceMapping:
        return inserts_mapping(self, audit_table, self.writer_function, bucket, batch_size=WRITER_BATCH_SIZE)

    def alarm_sources(self) -> AlarmSources:
        # Not written yet: the age of the oldest transition without its event.
        return AlarmSources(
            functions=(WatchedFunction(self.writer_function),),
            stream_consumers=(WatchedStreamConsumer("payment-events-lag", self.writer_function),),
        )
