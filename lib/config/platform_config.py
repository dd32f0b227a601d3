"""The whole configuration: every difference between dev, staging and prod is a knob here.

Constructs never branch on the environment's name; they read these fields. Each slice is a
frozen dataclass that validates itself in ``__post_init__`` (its own module), so a bad preset
fails at synth time with a ``ValueError`` naming the field; ``PlatformConfig`` holds the slices
and checks what spans two of them. The presets themselves are in ``lib/config/presets.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from lib.config.alarms import AlarmConfig
from lib.config.api import ApiConfig
from lib.config.backup import BackupConfig
from lib.config.batch_bucket import BatchBucketConfig
from lib.config.batch_workflow import BatchWorkflowConfig
from lib.config.checks import require, require_between, require_environment
from lib.config.disaster_recovery import DisasterRecoveryConfig, check_replicable
from lib.config.edge import EdgeConfig
from lib.config.events import EventsConfig
from lib.config.functions import FunctionsConfig
from lib.config.limits import (
    KMS_DELETION_WINDOW_DAYS,
    LOG_RETENTION_DAYS,
    SFN_STANDARD_MAX_SECONDS,
    SQS_LAMBDA_MAXIMUM_CONCURRENCY,
)
from lib.config.pacing import PacingConfig, StartPacing, check_starter_fits, start_pacing
from lib.config.payment_rules import PaymentRules
from lib.config.processor import ProcessorConfig
from lib.config.queues import QueueConfig
from lib.config.sweeper import SweeperConfig
from lib.config.tables import TableConfig
from lib.config.tenancy import TenancyConfig
from lib.config.webhooks import WebhooksConfig

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

# WAF rate-based rules count over a 5-minute window.
WAF_WINDOW_SECONDS = 300
# Margin above what a merchant at its plan can send: WAF's counts are estimates and act some
# seconds late, and a merchant must never meet WAF before its own usage plan.
WAF_RATE_HEADROOM = 1.25
# A settled payment's execution: four task states (Validate, Process, Record, Notify) and a Choice,
# each one state transition, plus the execution's start. Retries add more, which the pacing's
# account share leaves room for. tests/unit/test_pacing.py counts them in the synthesized definition.
TRANSITIONS_PER_PAYMENT = 6


@dataclass(frozen=True)
class PlatformConfig:
    environment: str
    functions: FunctionsConfig
    log_retention_days: int
    log_level: LogLevel
    tables: TableConfig
    batch_bucket: BatchBucketConfig
    batch_workflow: BatchWorkflowConfig
    queues: QueueConfig
    api: ApiConfig
    alarms: AlarmConfig
    payment_rules: PaymentRules
    xray_tracing: bool
    # Days a KMS key waits before deletion after destroy (within KMS_DELETION_WINDOW_DAYS).
    kms_deletion_window_days: int
    tenancy: TenancyConfig
    edge: EdgeConfig
    sweeper: SweeperConfig
    events: EventsConfig
    processor: ProcessorConfig
    pacing: PacingConfig
    disaster_recovery: DisasterRecoveryConfig
    webhooks: WebhooksConfig
    backup: BackupConfig

    def __post_init__(self) -> None:
        require_environment(self.environment, "environment")
        require(
            self.log_retention_days in LOG_RETENTION_DAYS,
            f"log_retention_days must be one of CloudWatch's retention periods, got {self.log_retention_days}",
        )
        require_between("kms_deletion_window_days", self.kms_deletion_window_days, KMS_DELETION_WINDOW_DAYS)
        self._check_batch_workflow_fits_its_function()
        self._check_queue_fits_its_functions()
        self._check_queue_age_alarm_fires_before_expiry()
        self._check_waf_lets_every_tier_reach_its_plan()
        self._check_sweep_ends_before_the_next()
        self._check_webhook_delivery_reservation_bounds_its_mapping()
        check_starter_fits(self.start_pacing, self.functions.workflow_starter.timeout_seconds)
        check_replicable(self.disaster_recovery, self.batch_bucket.versioning)

    @property
    def start_pacing(self) -> StartPacing:
        """The workflow starter's pace and batch size (lib/config/pacing.py), from the quotas and
        the reservations of the workflow and the starter."""
        return start_pacing(
            self.pacing,
            workflow_concurrency=self.functions.workflow.reserved_concurrency,
            starter_concurrency=self.functions.workflow_starter.reserved_concurrency,
            transitions_per_payment=TRANSITIONS_PER_PAYMENT,
        )

    def _check_queue_age_alarm_fires_before_expiry(self) -> None:
        # The queue-age alarm must fire while the on-call can still act: SQS expires the message
        # at its retention, silently.
        retention = self.queues.message_retention_seconds
        require(
            self.alarms.queue_oldest_message_age_seconds <= retention // 2,
            "alarms.queue_oldest_message_age_seconds must be at most half of queues.message_retention_seconds "
            f"({retention // 2}), got {self.alarms.queue_oldest_message_age_seconds}",
        )

    def _check_waf_lets_every_tier_reach_its_plan(self) -> None:
        """WAF counts one merchant's requests together (its secret key; or one egress IP): its limit
        must clear the most any tier's usage plan lets a merchant send in the window, a full burst
        bucket plus its rate for the whole window, with the headroom above."""
        if not self.edge.waf_enabled:
            return
        top = max(self.tenancy.merchant_tiers, key=lambda tier: tier.burst_limit + tier.rate_limit * WAF_WINDOW_SECONDS)
        needed = math.ceil((top.burst_limit + top.rate_limit * WAF_WINDOW_SECONDS) * WAF_RATE_HEADROOM)
        require(
            self.edge.rate_limit_per_5_minutes >= needed,
            f"edge.rate_limit_per_5_minutes must be at least {needed} so WAF never blocks a merchant within its "
            f"plan (tenancy.merchant_tiers {top.name}: rate_limit {top.rate_limit:g}/s over {WAF_WINDOW_SECONDS} s "
            f"plus burst_limit {top.burst_limit}, with {WAF_RATE_HEADROOM:g}x headroom), "
            f"got {self.edge.rate_limit_per_5_minutes}",
        )

    def _check_batch_workflow_fits_its_function(self) -> None:
        workflow, ingest = self.batch_workflow, self.functions.batch_ingest
        # Chunks beyond a reservation would be throttled, and S3's starts need a slot too.
        # Unreserved (None), the function shares the account's pool, which the chunks cannot
        # exhaust by themselves.
        require(
            ingest.reserved_concurrency is None or workflow.max_concurrency < ingest.reserved_concurrency,
            "batch_workflow.max_concurrency must be below the batch_ingest reserved_concurrency "
            f"({ingest.reserved_concurrency}), got {workflow.max_concurrency}",
        )
        require(
            workflow.time_reserve_ms < ingest.timeout_seconds * 1000,
            "batch_workflow.time_reserve_ms must be below the batch_ingest timeout "
            f"({ingest.timeout_seconds * 1000} ms), got {workflow.time_reserve_ms}",
        )
        timeout = workflow.execution_timeout_seconds(ingest.timeout_seconds)
        require(
            timeout <= SFN_STANDARD_MAX_SECONDS,
            f"batch_workflow.max_file_bytes {workflow.max_file_bytes} needs a batch execution timeout of {timeout} s "
            f"at max_concurrency {workflow.max_concurrency}, above Step Functions' {SFN_STANDARD_MAX_SECONDS} s",
        )

    def _check_queue_fits_its_functions(self) -> None:
        # AWS rejects an event source mapping whose queue hides messages for less time
        # than the function may run: a message could be delivered twice concurrently.
        consumer_timeout = self.functions.queue_consumer.timeout_seconds
        require(
            self.queues.visibility_timeout_seconds >= 6 * consumer_timeout,
            "queues.visibility_timeout_seconds must be at least 6 x the queue_consumer timeout "
            f"({6 * consumer_timeout}), got {self.queues.visibility_timeout_seconds}",
        )
        # The mapping may run consumer_maximum_concurrency batches at once: a reserved consumer
        # must hold them all (else batches are throttled), and every batch's payments become
        # workflow executions whose steps a reserved workflow function must be able to run.
        for function in ("queue_consumer", "workflow"):
            reserved = getattr(self.functions, function).reserved_concurrency
            require(
                reserved is None or self.queues.consumer_maximum_concurrency <= reserved,
                f"queues.consumer_maximum_concurrency must be at most functions.{function}.reserved_concurrency "
                f"({reserved}), got {self.queues.consumer_maximum_concurrency}",
            )

    def _check_sweep_ends_before_the_next(self) -> None:
        # A sweep that may outlast its interval would overlap the next one (or, reserved at one,
        # push it into Lambda's async retries): the function's timeout fits in the interval.
        timeout = self.functions.sweeper.timeout_seconds
        require(
            timeout <= self.sweeper.interval_minutes * 60,
            f"functions.sweeper.timeout_seconds must be at most sweeper.interval_minutes x 60 "
            f"({self.sweeper.interval_minutes * 60}), got {timeout}",
        )

    def _check_webhook_delivery_reservation_bounds_its_mapping(self) -> None:
        # The delivery queue's mapping runs at most the function's reservation at once (a throttled
        # receive would count as an attempt): SQS mappings take a maximum concurrency of 2 to 1,000.
        reserved = self.functions.webhook_delivery.reserved_concurrency
        low, high = SQS_LAMBDA_MAXIMUM_CONCURRENCY
        require(
            reserved is None or low <= reserved <= high,
            f"functions.webhook_delivery.reserved_concurrency must be None or between {low} and {high} "
            f"(its queue mapping's maximum concurrency), got {reserved}",
        )
