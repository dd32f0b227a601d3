"""Messaging: the payment-processing queue and its dead-letter queue, and the SNS topics."""

from __future__ import annotations

from cdktf import Fn
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sqs_queue import SqsQueue
from constructs import Construct
from payment_core import contract

from lib.components.alarms import AlarmSpec
from lib.components.context import PlatformContext
from lib.config import QueueConfig


class Queues(Construct):
    """Exposes ``queue`` (batch rows awaiting processing), ``dlq``, ``status_topic``
    (payment status changes) and ``alarm_topic`` (CloudWatch alarms)."""

    def __init__(self, scope: Construct, construct_id: str, *, context: PlatformContext, settings: QueueConfig) -> None:
        super().__init__(scope, construct_id)
        self._settings = settings
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

    @property
    def alarm_specs(self) -> list[AlarmSpec]:
        """The processing queue's oldest message ageing: its consumer mapping stopped (disabled,
        throttled to nothing, failing every batch). SQS deletes a message at the end of its
        retention without a trace, so this fires well before: one accepted row is never lost.
        (The DLQ's alarm fires on its first message: Monitoring's dead-letter alarms.)"""
        return [
            AlarmSpec(
                "payment-processing-oldest-message-age",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                {"QueueName": self.queue.name},
                self._settings.oldest_message_alarm_age_seconds,
                statistic="Maximum",
                description="Batch rows not consumed: docs/operations.md, The processing queue is not drained",
            )
        ]
