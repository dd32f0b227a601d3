"""Config presets and their validation: every bad knob fails with a message naming it."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from lib.config import (
    ENVIRONMENTS,
    AlarmConfig,
    ApiConfig,
    BatchBucketConfig,
    EdgeConfig,
    FunctionSettings,
    MerchantTier,
    PaymentRules,
    QueueConfig,
    TableConfig,
    TenancyConfig,
    config_for,
)


def test_presets_exist_for_every_environment_and_name_themselves() -> None:
    assert [config_for(env).environment for env in ENVIRONMENTS] == ["dev", "staging", "prod"]


def test_presets_are_frozen() -> None:
    with pytest.raises(AttributeError):
        config_for("dev").log_retention_days = 1  # type: ignore[misc]


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^ENVIRONMENT must be one of dev, staging, prod, got 'qa'$"):
        config_for("qa")


def test_prod_is_sized_and_guarded_beyond_dev() -> None:
    dev, prod = config_for("dev"), config_for("prod")
    assert prod.functions.api.memory_mb > dev.functions.api.memory_mb
    assert prod.log_retention_days == 365 and dev.log_retention_days == 14
    assert prod.batch_bucket.expiration_days > dev.batch_bucket.expiration_days


def test_every_preset_keeps_the_guards_a_payment_platform_needs() -> None:
    for config in map(config_for, ENVIRONMENTS):
        # On demand: a batch burst is never throttled (provisioned would need autoscaling too).
        assert config.tables.billing_mode == "PAY_PER_REQUEST"
        assert config.batch_bucket.versioning
        # Data trace would log whole payment requests.
        assert not config.api.data_trace_enabled


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: FunctionSettings(64, 10, 1), "memory_mb must be between 128 and 10240, got 64"),
        (lambda: FunctionSettings(128, 901, 1), "timeout_seconds must be between 1 and 900, got 901"),
        (lambda: FunctionSettings(128, 10, 0), "reserved_concurrency must be None or at least 1, got 0"),
        (
            lambda: TableConfig("ON_DEMAND"),  # type: ignore[arg-type]
            "billing_mode must be PAY_PER_REQUEST or PROVISIONED, got 'ON_DEMAND'",
        ),
        (
            lambda: TableConfig("PROVISIONED", 0, 5),
            "read_capacity and write_capacity must be at least 1 when billing_mode is PROVISIONED, got 0 and 5",
        ),
        (
            lambda: TableConfig("PAY_PER_REQUEST", 5, 5),
            "read_capacity and write_capacity must be 0 when billing_mode is PAY_PER_REQUEST",
        ),
        (lambda: BatchBucketConfig(True, 10, 90, 7), "transition_to_ia_days must be at least 30, got 10"),
        (
            lambda: BatchBucketConfig(True, 30, 30, 7),
            "expiration_days must be greater than transition_to_ia_days, got 30 <= 30",
        ),
        (
            lambda: BatchBucketConfig(True, 30, 90, 0),
            "noncurrent_version_expiration_days must be at least 1, got 0",
        ),
        (
            lambda: QueueConfig(50_000, 5, 345_600, 1_209_600, 10, 0, 5),
            "visibility_timeout_seconds must be between 0 and 43200, got 50000",
        ),
        (
            lambda: QueueConfig(180, 0, 345_600, 1_209_600, 10, 0, 5),
            "max_receive_count must be between 1 and 1000, got 0",
        ),
        (
            lambda: QueueConfig(180, 3, 345_600, 1_209_600, 10, 0, 5),
            "max_receive_count must be at least 5 (a throttled batch counts as a receive), got 3",
        ),
        (
            lambda: QueueConfig(180, 5, 345_600, 1_209_600, 10, 0, 1),
            "consumer_maximum_concurrency must be between 2 and 1000, got 1",
        ),
        (
            lambda: QueueConfig(180, 5, 30, 1_209_600, 10, 0, 5),
            "message_retention_seconds must be between 60 and 1209600, got 30",
        ),
        (
            lambda: QueueConfig(180, 5, 345_600, 60, 10, 0, 5),
            "dlq_retention_seconds must be at least message_retention_seconds",
        ),
        (
            lambda: QueueConfig(180, 5, 345_600, 1_209_600, 11, 0, 5),
            "consumer_batch_size must be between 1 and 10, got 11",
        ),
        (
            lambda: QueueConfig(180, 5, 345_600, 1_209_600, 10, 301, 5),
            "consumer_batching_window_seconds must be between 0 and 300, got 301",
        ),
        (lambda: ApiConfig(0, 10, False), "throttle_rate_limit must be positive, got 0"),
        (lambda: ApiConfig(1, 0, False), "throttle_burst_limit must be at least 1, got 0"),
        (lambda: MerchantTier("gold", 1, 1, 0), "merchant tier gold: daily_quota must be at least 1, got 0"),
        (lambda: MerchantTier("gold", 0, 1, 1), "merchant tier gold: rate_limit must be positive, got 0"),
        (lambda: MerchantTier("gold", 1, 0, 1), "merchant tier gold: burst_limit must be at least 1, got 0"),
        (lambda: MerchantTier("Gold!", 1, 1, 1), "merchant tier name must match [a-z0-9-]{1,32}, got 'Gold!'"),
        (lambda: TenancyConfig((), 0), "merchant_tiers must not be empty"),
        (
            lambda: TenancyConfig((MerchantTier("a", 1, 1, 1), MerchantTier("a", 2, 2, 2)), 0),
            "merchant tier names must be unique, got ['a', 'a']",
        ),
        (
            lambda: TenancyConfig((MerchantTier("a", 1, 1, 1),), 3601),
            "authorizer_cache_ttl_seconds must be between 0 and 3600, got 3601",
        ),
        (lambda: EdgeConfig(True, 5, True), "rate_limit_per_5_minutes must be between 10 and 2000000000, got 5"),
        (lambda: AlarmConfig(0, 60, 1, 1, 1, 1, 1), "evaluation_periods must be at least 1, got 0"),
        (lambda: AlarmConfig(1, 45, 1, 1, 1, 1, 1), "period_seconds must be 10, 30 or a multiple of 60, got 45"),
        (lambda: AlarmConfig(1, 60, 0, 1, 1, 1, 1), "lambda_error_threshold must be at least 1, got 0"),
        (lambda: AlarmConfig(1, 60, 1, 1, 1, 0, 1), "api_p99_latency_ms must be at least 1, got 0"),
        (
            lambda: PaymentRules({"USD": "abc"}, ("USD",)),
            "max_amounts[USD] must be a positive decimal string, got 'abc'",
        ),
        (
            lambda: PaymentRules({"USD": "-5"}, ("USD",)),
            "max_amounts[USD] must be a positive decimal string, got '-5'",
        ),
        (lambda: PaymentRules({"USD": "10"}, ("USD", "JPY")), "max_amounts has no maximum for JPY"),
        (lambda: PaymentRules({"USD": "10"}, ()), "allowed_currencies must not be empty"),
        (lambda: PaymentRules({"usd": "10"}, ("usd",)), "allowed_currencies must hold ISO-4217 codes, got 'usd'"),
        (
            lambda: PaymentRules({"USD": "10"}, ("USD",), ("bad id!",)),
            "blocked_merchant_ids holds an invalid merchant id: 'bad id!'",
        ),
    ],
)
def test_invalid_knob_is_refused_with_its_name(build, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError) as refused:
        build()
    assert str(refused.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"environment": "qa"}, "environment must be one of dev, staging, prod, got 'qa'"),
        ({"log_retention_days": 10}, "log_retention_days must be one of CloudWatch's retention periods, got 10"),
        ({"kms_deletion_window_days": 5}, "kms_deletion_window_days must be between 7 and 30, got 5"),
        # Across slices: the queue must hide a message longer than its consumer runs.
        (
            {"queues": replace(config_for("dev").queues, visibility_timeout_seconds=60)},
            "queues.visibility_timeout_seconds must be at least 6 x the queue_consumer timeout (180), got 60",
        ),
    ],
)
def test_invalid_platform_knob_is_refused(change: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        replace(config_for("dev"), **change)  # type: ignore[arg-type]
    assert str(refused.value) == message


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_waf_may_not_block_a_merchant_within_its_plan(environment: str) -> None:
    """A merchant at its plan sends a full burst plus its rate for the whole 5-minute window."""
    config = config_for(environment)
    premium = max(config.tenancy.merchant_tiers, key=lambda tier: tier.rate_limit)
    at_plan = premium.burst_limit + premium.rate_limit * 300
    assert config.edge.rate_limit_per_5_minutes >= at_plan * 1.25
    needed = math.ceil(at_plan * 1.25)
    with pytest.raises(ValueError) as refused:
        replace(config, edge=replace(config.edge, rate_limit_per_5_minutes=needed - 1))
    assert str(refused.value) == (
        f"edge.rate_limit_per_5_minutes must be at least {needed} so WAF never blocks a merchant within its plan "
        f"(tenancy.merchant_tiers premium: rate_limit {premium.rate_limit:g}/s over 300 s plus burst_limit "
        f"{premium.burst_limit}, with 1.25x headroom), got {needed - 1}"
    )
    # Exactly the bound is accepted; a faster tier raises it.
    replace(config, edge=replace(config.edge, rate_limit_per_5_minutes=needed))
    faster = replace(premium, name="platinum", rate_limit=premium.rate_limit * 2)
    with pytest.raises(ValueError, match=r"tenancy\.merchant_tiers platinum"):
        replace(config, tenancy=replace(config.tenancy, merchant_tiers=(*config.tenancy.merchant_tiers, faster)))


def test_prod_waf_bound_is_the_premium_plan_with_headroom() -> None:
    # 500/s x 300 s + 1,000 burst = 151,000; x 1.25 = 188,750 (the preset keeps 200,000).
    with pytest.raises(ValueError, match=r"at least 188750 .* got 188749$"):
        prod = config_for("prod")
        replace(prod, edge=replace(prod.edge, rate_limit_per_5_minutes=188_749))


def test_waf_off_checks_no_plan() -> None:
    dev = config_for("dev")
    assert dev.edge.waf_enabled is False
    replace(dev, edge=replace(dev.edge, rate_limit_per_5_minutes=10))


def test_dev_reserves_no_concurrency_and_every_queue_survives_throttling() -> None:
    # A new account (10 or 50 concurrent executions) refuses reservations per PR stack.
    dev = config_for("dev")
    assert {name: settings.reserved_concurrency for name, settings in dev.functions.by_name().items()} == {
        "api": None,
        "workflow": None,
        "batch_ingest": None,
        "queue_consumer": None,
        "workflow_starter": None,
        "authorizer": None,
        "sweeper": None,
        "event_writer": None,
        "webhook_fanout": None,
        "webhook_delivery": None,
    }
    assert all(config_for(env).queues.max_receive_count >= 5 for env in ENVIRONMENTS)


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_staging_and_prod_reserve_concurrency_for_every_function(environment: str) -> None:
    # A shared account's burst elsewhere must not starve a payment function (checkov CKV_AWS_115).
    functions = config_for(environment).functions.by_name()
    assert [name for name, settings in functions.items() if settings.reserved_concurrency is None] == []


@pytest.mark.parametrize("function", ["queue_consumer", "workflow"])
def test_the_mapping_may_not_run_more_batches_than_a_reserved_function_takes(function: str) -> None:
    prod = config_for("prod")
    sized = replace(getattr(prod.functions, function), reserved_concurrency=10)
    with pytest.raises(ValueError) as refused:
        replace(prod, functions=replace(prod.functions, **{function: sized}))
    assert str(refused.value) == (
        f"queues.consumer_maximum_concurrency must be at most functions.{function}.reserved_concurrency (10), got 50"
    )


@pytest.mark.parametrize("reserved", [1, 1_001])
def test_the_webhook_delivery_reservation_must_fit_its_queue_mappings_bounds(reserved: int) -> None:
    prod = config_for("prod")
    sized = replace(prod.functions.webhook_delivery, reserved_concurrency=reserved)
    with pytest.raises(ValueError) as refused:
        replace(prod, functions=replace(prod.functions, webhook_delivery=sized))
    assert str(refused.value) == (
        "functions.webhook_delivery.reserved_concurrency must be None or between 2 and 1000 "
        f"(its queue mapping's maximum concurrency), got {reserved}"
    )


def test_staging_and_prod_take_none_of_devs_own_choices() -> None:
    # Staging and prod are dev with what differs (presets.py): a dev-only choice must not leak.
    dev = config_for("dev")
    for preset in (config_for("staging"), config_for("prod")):
        assert all(settings.reserved_concurrency for settings in preset.functions.by_name().values())
        assert preset.log_level == "INFO"
        assert preset.alarms.subscribers_required
        assert preset.edge.waf_enabled and preset.edge.custom_domain_required
        assert preset.batch_bucket.expiration_days > dev.batch_bucket.expiration_days
        assert preset.kms_deletion_window_days > dev.kms_deletion_window_days
    assert config_for("prod").payment_rules.blocked_merchant_ids == ()


def test_the_processor_connector_must_be_one_the_lambda_package_can_build() -> None:
    from lib.config import ProcessorConfig

    with pytest.raises(ValueError, match=r"^processor\.connector must be one of simulator, got 'stripe'$"):
        ProcessorConfig(connector="stripe", authorization_window_seconds=3600)
    with pytest.raises(
        ValueError, match=r"^processor\.authorization_window_seconds must be between 60 and 2592000, got 59$"
    ):
        ProcessorConfig(connector="simulator", authorization_window_seconds=59)
    assert {config_for(name).processor.connector for name in ("dev", "staging", "prod")} == {"simulator"}
