"""The three presets: dev (``lib/config/dev_preset.py``), staging and prod as dev with what they change.

A difference between environments is a different value of the same knob. What every
environment shares (on-demand tables, the batch workflow's retry timings, the queue's redrive
and retention, the payment rules' currencies, the functions' timeouts) is written once, in
``DEV``; staging and prod differ from it by one table (``_DIFFERENCES``: a row a knob, a column
an environment) that one function (``_preset``) applies, so a shared value cannot drift between
environments unseen. The slices and ``PlatformConfig``
(``lib/config/platform_config.py``) validate every preset, replaced ones included, when this
module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Generic, Literal, TypeVar

from lib.config.alarms import AlarmConfig
from lib.config.api import ApiConfig
from lib.config.backup import BackupConfig
from lib.config.checks import require_environment
from lib.config.dev_preset import DEV, amounts
from lib.config.disaster_recovery import DisasterRecoveryConfig
from lib.config.edge import EdgeConfig
from lib.config.events import EventsConfig
from lib.config.functions import FunctionsConfig, FunctionSettings
from lib.config.pacing import PacingConfig
from lib.config.platform_config import PlatformConfig
from lib.config.sweeper import SweeperConfig
from lib.config.tenancy import MerchantTier

T = TypeVar("T")


def _sized(functions: FunctionsConfig, **sizes: tuple[int, int] | FunctionSettings) -> FunctionsConfig:
    """``functions`` with each named function's (memory in MB, reserved concurrency), its timeout
    kept; or its settings in full where the timeout differs too."""
    resized = {
        name: size
        if isinstance(size, FunctionSettings)
        else replace(getattr(functions, name), memory_mb=size[0], reserved_concurrency=size[1])
        for name, size in sizes.items()
    }
    return replace(functions, **resized)


Environment = Literal["staging", "prod"]


@dataclass(frozen=True)
class _Both(Generic[T]):
    """One knob's value in staging and in prod, side by side."""

    staging: T
    prod: T

    def __getitem__(self, environment: Environment) -> T:
        return {"staging": self.staging, "prod": self.prod}[environment]


# Each function's (memory in MB, reserved concurrency) in staging and in prod, its timeout dev's.
_SIZES: dict[str, _Both[tuple[int, int]]] = {
    "api": _Both((512, 20), (1_024, 100)),
    "workflow": _Both((512, 20), (1_024, 100)),
    "batch_ingest": _Both((1_024, 4), (2_048, 20)),
    "queue_consumer": _Both((512, 20), (1_024, 100)),
    # One stream shard per invocation; a few more than the table's shards so a resharding
    # burst is not throttled (the mapping retries a throttled batch, lag shows in IteratorAge).
    "workflow_starter": _Both((512, 5), (1_024, 10)),
    "authorizer": _Both((256, 50), (256, 200)),
    "event_writer": _Both((256, 5), (256, 5)),
    "webhook_fanout": _Both((256, 5), (256, 10)),
    "webhook_delivery": _Both((256, 20), (256, 50)),
}
# A sweep may take up to 300 s of its five-minute interval (dev's: one minute of one).
_SWEEPER_MEMORY_MB = _Both(256, 512)

# Someone is paged: the deploy names whom (ALARM_SUBSCRIBERS), or synth refuses it.
_STAGING_ALARMS = replace(DEV.alarms, evaluation_periods=2, period_seconds=60, subscribers_required=True)
# The on-call team's address and its paging webhook, from the deploy (ALARM_SUBSCRIBERS); any
# error, throttle or 5xx pages, and p99 is held to half of staging's.
_PROD_ALARMS = replace(
    _STAGING_ALARMS,
    evaluation_periods=3,
    lambda_error_threshold=1,
    lambda_throttle_threshold=1,
    api_5xx_threshold=1,
    api_p99_latency_ms=1_500,
)
# 20 reserved x 0.7 = 14 payment executions in flight; starts at most 150 a second (half the
# account's StartExecution refill), 30 per starter (5 reserved).
_STAGING_PACING = replace(DEV.pacing, account_share=0.5, workflow_utilization=0.7, starter_batch_seconds=5)
# 100 reserved x 0.7 = 70 payment executions in flight; starts at most 240 a second (StartExecution's
# 300 x 0.8; 5,000 transitions x 0.8 / 5 = 800 is higher), 24 per starter (10 reserved).
_PROD_PACING = replace(_STAGING_PACING, account_share=0.8)
# Daily at 03:00 UTC into the account's vault, kept as long as PITR's longest window; no copy
# out of the region (staging has no DR region: its data can be rebuilt, prod's cannot).
_STAGING_BACKUP = replace(DEV.backup, enabled=True)
# A year of daily recovery points, cold after 90 days (cheaper; a restore from cold storage
# takes hours, acceptable for points that old), each copied to the DR region's vault.
_PROD_BACKUP = replace(_STAGING_BACKUP, retention_days=365, cold_storage_after_days=90)


@dataclass(frozen=True)
class _Differences:
    """What staging and prod set apart from dev, each knob a row of both environments' values."""

    log_retention_days: _Both[int]
    # Days until a batch file, and then a replaced version of it, expires.
    expiration_days: _Both[tuple[int, int]]
    batch_max_concurrency: _Both[int]
    consumer_maximum_concurrency: _Both[int]
    # API stage throttle: (rate limit, burst limit).
    throttle: _Both[tuple[int, int]]
    alarms: _Both[AlarmConfig]
    max_amounts: _Both[dict[str, str]]
    blocked_merchant_ids: _Both[tuple[str, ...]]
    kms_deletion_window_days: _Both[int]
    merchant_tiers: _Both[tuple[MerchantTier, ...]]
    waf_rate_limit_per_5_minutes: _Both[int]
    pacing: _Both[PacingConfig]
    disaster_recovery: _Both[DisasterRecoveryConfig]
    backup: _Both[BackupConfig]


