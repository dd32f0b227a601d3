"""The three presets, each written out in full so it can be read (and reviewed) on its own.

A difference between environments is a different value of the same knob; the slices and
``PlatformConfig`` (``lib/config/platform_config.py``) validate every preset when this module is
imported.
"""

from __future__ import annotations

from lib.config.alarms import AlarmConfig
from lib.config.api import ApiConfig
from lib.config.batch_bucket import BatchBucketConfig
from lib.config.batch_workflow import BatchWorkflowConfig
from lib.config.checks import require_environment
from lib.config.edge import EdgeConfig
from lib.config.functions import FunctionsConfig, FunctionSettings
from lib.config.payment_rules import PaymentRules
from lib.config.platform_config import PlatformConfig
from lib.config.queues import QueueConfig
from lib.config.sweeper import SweeperConfig
from lib.config.tables import TableConfig
from lib.config.tenancy import MerchantTier, TenancyConfig

DEV = PlatformConfig(
    environment="dev",
    functions=FunctionsConfig(
        # No reservations: every dev/PR stack shares the account's unreserved pool (a new account
        # has 10 or 50 in all and refuses reservations that would leave less than 10 unreserved).
        api=FunctionSettings(memory_mb=256, timeout_seconds=10),
        workflow=FunctionSettings(memory_mb=256, timeout_seconds=30),
        batch_ingest=FunctionSettings(memory_mb=512, timeout_seconds=300),
        queue_consumer=FunctionSettings(memory_mb=256, timeout_seconds=30),
        workflow_starter=FunctionSettings(memory_mb=256, timeout_seconds=30),
        authorizer=FunctionSettings(memory_mb=128, timeout_seconds=5),
        # A sweep must end within its interval (one minute in dev): see sweeper=SweeperConfig below.
        sweeper=FunctionSettings(memory_mb=256, timeout_seconds=60),
    ),
    log_retention_days=14,
    log_level="DEBUG",
    # Every preset is on demand: a batch file's burst of writes must never be throttled, and
    # provisioned capacity would also need autoscaling resources (checkov CKV2_AWS_16).
    tables=TableConfig(billing_mode="PAY_PER_REQUEST"),
    batch_bucket=BatchBucketConfig(
        # On everywhere: S3 events then carry a versionId, so dev runs the exact read path prod runs.
        versioning=True,
        transition_to_ia_days=30,
        expiration_days=90,
        noncurrent_version_expiration_days=7,
    ),
    batch_workflow=BatchWorkflowConfig(
        records_per_chunk=500,
        max_concurrency=1,
        retry_interval_seconds=2,
        retry_backoff_rate=2.0,
        retry_max_delay_seconds=60,
        retry_max_attempts=5,
        chunk_progress_attempts=20,
        time_reserve_ms=10_000,
    ),
    queues=QueueConfig(
        visibility_timeout_seconds=180,
        max_receive_count=5,
        message_retention_seconds=345_600,
        dlq_retention_seconds=1_209_600,
        consumer_batch_size=10,
        consumer_batching_window_seconds=0,
        consumer_maximum_concurrency=5,
    ),
    api=ApiConfig(throttle_rate_limit=50, throttle_burst_limit=100, data_trace_enabled=False),
    alarms=AlarmConfig(
        evaluation_periods=1,
        period_seconds=300,
        lambda_error_threshold=5,
        lambda_throttle_threshold=5,
        api_5xx_threshold=5,
        api_p99_latency_ms=3_000,
        state_machine_failed_threshold=1,
        # Dev and PR stacks page nobody unless the deploy names someone; `make demo` subscribes
        # a queue to show delivery.
        subscribers_required=False,
    ),
    payment_rules=PaymentRules(
        max_amounts={"USD": "10000.00", "EUR": "10000.00", "GBP": "8000.00", "JPY": "1500000"},
        allowed_currencies=("USD", "EUR", "GBP", "JPY"),
        blocked_merchant_ids=("merchant-blocked",),
    ),
    xray_tracing=True,
    kms_deletion_window_days=7,
    tenancy=TenancyConfig(
        merchant_tiers=(
            MerchantTier(name="standard", rate_limit=10, burst_limit=20, daily_quota=5_000),
            MerchantTier(name="premium", rate_limit=25, burst_limit=50, daily_quota=20_000),
        ),
        authorizer_cache_ttl_seconds=0,
    ),
    # Off (dev and PR stacks hold synthetic data); the limit still clears the premium plan:
    # (25/s x 300 s + 50 burst) x 1.25 = 9,438.
    edge=EdgeConfig(waf_enabled=False, rate_limit_per_5_minutes=10_000, custom_domain_required=False),
    # Every minute: a dev stack holds few payments, and a lost one is recovered (and the e2e suite
    # sees it recovered) within a minute of turning stale rather than five.
    sweeper=SweeperConfig(interval_minutes=1),
)

