"""The dev preset, written out in full: every knob's value, and the one staging and prod start from.

What every environment shares (on-demand tables, the batch workflow's retry timings, the queue's
redrive and retention, the payment rules' currencies, the functions' timeouts) is written once,
here; ``lib/config/presets.py`` makes staging and prod from it by their differences.
"""

from __future__ import annotations

from lib.config.alarms import AlarmConfig
from lib.config.api import ApiConfig
from lib.config.backup import BackupConfig
from lib.config.batch_bucket import BatchBucketConfig
from lib.config.batch_workflow import BatchWorkflowConfig
from lib.config.disaster_recovery import DisasterRecoveryConfig
from lib.config.edge import EdgeConfig
from lib.config.events import EventsConfig
from lib.config.functions import FunctionsConfig, FunctionSettings
from lib.config.pacing import PacingConfig
from lib.config.payment_rules import PaymentRules
from lib.config.platform_config import PlatformConfig
from lib.config.processor import ProcessorConfig
from lib.config.queues import QueueConfig
from lib.config.sweeper import SweeperConfig
from lib.config.tables import TableConfig
from lib.config.tenancy import MerchantTier, TenancyConfig
from lib.config.webhooks import WebhooksConfig


def amounts(usd: str, eur: str, gbp: str, jpy: str) -> dict[str, str]:
    """Per-payment maximum by currency (PaymentRules.max_amounts)."""
    return {"USD": usd, "EUR": eur, "GBP": gbp, "JPY": jpy}


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
        event_writer=FunctionSettings(memory_mb=256, timeout_seconds=30),
        webhook_fanout=FunctionSettings(memory_mb=256, timeout_seconds=30),
        # One attempt: resolution, connect, TLS and the answer, each bounded by 10 s.
        webhook_delivery=FunctionSettings(memory_mb=256, timeout_seconds=45),
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
    api=ApiConfig(throttle_rate_limit=50, throttle_burst_limit=100),
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
        max_amounts=amounts(usd="10000.00", eur="10000.00", gbp="8000.00", jpy="1500000"),
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
    events=EventsConfig(retention_days=7),
    # The simulator until a real processor's connector exists (payment_core.payments.connector).
    processor=ProcessorConfig(connector="simulator", authorization_window_seconds=7 * 24 * 3600),
    # Unreserved workflow: 50 of the account's unreserved pool counted on (PR stacks share it),
    # at half use: 25 payment executions in flight, so the e2e suite's bursts (the chaos test's
    # ~420 payments) are bounded by the emulator, not the slots; starts at most 30 a second (10%
    # of the account's StartExecution refill).
    pacing=PacingConfig(
        start_execution_refill_per_second=300,
        state_transition_refill_per_second=5_000,
        account_share=0.1,
        workflow_utilization=0.5,
        unreserved_workflow_concurrency=50,
        unreserved_starter_concurrency=1,
        starter_batch_seconds=2,
        throttle_retry_base_ms=100,
        throttle_retry_max_ms=5_000,
    ),
    # No DR region: dev and PR stacks hold synthetic data (and a stack can still be deployed to any
    # region with AWS_REGION).
    disaster_recovery=DisasterRecoveryConfig(primary_region="us-east-1", dr_region=None),
    # Dev gives up on a dead endpoint within an hour (a demo or e2e run sees it disabled);
    # staging and prod retry for 3 days, as merchants expect.
    webhooks=WebhooksConfig(
        horizon_seconds=3_600, backoff_base_seconds=5, backoff_cap_seconds=600, secret_overlap_seconds=86_400
    ),
    # Off: dev and PR stacks hold synthetic data, and their tables keep point-in-time recovery.
    # The schedule and retention are staging's and prod's when they turn it on.
    backup=BackupConfig(enabled=False, schedule="cron(0 3 * * ? *)", retention_days=35),
)
