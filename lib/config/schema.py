"""The configuration's schema: every difference between dev, staging and prod is a knob here.

Constructs never branch on the environment's name; they read these fields. Each dataclass is
frozen and validates itself in ``__post_init__`` so a bad preset fails at synth time with a
``ValueError`` naming the field. The presets themselves are in ``lib/config/presets.py``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Literal

from lib.config.limits import (
    KMS_DELETION_WINDOW_DAYS,
    LAMBDA_MEMORY_MB,
    LAMBDA_TIMEOUT_SECONDS,
    LOG_RETENTION_DAYS,
    S3_STANDARD_IA_MIN_DAYS,
    SQS_LAMBDA_BATCH_SIZE,
    SQS_LAMBDA_BATCHING_WINDOW_SECONDS,
    SQS_LAMBDA_MAXIMUM_CONCURRENCY,
    SQS_MAX_RECEIVE_COUNT,
    SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA,
    SQS_RETENTION_SECONDS,
    SQS_VISIBILITY_TIMEOUT_SECONDS,
)
from lib.config.subscribers import SUBSCRIBERS_VARIABLE, AlarmSubscriber, is_placeholder, subscriber_domain
from lib.lambda_sources import FUNCTION_NAMES

if TYPE_CHECKING:
    # The slices import this module's checks; the dataclass only annotates with them.
    from lib.config.batch_workflow import BatchWorkflowConfig
    from lib.config.tenancy import EdgeConfig, TenancyConfig

ENVIRONMENTS: tuple[str, ...] = ("dev", "staging", "prod")

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]

_CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
_MERCHANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def require_environment(environment: str, field_name: str) -> None:
    """The one check of an environment's name; ``field_name`` is what the message names."""
    _require(
        environment in ENVIRONMENTS,
        f"{field_name} must be one of {', '.join(ENVIRONMENTS)}, got {environment!r}",
    )


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _require_at_least(name: str, value: int, minimum: int) -> None:
    _require(value >= minimum, f"{name} must be at least {minimum}, got {value}")


