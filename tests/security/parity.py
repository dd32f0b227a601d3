"""What the parity tests compare: the knobs that may differ between dev, staging and prod (each
mapped to the config field that sets it), and the synthesized stacks and configs flattened so
they can be compared property by property."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass
from typing import Any

from lib.config import ENVIRONMENTS, PlatformConfig, config_for
from tests.unit.synth import SynthesizedStack

# Functions' environment variables, by name (the webhook retry schedule among them).
_FUNCTION_ENVIRONMENT_KNOBS = {
    "POWERTOOLS_LOG_LEVEL": "log_level",
    "MAX_PAYMENT_AMOUNT": "payment_rules.max_amounts_setting|payment_rules.max_amounts",
    "BLOCKED_MERCHANT_IDS": "payment_rules.blocked_merchant_ids",
    "EVENT_RETENTION_DAYS": "events.retention_days",
    "START_INTERVAL_MS": "start_pacing.start_interval_ms",
    "IN_FLIGHT_LIMIT": "start_pacing.in_flight_limit",
    "WEBHOOK_HORIZON_SECONDS": "webhooks.horizon_seconds",
    "WEBHOOK_BACKOFF_BASE_SECONDS": "webhooks.backoff_base_seconds",
    "WEBHOOK_BACKOFF_CAP_SECONDS": "webhooks.backoff_cap_seconds",
}
# Resource type -> property path ([] stands for any list index) -> the config field that sets
# it ("*" for the function it belongs to; "|" between fields that may each set it). Nothing
# else may differ between environments.
_KNOBS_BY_TYPE: dict[str, dict[str, str]] = {
    "aws_lambda_function": {
        "memory_size": "functions.*.memory_mb",
        "timeout": "functions.*.timeout_seconds",
        "reserved_concurrent_executions": "functions.*.reserved_concurrency",
        **{f"environment.variables.{name}": field for name, field in _FUNCTION_ENVIRONMENT_KNOBS.items()},
    },
    "aws_scheduler_schedule": {"schedule_expression": "sweeper.interval_minutes"},
    "aws_lambda_event_source_mapping": {
        "batch_size": "start_pacing.batch_size",
        # The webhook delivery mapping's is its function's reservation (absent where none: dev).
        "scaling_config.maximum_concurrency": (
            "queues.consumer_maximum_concurrency|functions.webhook_delivery.reserved_concurrency"
        ),
    },
    "aws_cloudwatch_log_group": {"retention_in_days": "log_retention_days"},
    "aws_kms_key": {"deletion_window_in_days": "kms_deletion_window_days"},
    "aws_s3_bucket_lifecycle_configuration": {
        "rule[].expiration[].days": "batch_bucket.expiration_days",
        "rule[].noncurrent_version_expiration[].noncurrent_days": "batch_bucket.noncurrent_version_expiration_days",
    },
    # max_receive_count is 5 in every preset now (a throttled batch counts as a receive); the
    # webhook delivery queue's redrive threshold is derived from its retry schedule.
    "aws_sqs_queue": {"redrive_policy": "webhooks.max_receive_count"},
    # The batch-file map's MaxConcurrency, inside the state machine definition.
    "aws_sfn_state_machine": {"definition": "batch_workflow.max_concurrency"},
    # Off where the API is served on its custom domain (TLS 1.2) instead.
    "aws_api_gateway_rest_api": {"disable_execute_api_endpoint": "edge.custom_domain_required"},
    "aws_api_gateway_method_settings": {
        "settings.throttling_rate_limit": "api.throttle_rate_limit",
        "settings.throttling_burst_limit": "api.throttle_burst_limit",
    },
    "aws_api_gateway_usage_plan": {
        "throttle_settings.rate_limit": "tenancy.merchant_tiers[].rate_limit",
        "throttle_settings.burst_limit": "tenancy.merchant_tiers[].burst_limit",
        "quota_settings.limit": "tenancy.merchant_tiers[].daily_quota",
    },
    "aws_cloudwatch_metric_alarm": {
        "evaluation_periods": "alarms.evaluation_periods",
        "period": "alarms.period_seconds",
        # Each alarm's threshold comes from its own field; the ones that differ between presets
        # (the oldest-open alarm's is derived from the sweeper's interval):
        "threshold": "alarms.lambda_error_threshold|alarms.lambda_throttle_threshold|alarms.api_5xx_threshold"
        "|alarms.api_p99_latency_ms|sweeper.interval_minutes",
    },
}
# (resource type, property path) -> the config field(s) that set it.
KNOBS: dict[tuple[str, str], str] = {
    (resource_type, path): field for resource_type, paths in _KNOBS_BY_TYPE.items() for path, field in paths.items()
}


# Config lists that become one resource per item: their addresses differ between environments by
# design. (resource type, address prefix) -> the list; the count must match it exactly.
LIST_KNOBS: dict[tuple[str, str], str] = {
    ("aws_sns_topic_subscription", "platform_monitoring_alarm_subscriber_"): "alarms.subscribers",
}


def list_knob_item(address: tuple[str, ...]) -> bool:
    return len(address) == 3 and any(
        address[1] == resource_type and address[2].startswith(prefix) for resource_type, prefix in LIST_KNOBS
    )


# Resources that exist only where a boolean knob is on: the one exception to "same addresses",
# checked separately (present exactly where the knob is on). Their properties are then
# compared only between the environments that have them.
GATED: dict[str, str] = {  # address prefix -> knob
    "platform_edge_": "edge.waf_enabled",
    "platform_api_custom_domain": "edge.custom_domain_required",
    "platform_disaster_recovery_": "disaster_recovery.enabled",
    "platform_backups_": "backup.enabled",
    # S3 publishes ReplicationLatency only with the rule's metrics, which RTC turns on.
    "platform_monitoring_payment_batch_replication_latency": "disaster_recovery.bucket_replication_time_control",
}
# Config fields that only reach gated resources (compared where they exist: staging and prod).
GATED_FIELDS = {
    "edge.waf_enabled",
    "edge.rate_limit_per_5_minutes",
    "edge.custom_domain_required",
    "disaster_recovery.dr_region",
    "disaster_recovery.bucket_replication_time_control",
    "backup.enabled",
    "backup.schedule",
    "backup.retention_days",
    "backup.cold_storage_after_days",
}
# What the DR region adds outside its gated resources: the second provider and the tables' replica
# blocks (checked where they exist by tests/security/test_dr_parity.py).
DR_PATHS = re.compile(r"provider\.aws\[\]\..*|aws_dynamodb_table\.replica\[\]\..*")
# Outputs that exist, or change, only where the custom domain does: the URL is then the domain's.
DOMAIN_OUTPUTS = {"api_endpoint_url.value", "api_domain_target.value", "api_domain_zone_id.value"}


def is_gated(address: tuple[str, ...]) -> bool:
    return len(address) == 3 and any(address[2].startswith(prefix) for prefix in GATED)


def stack_suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def normalized(value: Any, suffix: str) -> Any:
    """The suffix (here equal to the environment name) replaced by a placeholder."""
    if isinstance(value, str):
        value = value.replace(f"TapStack{suffix}", "TapStack<suffix>")
        return re.sub(rf"(?<![A-Za-z0-9]){re.escape(suffix)}(?![A-Za-z0-9])", "<suffix>", value)
    if isinstance(value, dict):
        return {k: normalized(v, suffix) for k, v in value.items() if k != "//"}  # "//" is cdktf metadata
    if isinstance(value, list):
        return [normalized(v, suffix) for v in value]
    return value


def flat_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from flat_leaves(child, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from flat_leaves(child, f"{path}[{index}]")
    else:
        yield path, value


def stack_blocks(stack: SynthesizedStack) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every resource and data source by address, plus the top-level blocks, flattened."""
    suffix = stack_suffix(stack)
    blocks: dict[tuple[str, ...], dict[str, Any]] = {}
    for block, content in stack.document.items():
        if block in ("resource", "data"):
            for resource_type, resources in content.items():
                for name, body in resources.items():
                    blocks[(block, resource_type, name)] = dict(flat_leaves(normalized(body, suffix)))
        elif block != "//":
            blocks[(block,)] = dict(flat_leaves(normalized(content, suffix)))
    return blocks