STAGING = PlatformConfig(
    environment="staging",
    functions=FunctionsConfig(
        api=FunctionSettings(memory_mb=512, timeout_seconds=10, reserved_concurrency=20),
        workflow=FunctionSettings(memory_mb=512, timeout_seconds=30, reserved_concurrency=20),
        batch_ingest=FunctionSettings(memory_mb=1_024, timeout_seconds=300, reserved_concurrency=4),
        queue_consumer=FunctionSettings(memory_mb=512, timeout_seconds=30, reserved_concurrency=20),
        # One stream shard per invocation; a few more than the table's shards so a resharding
        # burst is not throttled (the mapping retries a throttled batch, lag shows in IteratorAge).
        workflow_starter=FunctionSettings(memory_mb=512, timeout_seconds=30, reserved_concurrency=5),
        authorizer=FunctionSettings(memory_mb=256, timeout_seconds=5, reserved_concurrency=50),
        sweeper=FunctionSettings(memory_mb=256, timeout_seconds=300, reserved_concurrency=1),
    ),
    log_retention_days=30,
    log_level="INFO",
    tables=TableConfig(billing_mode="PAY_PER_REQUEST"),
    batch_bucket=BatchBucketConfig(
        versioning=True,
        transition_to_ia_days=30,
        expiration_days=180,
        noncurrent_version_expiration_days=30,
    ),
    batch_workflow=BatchWorkflowConfig(
        records_per_chunk=500,
        max_concurrency=3,
        retry_interval_seconds=2,
        retry_backoff_rate=2.0,
        retry_max_delay_seconds=60,
        retry_max_attempts=5,
        chunk_progress_attempts=20,
        time_reserve_ms=10_000,
    ),
    queues=QueueConfig(
        visibility_timeout_seconds=180,
        max_receive_count=5,
        message_retention_seconds=345_600,
        dlq_retention_seconds=1_209_600,
        consumer_batch_size=10,
        consumer_batching_window_seconds=0,
        consumer_maximum_concurrency=10,
    ),
    api=ApiConfig(throttle_rate_limit=200, throttle_burst_limit=400, data_trace_enabled=False),
    alarms=AlarmConfig(
        evaluation_periods=2,
        period_seconds=60,
        lambda_error_threshold=5,
        lambda_throttle_threshold=5,
        api_5xx_threshold=5,
        api_p99_latency_ms=3_000,
        state_machine_failed_threshold=1,
        # Someone is paged: the deploy names whom (ALARM_SUBSCRIBERS), or synth refuses it.
        subscribers_required=True,
    ),
    payment_rules=PaymentRules(
        max_amounts={"USD": "50000.00", "EUR": "50000.00", "GBP": "40000.00", "JPY": "7500000"},
        allowed_currencies=("USD", "EUR", "GBP", "JPY"),
        blocked_merchant_ids=("merchant-blocked",),
    ),
    xray_tracing=True,
    kms_deletion_window_days=14,
    tenancy=TenancyConfig(
        merchant_tiers=(
            MerchantTier(name="standard", rate_limit=50, burst_limit=100, daily_quota=50_000),
            MerchantTier(name="premium", rate_limit=150, burst_limit=300, daily_quota=200_000),
        ),
        authorizer_cache_ttl_seconds=0,
    ),
    # Premium at its plan: (150/s x 300 s + 300 burst) x 1.25 = 56,625 requests per 5 minutes.
    edge=EdgeConfig(waf_enabled=True, rate_limit_per_5_minutes=60_000, custom_domain_required=True),
    sweeper=SweeperConfig(interval_minutes=5),
)