def _require_between(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    _require(low <= value <= high, f"{name} must be between {low} and {high}, got {value}")


@dataclass(frozen=True)
class FunctionSettings:
    """Sizing of one Lambda function role."""

    memory_mb: int
    timeout_seconds: int
    # None: the function draws on the account's unreserved pool (dev/PR stacks: a new account's
    # limit of 10 or 50 cannot hold a reservation per stack). A number reserves (and caps) it.
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        _require_between("memory_mb", self.memory_mb, LAMBDA_MEMORY_MB)
        _require_between("timeout_seconds", self.timeout_seconds, LAMBDA_TIMEOUT_SECONDS)
        _require(
            self.reserved_concurrency is None or self.reserved_concurrency >= 1,
            f"reserved_concurrency must be None or at least 1, got {self.reserved_concurrency}",
        )


@dataclass(frozen=True)
class FunctionsConfig:
    api: FunctionSettings
    workflow: FunctionSettings
    batch_ingest: FunctionSettings
    queue_consumer: FunctionSettings
    workflow_starter: FunctionSettings
    authorizer: FunctionSettings

    def by_name(self) -> dict[str, FunctionSettings]:
        """Sizing by the contract's function name (the fields are named alike)."""
        return {name: getattr(self, name) for name in FUNCTION_NAMES}


@dataclass(frozen=True)
class TableConfig:
    # Every preset is on demand: a batch file's burst of writes must never be throttled, and
    # provisioned capacity would also need autoscaling resources (checkov CKV2_AWS_16).
    billing_mode: BillingMode
    # Only read when billing_mode is PROVISIONED; applied to the table and each GSI.
    read_capacity: int = 0
    write_capacity: int = 0

    def __post_init__(self) -> None:
        _require(
            self.billing_mode in ("PAY_PER_REQUEST", "PROVISIONED"),
            f"billing_mode must be PAY_PER_REQUEST or PROVISIONED, got {self.billing_mode!r}",
        )
        if self.billing_mode == "PROVISIONED":
            _require(
                self.read_capacity >= 1 and self.write_capacity >= 1,
                "read_capacity and write_capacity must be at least 1 when billing_mode is "
                f"PROVISIONED, got {self.read_capacity} and {self.write_capacity}",
            )
        else:
            _require(
                self.read_capacity == 0 and self.write_capacity == 0,
                "read_capacity and write_capacity must be 0 when billing_mode is PAY_PER_REQUEST",
            )


@dataclass(frozen=True)
class BatchBucketConfig:
    versioning: bool
    # Processed batch files are evidence for audits; they move to cheaper storage, then expire.
    transition_to_ia_days: int
    expiration_days: int
    noncurrent_version_expiration_days: int

    def __post_init__(self) -> None:
        _require(
            self.transition_to_ia_days >= S3_STANDARD_IA_MIN_DAYS,
            f"transition_to_ia_days must be at least {S3_STANDARD_IA_MIN_DAYS}, got {self.transition_to_ia_days}",
        )
        _require(
            self.expiration_days > self.transition_to_ia_days,
            "expiration_days must be greater than transition_to_ia_days, "
            f"got {self.expiration_days} <= {self.transition_to_ia_days}",
        )
        _require_at_least("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1)


@dataclass(frozen=True)
class QueueConfig:
    visibility_timeout_seconds: int
    max_receive_count: int
    message_retention_seconds: int
    dlq_retention_seconds: int
    # Messages the consumer takes per invocation, and how long SQS may gather them.
    consumer_batch_size: int
    consumer_batching_window_seconds: int
    # Batches the event source mapping runs at once (ScalingConfig.MaximumConcurrency): without
    # it Lambda's pollers outrun a reservation and throttled batches burn their receive count.
    consumer_maximum_concurrency: int
    # Alarm when the processing queue's oldest message is older than this: SQS deletes it, without
    # a trace, at message_retention_seconds, so this must leave the on-call time to act.
    oldest_message_alarm_age_seconds: int = 21_600
    # Days the outbox keeps a stream batch it gave up on (the S3 on-failure record) for a redrive.
    start_give_up_retention_days: int = 90

    def __post_init__(self) -> None:
        _require_between(
            "visibility_timeout_seconds",
            self.visibility_timeout_seconds,
            SQS_VISIBILITY_TIMEOUT_SECONDS,
        )
        _require_between("max_receive_count", self.max_receive_count, SQS_MAX_RECEIVE_COUNT)
        _require(
            self.max_receive_count >= SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA,
            f"max_receive_count must be at least {SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA} (a throttled batch counts as "
            f"a receive), got {self.max_receive_count}",
        )
        _require_between("message_retention_seconds", self.message_retention_seconds, SQS_RETENTION_SECONDS)
        _require_between("dlq_retention_seconds", self.dlq_retention_seconds, SQS_RETENTION_SECONDS)
        # A message must outlive its retries in the DLQ, or it could expire before anyone looks.
        _require(
            self.dlq_retention_seconds >= self.message_retention_seconds,
            "dlq_retention_seconds must be at least message_retention_seconds",
        )
        _require_between("consumer_batch_size", self.consumer_batch_size, SQS_LAMBDA_BATCH_SIZE)
        _require_between(
            "consumer_batching_window_seconds",
            self.consumer_batching_window_seconds,
            SQS_LAMBDA_BATCHING_WINDOW_SECONDS,
        )
        _require_between(
            "consumer_maximum_concurrency", self.consumer_maximum_concurrency, SQS_LAMBDA_MAXIMUM_CONCURRENCY
        )
        _require_at_least("oldest_message_alarm_age_seconds", self.oldest_message_alarm_age_seconds, 60)
        _require(
            self.oldest_message_alarm_age_seconds <= self.message_retention_seconds // 2,
            "queues.oldest_message_alarm_age_seconds must be at most half of message_retention_seconds "
            f"({self.message_retention_seconds // 2}), got {self.oldest_message_alarm_age_seconds}",
        )
        # A week at least: a give-up found after a long weekend must still be there to redrive.
        _require_at_least("start_give_up_retention_days", self.start_give_up_retention_days, 7)


@dataclass(frozen=True)
class ApiConfig:
    # Stage-wide throttle (all merchants together); each merchant's own is its tier's plan.
    throttle_rate_limit: float
    throttle_burst_limit: int
    # Data trace logs whole request bodies (payment details): off in every preset, even dev.
    data_trace_enabled: bool

    def __post_init__(self) -> None:
        _require(
            self.throttle_rate_limit > 0,
            f"throttle_rate_limit must be positive, got {self.throttle_rate_limit}",
        )
        _require_at_least("throttle_burst_limit", self.throttle_burst_limit, 1)


@dataclass(frozen=True)
class AlarmConfig:
    evaluation_periods: int
    period_seconds: int
    lambda_error_threshold: int
    lambda_throttle_threshold: int
    api_5xx_threshold: int
    api_p99_latency_ms: int
    state_machine_failed_threshold: int
    # Alarm when the oldest payment whose workflow has not started is older than this.
    unstarted_payment_age_seconds: int = 300
    # Throttled DynamoDB events (per table and index) and Step Functions throttles per period.
    dynamodb_throttle_threshold: int = 1
    step_functions_throttle_threshold: int = 1
    # Whether a deployment must name who is paged (ALARM_SUBSCRIBERS): synth refuses one without.
    subscribers_required: bool = False
    # Who hears the alarm topic: the deploying environment's ALARM_SUBSCRIBERS (lib/settings.py),
    # never the repository; none means alarms reach only the console and the dashboard.
    subscribers: tuple[AlarmSubscriber, ...] = ()

    def for_deployment(self, subscribers: tuple[AlarmSubscriber, ...], environment: str) -> AlarmConfig:
        """This config with the deploying environment's subscribers, refused when it needs some."""
        _require(
            bool(subscribers) or not self.subscribers_required,
            f"{SUBSCRIBERS_VARIABLE} must name at least one alarm subscriber for {environment} "
            "(alarms.subscribers_required), got none",
        )
        return replace(self, subscribers=subscribers)

    def __post_init__(self) -> None:
        _require_at_least("evaluation_periods", self.evaluation_periods, 1)
        # CloudWatch accepts 10, 30 or any multiple of 60 seconds.
        _require(
            self.period_seconds in (10, 30) or (self.period_seconds % 60 == 0 and self.period_seconds > 0),
            f"period_seconds must be 10, 30 or a multiple of 60, got {self.period_seconds}",
        )
        for name in (
            "lambda_error_threshold",
            "lambda_throttle_threshold",
            "api_5xx_threshold",
            "state_machine_failed_threshold",
            "dynamodb_throttle_threshold",
            "step_functions_throttle_threshold",
        ):
            _require_at_least(name, getattr(self, name), 1)
        _require_at_least("api_p99_latency_ms", self.api_p99_latency_ms, 1)
        _require_at_least("unstarted_payment_age_seconds", self.unstarted_payment_age_seconds, 60)
        endpoints = [(subscriber.protocol, subscriber.endpoint) for subscriber in self.subscribers]
        _require(
            len(set(endpoints)) == len(endpoints),
            f"alarms.subscribers must not repeat an endpoint, got {sorted(endpoints)}",
        )
        for subscriber in self.subscribers:
            domain = subscriber_domain(subscriber)
            _require(
                not is_placeholder(domain),
                f"alarms.subscribers endpoint {subscriber.endpoint!r} is a placeholder ({domain} is reserved "
                f"for examples and reaches nobody): set {SUBSCRIBERS_VARIABLE} to a real address",
            )


@dataclass(frozen=True)
class PaymentRules:
    max_amounts: Mapping[str, str]  # per allowed currency, major unit (one for all: JPY ~65 USD)
    allowed_currencies: tuple[str, ...]
    blocked_merchant_ids: tuple[str, ...] = ()

    @property
    def max_amounts_setting(self) -> str:  # MAX_PAYMENT_AMOUNT: CUR=AMOUNT pairs, sorted
        return ",".join(f"{currency}={amount}" for currency, amount in sorted(self.max_amounts.items()))

    def __post_init__(self) -> None:
        for currency, amount in self.max_amounts.items():
            try:
                maximum = Decimal(amount)
            except InvalidOperation:
                maximum = Decimal(0)
            _require(
                maximum.is_finite() and maximum > 0,
                f"max_amounts[{currency}] must be a positive decimal string, got {amount!r}",
            )
        _require(len(self.allowed_currencies) >= 1, "allowed_currencies must not be empty")
        missing = sorted(set(self.allowed_currencies) - set(self.max_amounts))
        _require(not missing, f"max_amounts has no maximum for {', '.join(missing)}")
        for currency in self.allowed_currencies:
            _require(
                bool(_CURRENCY_PATTERN.fullmatch(currency)),
                f"allowed_currencies must hold ISO-4217 codes, got {currency!r}",
            )
        for merchant_id in self.blocked_merchant_ids:
            _require(
                bool(_MERCHANT_ID_PATTERN.fullmatch(merchant_id)),
                f"blocked_merchant_ids holds an invalid merchant id: {merchant_id!r}",
            )


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

    def __post_init__(self) -> None:
        require_environment(self.environment, "environment")
        _require(
            self.log_retention_days in LOG_RETENTION_DAYS,
            f"log_retention_days must be one of CloudWatch's retention periods, got {self.log_retention_days}",
        )
        _require_between("kms_deletion_window_days", self.kms_deletion_window_days, KMS_DELETION_WINDOW_DAYS)
        self.batch_workflow.check_fits(self.functions.batch_ingest)
        # AWS rejects an event source mapping whose queue hides messages for less time
        # than the function may run: a message could be delivered twice concurrently.
        consumer_timeout = self.functions.queue_consumer.timeout_seconds
        _require(
            self.queues.visibility_timeout_seconds >= 6 * consumer_timeout,
            "queues.visibility_timeout_seconds must be at least 6 x the queue_consumer timeout "
            f"({6 * consumer_timeout}), got {self.queues.visibility_timeout_seconds}",
        )
        # The mapping may run consumer_maximum_concurrency batches at once: a reserved consumer
        # must hold them all (else batches are throttled), and every batch's payments become
        # workflow executions whose steps a reserved workflow function must be able to run.
        for function in ("queue_consumer", "workflow"):
            reserved = getattr(self.functions, function).reserved_concurrency
            _require(
                reserved is None or self.queues.consumer_maximum_concurrency <= reserved,
                f"queues.consumer_maximum_concurrency must be at most functions.{function}.reserved_concurrency "
                f"({reserved}), got {self.queues.consumer_maximum_concurrency}",
            )