def environment_stacks(stacks: dict[str, SynthesizedStack]) -> dict[str, SynthesizedStack]:
    return {env: stacks[env] for env in ENVIRONMENTS}


def differences(stacks: dict[str, SynthesizedStack]) -> dict[tuple[str, str], list[str]]:
    """(resource type, property path) -> where it differs, with each environment's value."""
    per_env = {env: stack_blocks(stack) for env, stack in environment_stacks(stacks).items()}
    found: dict[tuple[str, str], list[str]] = {}
    for address in per_env["dev"]:
        leaves = [per_env[env].get(address, {}) for env in ENVIRONMENTS]
        for path in sorted(set().union(*leaves)):
            values = [env_leaves.get(path, "<absent>") for env_leaves in leaves]
            if len({repr(v) for v in values}) > 1:
                key = (address[1] if len(address) > 1 else address[0], re.sub(r"\[\d+\]", "[]", path))
                shown = ", ".join(f"{env}={v!r}" for env, v in zip(ENVIRONMENTS, values, strict=True))
                found.setdefault(key, []).append(f"{'.'.join(address)}.{path}: {shown}")
    return found


def config_values(config: PlatformConfig, field_path: str) -> list[Any]:
    values: list[Any] = [config]
    for part in field_path.split("."):
        if part.endswith("[]"):  # each element of a tuple field
            values = [item for value in values for item in getattr(value, part[:-2])]
        elif part == "*":
            values = [v for value in values for v in (getattr(value, f.name) for f in fields(value))]
        else:
            values = [getattr(value, part) for value in values]
    return values


