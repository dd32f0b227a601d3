"""Messaging: the payment-processing queue and its dead-letter queue, and the SNS topics."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedDeadLetterQueue, WatchedQueueAge
from lib.components.context import PlatformContext
from lib.config import QueueConfig


class Queues(Construct):
    """Exposes ``queue`` (batch rows awaiting processing), ``dlq``, ``status_topic``
    (payment status changes), ``alarm_topic`` (CloudWatch alarms) and ``settings`` (the queue's
    config, which its consumer's mapping reads too)."""

    def __init__(self, scope: Construct, construct_id: str, *, context: PlatformContext, settings: QueueConfig) -> None:
        super().__init__(scope, construct_id)
        self.settings: QueueConfig = settings
        namer, key = context.namer, context.key
        self.dlq: SqsQueue = context.queue(
            self, "dlq", namer("payment-processing-dlq"), message_retention_seconds=settings.dlq_retention_seconds
        )
        self.queue: SqsQueue = context.queue(
            self,
            "queue",
            namer("payment-processing"),
            visibility_timeout_seconds=settings.visibility_timeout_seconds,
            message_retention_seconds=settings.message_retention_seconds,
            redrive_policy=Fn.jsonencode(
                {"deadLetterTargetArn": self.dlq.arn, "maxReceiveCount": settings.max_receive_count}
            ),
        )
        self.status_topic: SnsTopic = SnsTopic(
            self, "status_topic", name=namer("payment-status"), kms_master_key_id=key.arn
        )
        self.alarm_topic: SnsTopic = SnsTopic(
            self, "alarm_topic", name=namer("payment-alarms"), kms_master_key_id=key.arn
        )

    @property
    def environment(self) -> dict[str, str]:
        """The contract's variables for the queue and the status topic (each function gets those it reads)."""
        return {contract.PAYMENT_QUEUE_URL: self.queue.url, contract.STATUS_TOPIC_ARN: self.status_topic.arn}

    def alarm_sources(self) -> AlarmSources:
        # One message in the DLQ is one payment that needs a human.
        # Rows waiting too long: the consumer's mapping stopped, and SQS expires them silently.
        return AlarmSources(
            dead_letter_queues=(WatchedDeadLetterQueue("payment-dlq-not-empty", self.dlq),),
            queue_ages=(WatchedQueueAge("payment-processing-oldest-message-age", self.queue),),
            queue_depths=(self.queue, self.dlq),
        )
