"""Webhooks: fan-out from the events table's stream to the delivery queue, one attempt per message.

``webhook_fanout`` reads each new event (an INSERT; it skips a new endpoint's) and sends one
message per enabled endpoint of its merchant that subscribes to its type. ``webhook_delivery``
takes one message per invocation (batch size 1: one merchant's slow endpoint holds no other
merchant's message in its batch), makes one attempt and, on failure, sets the message's
visibility to the backoff and reports it failed: the queue holds the retries, for up to the
horizon, and past it the endpoint is disabled (alarmed). The queue's redrive threshold is past
every attempt the horizon allows (``WebhooksConfig.max_receive_count``), so its DLQ receives only
messages the function itself failed on (alarmed on the first). docs/webhooks.md has the why.
"""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.lambda_event_source_mapping import (
    LambdaEventSourceMapping,
    LambdaEventSourceMappingScalingConfig,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from payment_core import contract

from lib.components.alarm_sources import (
    AlarmSources,
    WatchedDeadLetterQueue,
    WatchedFunction,
    WatchedPaymentAge,
    WatchedStreamConsumer,
)
from lib.components.base import ConfiguredConstruct
from lib.components.foundations import StreamFoundations
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.stream_consumer import inserts_mapping, stream_consumer_statements
from lib.config import WebhooksConfig
from lib.config.limits import SQS_RETENTION_SECONDS

FANOUT_BATCH_SIZE = 50
# One delivery per invocation: a batch would make each message wait for the others' endpoints.
DELIVERY_BATCH_SIZE = 1
# The longest a message can wait in the queue: the horizon plus one backoff fits (WebhooksConfig).
RETENTION_SECONDS = SQS_RETENTION_SECONDS[1]
# Lambda asks for a queue visibility timeout of at least 6x the function's timeout.
VISIBILITY_TIMEOUT_FACTOR = 6


class Webhooks(ConfiguredConstruct[WebhooksConfig, StreamFoundations]):
    """Exposes ``queue``, ``dlq``, ``fanout_function``, ``delivery_function`` and their mappings."""

    def _build(self, inputs: StreamFoundations) -> None:
        events_table, audit_table = inputs.storage.events_table, inputs.storage.audit_table
        self.dlq: SqsQueue = self._build_dlq()
        self.queue: SqsQueue = self._build_queue()
        self.fanout_function: PaymentFunction = self._build_fanout(events_table, inputs.give_up_bucket)
        self.fanout_mapping: LambdaEventSourceMapping = self._build_fanout_mapping(events_table, inputs.give_up_bucket)
        self.delivery_function: PaymentFunction = self._build_delivery(events_table, audit_table)
        self.delivery_mapping: LambdaEventSourceMapping = self._build_delivery_mapping()

    def _build_dlq(self) -> SqsQueue:
        name = self._context.namer("webhook-deliveries-dlq")
        return self._context.queue(self, "dlq", name, message_retention_seconds=RETENTION_SECONDS)

    def _build_queue(self) -> SqsQueue:
        timeout = self._context.function_sizing[contract.WEBHOOK_DELIVERY].timeout_seconds
        return self._context.queue(
            self,
            "queue",
            self._context.namer("webhook-deliveries"),
            visibility_timeout_seconds=VISIBILITY_TIMEOUT_FACTOR * timeout,
            message_retention_seconds=RETENTION_SECONDS,
            redrive_policy=Fn.jsonencode(
                {"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": self._settings.max_receive_count}
            ),
        )

    def _build_fanout(self, events_table: DynamodbTable, bucket: S3Bucket) -> PaymentFunction:
        return self._function(
            "fanout",
            contract.WEBHOOK_FANOUT,
            [
                # EndpointStore.list: the merchant's endpoints (its partition, we_ prefix).
                statement("ListEndpoints", ["dynamodb:Query"], [events_table.arn]),
                # SendMessageBatch is authorized as sqs:SendMessage.
                statement("QueueDeliveries", ["sqs:SendMessage"], [self.queue.arn]),
                *stream_consumer_statements("Events", events_table, bucket, self._context.key.arn),
            ],
            environment={contract.WEBHOOK_QUEUE_URL: self.queue.url},
        )

    def _build_fanout_mapping(self, events_table: DynamodbTable, bucket: S3Bucket) -> LambdaEventSourceMapping:
        # INSERTs only: not the attempts appended to events nor endpoint changes (MODIFY, REMOVE).
        # A new endpoint's INSERT passes too; the fan-out skips it (its range key is no event id).
        return inserts_mapping(self, events_table, self.fanout_function, bucket, batch_size=FANOUT_BATCH_SIZE)

    def _build_delivery(self, events_table: DynamodbTable, audit_table: DynamodbTable) -> PaymentFunction:
        settings = self._settings
        return self._function(
            "delivery",
            contract.WEBHOOK_DELIVERY,
            [
                # DeliveryRecords: the event and the endpoint (GetItem), the attempt appended and
                # the endpoint disabled (UpdateItem, the latter in a transaction with...)
                statement("ReadAndRecordDeliveries", ["dynamodb:GetItem", "dynamodb:UpdateItem"], [events_table.arn]),
                # ...the endpoint's endpoint.disabled transition, a conditional Put on the audit table.
                statement("AppendEndpointTransition", ["dynamodb:PutItem"], [audit_table.arn]),
                # The mapping polls and deletes as this role; a failed attempt sets its message's backoff.
                statement(
                    "ConsumeDeliveries",
                    [
                        "sqs:ReceiveMessage",
                        "sqs:DeleteMessage",
                        "sqs:GetQueueAttributes",
                        "sqs:ChangeMessageVisibility",
                    ],
                    [self.queue.arn],
                ),
                # SecretBox.open of the signing secrets and the queue's messages need kms:Decrypt on
                # the platform key: every function's role has it already (its environment is
                # encrypted with that key).
            ],
            environment={
                contract.WEBHOOK_QUEUE_URL: self.queue.url,
                contract.WEBHOOK_HORIZON_SECONDS: str(settings.horizon_seconds),
                contract.WEBHOOK_BACKOFF_BASE_SECONDS: str(settings.backoff_base_seconds),
                contract.WEBHOOK_BACKOFF_CAP_SECONDS: str(settings.backoff_cap_seconds),
            },
        )

    def _build_delivery_mapping(self) -> LambdaEventSourceMapping:
        # A reserved function gets no more concurrent batches than it holds: a throttled receive
        # counts toward the redrive threshold like an attempt (Lambda developer guide, SQS scaling).
        reserved = self._context.function_sizing[contract.WEBHOOK_DELIVERY].reserved_concurrency
        return LambdaEventSourceMapping(
            self,
            "delivery_mapping",
            event_source_arn=self.queue.arn,
            function_name=self.delivery_function.live_arn,
            batch_size=DELIVERY_BATCH_SIZE,
            function_response_types=["ReportBatchItemFailures"],
            scaling_config=LambdaEventSourceMappingScalingConfig(maximum_concurrency=reserved) if reserved else None,
            # CreateEventSourceMapping checks the function's role may read the queue: policy first.
            depends_on=[self.delivery_function.policy],
        )

    def alarm_sources(self) -> AlarmSources:
        return AlarmSources(
            functions=(WatchedFunction(self.fanout_function), WatchedFunction(self.delivery_function)),
            stream_consumers=(WatchedStreamConsumer("webhook-fanout-lag", self.fanout_function),),
            dead_letter_queues=(WatchedDeadLetterQueue("webhook-dlq-not-empty", self.dlq),),
            # A count, alarmed on the first endpoint disabled (its Maximum is 1 in a period with one).
            payment_ages=(
                WatchedPaymentAge("webhook-endpoint-disabled", contract.WEBHOOK_ENDPOINT_DISABLED_METRIC, 1),
            ),
            queue_depths=(self.queue, self.dlq),
        )