def rendered(value: Any) -> str:
    return ",".join(value) if isinstance(value, tuple) else str(value)


def differing_values(stacks: dict[str, SynthesizedStack], resource_type: str, path: str) -> dict[str, list[Any]]:
    """Each environment's values at ``path`` of the ``resource_type`` resources where they differ."""
    pattern = re.compile(re.escape(path).replace(r"\[\]", r"\[\d+\]"))
    leaves = {env: stacks[env].resources(resource_type) for env in ENVIRONMENTS}
    found: dict[str, list[Any]] = {env: [] for env in ENVIRONMENTS}
    for name in leaves["dev"]:
        per_env = {env: dict(flat_leaves(leaves[env][name])) for env in ENVIRONMENTS}
        # A knob may be absent where its config value is None (dev reserves no concurrency).
        for leaf in sorted(set().union(*per_env.values())):
            values = {env: per_env[env].get(leaf) for env in ENVIRONMENTS}
            if pattern.fullmatch(leaf) and len({repr(v) for v in values.values()}) > 1:
                for env, value in values.items():
                    found[env].append(value)
    return found


def config_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if is_dataclass(value):
        for f in fields(value):
            yield from config_leaves(getattr(value, f.name), f"{path}.{f.name}" if path else f.name)
    elif isinstance(value, tuple) and value and is_dataclass(value[0]):
        for item in value:
            yield from config_leaves(item, f"{path}[]")
    else:
        yield path, value


def config_leaves_by_path(config: PlatformConfig) -> dict[str, list[Any]]:
    """Config leaves by path; a tuple of dataclasses contributes all its elements' values."""
    found: dict[str, list[Any]] = {}
    for path, value in config_leaves(config):
        found.setdefault(path, []).append(value)
    return found


def differing_config_fields() -> set[str]:
    per_env = [dict(config_leaves_by_path(config_for(env))) for env in ENVIRONMENTS]
    return {
        # functions.api.memory_mb and its siblings are declared once as functions.*.memory_mb
        re.sub(r"^functions\.[a-z_]+\.", "functions.*.", path)
        # A list knob's paths exist only where the list has items (alarms.subscribers[].endpoint).
        for path in set().union(*per_env)
        if len({repr(leaves.get(path)) for leaves in per_env}) > 1
    }


# The environment's name is in names and tags, which the comparison above normalizes;
# subscribers_required refuses a synth (staging and prod without ALARM_SUBSCRIBERS), it builds nothing.
NOT_IN_THE_STACK = {"environment", "alarms.subscribers_required"}
VIA_START_PACING = {"pacing.account_share", "pacing.workflow_utilization", "pacing.starter_batch_seconds"}  # derived