_DIFFERENCES = _Differences(
    log_retention_days=_Both(30, 365),
    expiration_days=_Both((180, 30), (2_555, 90)),
    batch_max_concurrency=_Both(3, 16),
    consumer_maximum_concurrency=_Both(10, 50),
    throttle=_Both((200, 400), (1_000, 2_000)),
    alarms=_Both(_STAGING_ALARMS, _PROD_ALARMS),
    max_amounts=_Both(
        amounts(usd="50000.00", eur="50000.00", gbp="40000.00", jpy="7500000"),
        amounts(usd="100000.00", eur="100000.00", gbp="80000.00", jpy="15000000"),
    ),
    # No test merchant is blocked in prod.
    blocked_merchant_ids=_Both(DEV.payment_rules.blocked_merchant_ids, ()),
    kms_deletion_window_days=_Both(14, 30),
    merchant_tiers=_Both(
        (
            MerchantTier(name="standard", rate_limit=50, burst_limit=100, daily_quota=50_000),
            MerchantTier(name="premium", rate_limit=150, burst_limit=300, daily_quota=200_000),
        ),
        (
            MerchantTier(name="standard", rate_limit=200, burst_limit=400, daily_quota=500_000),
            MerchantTier(name="premium", rate_limit=500, burst_limit=1_000, daily_quota=2_000_000),
        ),
    ),
    # Premium at its plan: staging (150/s x 300 s + 300 burst) x 1.25 = 56,625 requests per
    # 5 minutes; prod (500/s x 300 s + 1,000 burst) x 1.25 = 188,750.
    waf_rate_limit_per_5_minutes=_Both(60_000, 200_000),
    pacing=_Both(_STAGING_PACING, _PROD_PACING),
    # Prod: a copy of the data in another region, and the same stack deployable there
    # (docs/disaster-recovery.md); replication time control puts S3's 15-minute SLA under the batch
    # files' recovery point.
    disaster_recovery=_Both(
        DEV.disaster_recovery,
        replace(DEV.disaster_recovery, dr_region="us-west-2", bucket_replication_time_control=True),
    ),
    backup=_Both(_STAGING_BACKUP, _PROD_BACKUP),
)


def _preset(environment: Environment, differences: _Differences = _DIFFERENCES) -> PlatformConfig:
    """Dev with ``environment``'s column of ``differences``, and what staging and prod share."""
    d = differences
    sizes = {name: size[environment] for name, size in _SIZES.items()}
    sweeper = FunctionSettings(memory_mb=_SWEEPER_MEMORY_MB[environment], timeout_seconds=300, reserved_concurrency=1)
    expiration, noncurrent_expiration = d.expiration_days[environment]
    rate_limit, burst_limit = d.throttle[environment]
    return replace(
        DEV,
        environment=environment,
        functions=_sized(DEV.functions, sweeper=sweeper, **sizes),
        log_retention_days=d.log_retention_days[environment],
        # Every five minutes (dev sweeps every minute).
        sweeper=SweeperConfig(interval_minutes=5),
        log_level="INFO",
        batch_bucket=replace(
            DEV.batch_bucket, expiration_days=expiration, noncurrent_version_expiration_days=noncurrent_expiration
        ),
        batch_workflow=replace(DEV.batch_workflow, max_concurrency=d.batch_max_concurrency[environment]),
        queues=replace(DEV.queues, consumer_maximum_concurrency=d.consumer_maximum_concurrency[environment]),
        api=ApiConfig(throttle_rate_limit=rate_limit, throttle_burst_limit=burst_limit),
        alarms=d.alarms[environment],
        payment_rules=replace(
            DEV.payment_rules,
            max_amounts=d.max_amounts[environment],
            blocked_merchant_ids=d.blocked_merchant_ids[environment],
        ),
        kms_deletion_window_days=d.kms_deletion_window_days[environment],
        tenancy=replace(DEV.tenancy, merchant_tiers=d.merchant_tiers[environment]),
        edge=EdgeConfig(
            waf_enabled=True,
            rate_limit_per_5_minutes=d.waf_rate_limit_per_5_minutes[environment],
            custom_domain_required=True,
        ),
        events=EventsConfig(retention_days=30),
        # Retries for 3 days: 30 s, 1 min, 2 min, ... doubling to a 6 h ceiling (each jittered).
        webhooks=replace(
            DEV.webhooks, horizon_seconds=3 * 24 * 3600, backoff_base_seconds=30, backoff_cap_seconds=21_600
        ),
        pacing=d.pacing[environment],
        disaster_recovery=d.disaster_recovery[environment],
        backup=d.backup[environment],
    )


STAGING = _preset("staging")
PROD = _preset("prod")

_PRESETS: dict[str, PlatformConfig] = {"dev": DEV, "staging": STAGING, "prod": PROD}


def config_for(environment: str) -> PlatformConfig:
    """The preset for ``environment`` (dev, staging or prod)."""
    require_environment(environment, "ENVIRONMENT")
    return _PRESETS[environment]
