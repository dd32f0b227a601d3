"""Encryption at rest with the one CMK, TLS-only access, and stacks that destroy cleanly."""

from __future__ import annotations

from typing import Any

from lib.config import config_for
from tests.unit.synth import SynthesizedStack, key_arn, platform_key

# Where each store names its key.
KEY_FIELDS = {
    "aws_dynamodb_table": ("server_side_encryption", "kms_key_arn"),
    "aws_sqs_queue": ("kms_master_key_id",),
    "aws_sns_topic": ("kms_master_key_id",),
    "aws_cloudwatch_log_group": ("kms_key_id",),
    "aws_lambda_function": ("kms_key_arn",),
}


def _field(resource: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = resource
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def test_every_store_and_log_group_uses_the_cmk(env_stack: SynthesizedStack) -> None:
    key = key_arn(env_stack)
    unencrypted = []
    for resource_type, path in KEY_FIELDS.items():
        resources = env_stack.resources(resource_type)
        assert resources, f"no {resource_type} in the stack"
        unencrypted += [f"{resource_type}.{name}" for name, r in resources.items() if _field(r, path) != key]
    assert unencrypted == []
    for table in env_stack.resources("aws_dynamodb_table").values():
        assert table["server_side_encryption"]["enabled"] is True


def test_every_bucket_defaults_to_the_cmk(env_stack: SynthesizedStack) -> None:
    encrypted = {}
    for config in env_stack.resources("aws_s3_bucket_server_side_encryption_configuration").values():
        (rule,) = config["rule"]
        encrypted[config["bucket"]] = rule["apply_server_side_encryption_by_default"]
    buckets = env_stack.resources("aws_s3_bucket")
    assert buckets
    for name, bucket in buckets.items():
        reference = env_stack.reference_of("aws_s3_bucket", bucket, "id")
        # prod's DR copy (provider aws.dr) is encrypted with the DR region's key.
        key = key_arn(env_stack) if "provider" not in bucket else _dr_key_arn(env_stack)
        assert encrypted.get(reference) == {"sse_algorithm": "aws:kms", "kms_master_key_id": key}, name


def _dr_key_arn(stack: SynthesizedStack) -> str:
    (key,) = [k for k in stack.resources("aws_kms_key").values() if k.get("provider") == "aws.dr"]
    return stack.reference_of("aws_kms_key", key, "arn")


def test_the_key_rotates(env_stack: SynthesizedStack) -> None:
    assert platform_key(env_stack)["enable_key_rotation"] is True


def test_every_bucket_refuses_plain_http(env_stack: SynthesizedStack) -> None:
    policies = {p["bucket"]: p for p in env_stack.resources("aws_s3_bucket_policy").values()}
    for bucket in env_stack.resources("aws_s3_bucket").values():
        bucket_id = env_stack.reference_of("aws_s3_bucket", bucket, "id")
        bucket_arn = env_stack.reference_of("aws_s3_bucket", bucket, "arn")
        (statement,) = env_stack.policy_document(policies[bucket_id]["policy"])["statement"]
        assert statement | {"sid": None} == {
            "sid": None,
            "effect": "Deny",
            "actions": ["s3:*"],
            "resources": [bucket_arn, f"{bucket_arn}/*"],
            "principals": [{"type": "*", "identifiers": ["*"]}],
            "condition": [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}],
        }


def _lifecycles(stack: SynthesizedStack) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{resource_type}.{name}", resource.get("lifecycle", {}))
        for resource_type, resources in stack.document["resource"].items()
        for name, resource in resources.items()
    ]


def test_everything_can_be_destroyed(env_stack: SynthesizedStack) -> None:
    guarded = [name for name, lifecycle in _lifecycles(env_stack) if lifecycle.get("prevent_destroy")]
    assert guarded == []
    for table in env_stack.resources("aws_dynamodb_table").values():
        assert table["deletion_protection_enabled"] is False
    for bucket in env_stack.resources("aws_s3_bucket").values():
        assert bucket["force_destroy"] is True
    # No resource keeps data behind after destroy.
    retained = [
        f"{resource_type}.{name}"
        for resource_type, resources in env_stack.document["resource"].items()
        for name, resource in resources.items()
        for field in ("skip_destroy", "retain_on_delete", "deletion_protection")
        if resource.get(field)
    ]
    assert retained == []


def test_the_key_waits_its_configured_window_before_deletion(env_stack: SynthesizedStack) -> None:
    provider = env_stack.document["provider"]["aws"][0]  # prod's second, aliased one is its DR region's
    config = config_for(provider["default_tags"][0]["tags"]["Environment"])
    assert platform_key(env_stack)["deletion_window_in_days"] == config.kms_deletion_window_days