PROD = PlatformConfig(
    environment="prod",
    functions=FunctionsConfig(
        api=FunctionSettings(memory_mb=1_024, timeout_seconds=10, reserved_concurrency=100),
        workflow=FunctionSettings(memory_mb=1_024, timeout_seconds=30, reserved_concurrency=100),
        batch_ingest=FunctionSettings(memory_mb=2_048, timeout_seconds=300, reserved_concurrency=20),
        queue_consumer=FunctionSettings(memory_mb=1_024, timeout_seconds=30, reserved_concurrency=100),
        workflow_starter=FunctionSettings(memory_mb=1_024, timeout_seconds=30, reserved_concurrency=10),
        authorizer=FunctionSettings(memory_mb=256, timeout_seconds=5, reserved_concurrency=200),
        sweeper=FunctionSettings(memory_mb=512, timeout_seconds=300, reserved_concurrency=1),
    ),
    log_retention_days=365,
    log_level="INFO",
    tables=TableConfig(billing_mode="PAY_PER_REQUEST"),
    batch_bucket=BatchBucketConfig(
        versioning=True,
        transition_to_ia_days=30,
        expiration_days=2_555,
        noncurrent_version_expiration_days=90,
    ),
    batch_workflow=BatchWorkflowConfig(
        records_per_chunk=500,
        max_concurrency=16,
        retry_interval_seconds=2,
        retry_backoff_rate=2.0,
        retry_max_delay_seconds=60,
        retry_max_attempts=5,
        chunk_progress_attempts=20,
        time_reserve_ms=10_000,
    ),
    queues=QueueConfig(
        visibility_timeout_seconds=180,
        max_receive_count=5,
        message_retention_seconds=345_600,
        dlq_retention_seconds=1_209_600,
        consumer_batch_size=10,
        consumer_batching_window_seconds=0,
        consumer_maximum_concurrency=50,
    ),
    api=ApiConfig(throttle_rate_limit=1_000, throttle_burst_limit=2_000, data_trace_enabled=False),
    alarms=AlarmConfig(
        evaluation_periods=3,
        period_seconds=60,
        lambda_error_threshold=1,
        lambda_throttle_threshold=1,
        api_5xx_threshold=1,
        api_p99_latency_ms=1_500,
        state_machine_failed_threshold=1,
        # The on-call team's address and its paging webhook, from the deploy (ALARM_SUBSCRIBERS).
        subscribers_required=True,
    ),
    payment_rules=PaymentRules(
        max_amounts={"USD": "100000.00", "EUR": "100000.00", "GBP": "80000.00", "JPY": "15000000"},
        allowed_currencies=("USD", "EUR", "GBP", "JPY"),
        blocked_merchant_ids=(),
    ),
    xray_tracing=True,
    kms_deletion_window_days=30,
    tenancy=TenancyConfig(
        merchant_tiers=(
            MerchantTier(name="standard", rate_limit=200, burst_limit=400, daily_quota=500_000),
            MerchantTier(name="premium", rate_limit=500, burst_limit=1_000, daily_quota=2_000_000),
        ),
        authorizer_cache_ttl_seconds=0,
    ),
    # Premium at its plan: (500/s x 300 s + 1,000 burst) x 1.25 = 188,750 requests per 5 minutes.
    edge=EdgeConfig(waf_enabled=True, rate_limit_per_5_minutes=200_000, custom_domain_required=True),
    sweeper=SweeperConfig(interval_minutes=5),
)

_PRESETS: dict[str, PlatformConfig] = {"dev": DEV, "staging": STAGING, "prod": PROD}


def config_for(environment: str) -> PlatformConfig:
    """The preset for ``environment`` (dev, staging or prod)."""
    require_environment(environment, "ENVIRONMENT")
    return _PRESETS[environment]
