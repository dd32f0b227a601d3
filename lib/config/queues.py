"""The payment queue's slice of the config: the queue, its DLQ and its consumer's mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.config.checks import Slice, require, require_at_least, within
from lib.config.limits import (
    SQS_LAMBDA_BATCH_SIZE,
    SQS_LAMBDA_BATCHING_WINDOW_SECONDS,
    SQS_LAMBDA_MAXIMUM_CONCURRENCY,
    SQS_MAX_RECEIVE_COUNT,
    SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA,
    SQS_RETENTION_SECONDS,
    SQS_VISIBILITY_TIMEOUT_SECONDS,
)


@dataclass(frozen=True)
class QueueConfig(Slice):
    visibility_timeout_seconds: int = field(metadata=within(SQS_VISIBILITY_TIMEOUT_SECONDS))
    max_receive_count: int = field(metadata=within(SQS_MAX_RECEIVE_COUNT))
    message_retention_seconds: int = field(metadata=within(SQS_RETENTION_SECONDS))
    dlq_retention_seconds: int = field(metadata=within(SQS_RETENTION_SECONDS))
    # Messages the consumer takes per invocation, and how long SQS may gather them.
    consumer_batch_size: int = field(metadata=within(SQS_LAMBDA_BATCH_SIZE))
    consumer_batching_window_seconds: int = field(metadata=within(SQS_LAMBDA_BATCHING_WINDOW_SECONDS))
    # Batches the event source mapping runs at once (ScalingConfig.MaximumConcurrency): without
    # it Lambda's pollers outrun a reservation and throttled batches burn their receive count.
    consumer_maximum_concurrency: int = field(metadata=within(SQS_LAMBDA_MAXIMUM_CONCURRENCY))
    # Days the outbox keeps a stream batch it gave up on (the S3 on-failure record) for a redrive.
    start_give_up_retention_days: int = 90

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.max_receive_count >= SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA,
            f"max_receive_count must be at least {SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA} (a throttled batch counts as "
            f"a receive), got {self.max_receive_count}",
        )
        # A message must outlive its retries in the DLQ, or it could expire before anyone looks.
        require(
            self.dlq_retention_seconds >= self.message_retention_seconds,
            "dlq_retention_seconds must be at least message_retention_seconds",
        )
        # A week at least: a give-up found after a long weekend must still be there to redrive.
        require_at_least("start_give_up_retention_days", self.start_give_up_retention_days, 7)
