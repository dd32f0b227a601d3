"""Tables and the batch bucket: encrypted with the CMK, recoverable, destroyable."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cdktf import Testing

from tests.unit.synth import SynthesizedStack, key_arn


def test_every_table_has_pitr_and_cmk_encryption(env_stack: SynthesizedStack) -> None:
    tables = env_stack.resources("aws_dynamodb_table")
    # payments (also each Idempotency-Key's record), audit trail, batch jobs, batch payment-id
    # claims, merchants, events, start slots (lib/components/start_slots.py)
    assert len(tables) == 7
    for table in tables.values():
        assert table["point_in_time_recovery"] == {"enabled": True}
        assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": key_arn(env_stack)}
        assert table["deletion_protection_enabled"] is False


def test_payments_table_serves_time_ranges_per_merchant(dev: SynthesizedStack) -> None:
    assert Testing.to_have_resource_with_properties(
        dev.text,
        "aws_dynamodb_table",
        {
            "name": "payments-dev",
            "hash_key": "payment_id",
            "billing_mode": "PAY_PER_REQUEST",
            "global_secondary_index": [
                {
                    "name": "merchant-created-index",
                    "hash_key": "merchant_id",
                    "range_key": "created_at",
                    "projection_type": "KEYS_ONLY",
                },
                {
                    "name": "open-payments-index",
                    "hash_key": "open_shard",
                    "range_key": "created_at",
                    "projection_type": "KEYS_ONLY",
                },
            ],
        },
    )


def test_audit_trail_orders_transitions_per_payment(dev: SynthesizedStack) -> None:
    audit = dev.named("aws_dynamodb_table", "name", "payment-audit-dev")
    assert (audit["hash_key"], audit["range_key"]) == ("payment_id", "sequence")
    assert {"name": "sequence", "type": "N"} in audit["attribute"]


@pytest.mark.stacks
def test_provisioned_tables_size_the_table_and_its_index() -> None:
    # No preset is provisioned; the knob still has to size the index along with the table.
    from cdktf import TerraformStack

    from lib.components.storage import Storage
    from lib.config import TableConfig, config_for
    from tests.unit.component_stack import bare_context

    stack = TerraformStack(Testing.app(), "provisioned")
    context = bare_context(stack, "prod")
    tables = TableConfig("PROVISIONED", read_capacity=50, write_capacity=40)
    Storage(
        stack,
        "storage",
        context=context,
        tables=tables,
        bucket=config_for("prod").batch_bucket,
    )
    tables = json.loads(Testing.synth(stack))["resource"]["aws_dynamodb_table"]
    payments = next(t for t in tables.values() if t["name"] == "payments-prod")
    assert (payments["billing_mode"], payments["read_capacity"], payments["write_capacity"]) == ("PROVISIONED", 50, 40)
    index = payments["global_secondary_index"][0]
    assert (index["read_capacity"], index["write_capacity"]) == (50, 40)


def _batch_bucket(stack: SynthesizedStack) -> dict[str, Any]:
    # prod's DR copy (provider aws.dr) is tested in test_disaster_recovery.py.
    (bucket,) = [
        b
        for b in stack.resources("aws_s3_bucket").values()
        if b["bucket"].startswith("payment-batch-") and "provider" not in b
    ]
    return bucket


def of_bucket(stack: SynthesizedStack, resource_type: str, bucket: dict[str, Any]) -> dict[str, Any]:
    """The one ``resource_type`` (versioning, lifecycle, policy...) configuring ``bucket``."""
    reference = stack.reference_of("aws_s3_bucket", bucket, "id")
    (found,) = [r for r in stack.resources(resource_type).values() if r["bucket"] == reference]
    return found


def test_batch_bucket_is_private_encrypted_and_destroyable(env_stack: SynthesizedStack) -> None:
    bucket = _batch_bucket(env_stack)
    assert bucket["force_destroy"] is True
    assert bucket["bucket"].startswith("payment-batch-${data.aws_caller_identity.platform_account_")
    assert bucket["bucket"].endswith(f"-{env_stack.stack.node.id.removeprefix('TapStack')}")
    assert of_bucket(env_stack, "aws_s3_bucket_public_access_block", bucket) | {"bucket": None} == {
        "bucket": None,
        "block_public_acls": True,
        "block_public_policy": True,
        "ignore_public_acls": True,
        "restrict_public_buckets": True,
    }
    (rule,) = of_bucket(env_stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)["rule"]
    assert rule["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": key_arn(env_stack),
    }


def test_batch_files_are_versioned(env_stack: SynthesizedStack) -> None:
    versioning = of_bucket(env_stack, "aws_s3_bucket_versioning", _batch_bucket(env_stack))
    assert versioning["versioning_configuration"] == {"status": "Enabled"}


def test_lifecycle_ages_files_out_per_config(prod: SynthesizedStack) -> None:
    (rule,) = of_bucket(prod, "aws_s3_bucket_lifecycle_configuration", _batch_bucket(prod))["rule"]
    assert rule["transition"] == [{"days": 30, "storage_class": "STANDARD_IA"}]
    assert rule["expiration"] == [{"days": 2555}]
    assert rule["noncurrent_version_expiration"] == [{"noncurrent_days": 90}]
    assert rule["abort_incomplete_multipart_upload"] == [{"days_after_initiation": 1}]


def test_bucket_policy_denies_insecure_transport(env_stack: SynthesizedStack) -> None:
    policy = of_bucket(env_stack, "aws_s3_bucket_policy", _batch_bucket(env_stack))
    (deny,) = env_stack.policy_document(policy["policy"])["statement"]
    assert deny["effect"] == "Deny"
    assert deny["actions"] == ["s3:*"]
    assert deny["condition"] == [{"test": "Bool", "variable": "aws:SecureTransport", "values": ["false"]}]
    assert deny["principals"] == [{"type": "*", "identifiers": ["*"]}]


def test_csv_uploads_under_incoming_trigger_ingest(dev: SynthesizedStack) -> None:
    (target,) = dev.only("aws_s3_bucket_notification")["lambda_function"]
    assert target["events"] == ["s3:ObjectCreated:*"]
    assert (target["filter_prefix"], target["filter_suffix"]) == ("incoming/", ".csv")
    ingest = dev.named("aws_lambda_function", "function_name", "payment-batch-ingest-dev")
    assert target["lambda_function_arn"] == dev.live_reference(ingest, "arn")


def test_the_audit_stream_carries_new_images_and_events_expire_by_ttl(dev: SynthesizedStack) -> None:
    audit = dev.named("aws_dynamodb_table", "name", "payment-audit-dev")
    # New images for the event writer, and old ones too: the table is replicated in prod.
    assert (audit["stream_enabled"], audit["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES")
    events = dev.named("aws_dynamodb_table", "name", "payment-events-dev")
    assert (events["hash_key"], events["range_key"]) == ("merchant_id", "event_id")
    assert events["ttl"] == {"attribute_name": "expires_at", "enabled": True}
    # A stream of new and old images (what its replica needs in prod), read by nothing.
    assert events["stream_view_type"] == "NEW_AND_OLD_IMAGES" and "global_secondary_index" not in events
