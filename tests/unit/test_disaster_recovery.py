"""The DR region in the synthesized stacks: prod's copy there (replicas under the DR key, the
replicated bucket and its role), and the same stack deployed in another region (the DR site that
adopts the copy; dev elsewhere): every region, ARN and name right."""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest

from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_environ, read_settings
from tests.unit.synth import SynthesizedStack, key_arn

# Every test here builds a stack of its own or imports the provider: the stack worker (testkit/stack_scheduling.py).
pytestmark = pytest.mark.stacks

ACCOUNT = "${data.aws_caller_identity.platform_account_4530001A.account_id}"
PARTITION = "${data.aws_partition.platform_partition_3381385A.partition}"
REPLICATED = ("payments-prod", "payment-audit-prod", "merchants-prod", "payment-events-prod")
DR_CERTIFICATE = "arn:aws:acm:us-west-2:123456789012:certificate/00000000-0000-0000-0000-000000000000"


@cache
def synthesized(environment: str, region: str, certificate: str = "") -> SynthesizedStack:
    from cdktf import Testing

    from lib.tap_stack import synth_environments

    environ = preset_environ(environment, SYNTH_ONLY_SUBSCRIBERS) | {"AWS_REGION": region}
    settings = read_settings(environ | ({"API_CERTIFICATE_ARN": certificate} if certificate else {}))
    (stack,) = synth_environments(Testing.app(), {settings.stack_name: settings}).values()
    return SynthesizedStack(stack=stack, text=Testing.synth(stack))


def _dr_key(prod: SynthesizedStack) -> tuple[str, dict[str, Any]]:
    ((name, key),) = [(n, k) for n, k in prod.resources("aws_kms_key").items() if k.get("provider") == "aws.dr"]
    return f"${{aws_kms_key.{name}.arn}}", key


def test_prod_has_a_second_aliased_provider_in_the_dr_region_with_the_same_tags(prod: SynthesizedStack) -> None:
    primary, dr = prod.document["provider"]["aws"]
    assert (primary["region"], "alias" in primary) == ("us-east-1", False)
    assert (dr["alias"], dr["region"], dr["default_tags"]) == ("dr", "us-west-2", primary["default_tags"])


def test_the_dr_key_is_the_data_key_the_dr_site_would_make(prod: SynthesizedStack) -> None:
    from lib.components.keys import KEY_ADMIN_ACTIONS, KEY_USE_ACTIONS

    _, key = _dr_key(prod)
    primary = next(k for k in prod.resources("aws_kms_key").values() if "provider" not in k and "key_usage" not in k)
    assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
    assert key["description"] == primary["description"] == "Payment platform data key (prod)"
    (alias,) = [a for a in prod.resources("aws_kms_alias").values() if a.get("provider") == "aws.dr"]
    assert alias["name"] == "alias/payment-platform-prod"
    policy = prod.policy_document(key["policy"])
    assert [s["sid"] for s in policy["statement"]] == [
        "AccountAdministers",
        "CloudWatchLogsEncryptsPlatformLogGroups",
        "CloudWatchAlarmsPublishToEncryptedTopic",
    ]
    admin, logs, _ = policy["statement"]
    assert admin["actions"] == KEY_ADMIN_ACTIONS
    assert admin["principals"] == [{"type": "AWS", "identifiers": [f"arn:{PARTITION}:iam::{ACCOUNT}:root"]}]
    # The DR region's log groups, as the DR site's own key policy would say.
    assert logs["actions"] == KEY_USE_ACTIONS
    assert logs["principals"] == [{"type": "Service", "identifiers": ["logs.us-west-2.amazonaws.com"]}]
    assert logs["condition"][0]["values"] == [f"arn:{PARTITION}:logs:us-west-2:{ACCOUNT}:log-group:*"]


def test_the_four_tables_are_replicated_under_the_dr_key_and_the_batch_tables_are_not(prod: SynthesizedStack) -> None:
    dr_key, _ = _dr_key(prod)
    tables = {t["name"]: t for t in prod.resources("aws_dynamodb_table").values()}
    for name in REPLICATED:
        table = tables[name]
        assert table["replica"] == [
            {"region_name": "us-west-2", "kms_key_arn": dr_key, "point_in_time_recovery": True, "propagate_tags": True}
        ], name
        # A replica needs a stream of new and old images on its table.
        assert (table["stream_enabled"], table["stream_view_type"]) == (True, "NEW_AND_OLD_IMAGES"), name
        # The primary's own copy stays under the platform key.
        assert table["server_side_encryption"] == {"enabled": True, "kms_key_arn": key_arn(prod)}
    assert {name for name, table in tables.items() if "replica" in table} == set(REPLICATED)


def test_dev_has_no_copy_but_the_same_streams(dev: SynthesizedStack) -> None:
    assert len(dev.document["provider"]["aws"]) == 1
    assert not [t for t in dev.resources("aws_dynamodb_table").values() if "replica" in t]
    assert dev.resources("aws_s3_bucket_replication_configuration") == {}
    streams = {t["name"]: t.get("stream_view_type") for t in dev.resources("aws_dynamodb_table").values()}
    assert {name for name, view in streams.items() if view == "NEW_AND_OLD_IMAGES"} == {
        name.replace("-prod", "-dev") for name in REPLICATED
    }


def _dr_bucket(prod: SynthesizedStack) -> tuple[str, dict[str, Any]]:
    ((name, bucket),) = [(n, b) for n, b in prod.resources("aws_s3_bucket").items() if b.get("provider") == "aws.dr"]
    return name, bucket


def test_the_bucket_copy_is_versioned_private_and_encrypted_with_the_dr_key(prod: SynthesizedStack) -> None:
    dr_key, _ = _dr_key(prod)
    name, bucket = _dr_bucket(prod)
    assert bucket["bucket"] == f"payment-batch-{ACCOUNT}-dr-prod"
    bucket_id = f"${{aws_s3_bucket.{name}.id}}"
    parts = {
        kind: [r for r in prod.resources(kind).values() if r["bucket"] == bucket_id]
        for kind in (
            "aws_s3_bucket_versioning",
            "aws_s3_bucket_server_side_encryption_configuration",
            "aws_s3_bucket_public_access_block",
            "aws_s3_bucket_ownership_controls",
            "aws_s3_bucket_lifecycle_configuration",
            "aws_s3_bucket_policy",
        )
    }
    assert {kind: [r["provider"] for r in found] for kind, found in parts.items()} == {
        kind: ["aws.dr"] for kind in parts
    }
    (versioning,) = parts["aws_s3_bucket_versioning"]
    assert versioning["versioning_configuration"] == {"status": "Enabled"}
    (encryption,) = parts["aws_s3_bucket_server_side_encryption_configuration"]
    assert encryption["rule"][0]["apply_server_side_encryption_by_default"] == {
        "sse_algorithm": "aws:kms",
        "kms_master_key_id": dr_key,
    }
    # The copy ages out as the primary's files do (prod's lifecycle).
    (lifecycle,) = parts["aws_s3_bucket_lifecycle_configuration"]
    assert lifecycle["rule"][0]["expiration"] == [{"days": 2555}]


def test_the_replication_rule_copies_every_kms_object_under_the_dr_key_within_rtc(prod: SynthesizedStack) -> None:
    dr_key, _ = _dr_key(prod)
    name, _ = _dr_bucket(prod)
    replication = prod.only("aws_s3_bucket_replication_configuration")
    assert "provider" not in replication  # configured on the source bucket, in the primary region
    assert replication["bucket"].startswith("${aws_s3_bucket.platform_storage_batch_bucket_")
    assert replication["depends_on"][0].startswith("aws_s3_bucket_versioning.platform_storage_batch_bucket_versioning")
    assert replication["rule"] == [
        {
            "id": "copy-to-dr-region",
            "status": "Enabled",
            "filter": {"prefix": ""},
            "delete_marker_replication": {"status": "Disabled"},
            "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
            "destination": {
                "bucket": f"${{aws_s3_bucket.{name}.arn}}",
                "storage_class": "STANDARD",
                "encryption_configuration": {"replica_kms_key_id": dr_key},
                "metrics": {"status": "Enabled", "event_threshold": {"minutes": 15}},
                "replication_time": {"status": "Enabled", "time": {"minutes": 15}},
            },
        }
    ]


def test_the_replication_role_has_exactly_what_s3_replication_needs(prod: SynthesizedStack) -> None:
    dr_key, _ = _dr_key(prod)
    name, _ = _dr_bucket(prod)
    role = prod.named("aws_iam_role", "name", "payment-batch-replication-role-prod")
    assert prod.only("aws_s3_bucket_replication_configuration")["role"] == prod.reference_of(
        "aws_iam_role", role, "arn"
    )
    trust = prod.policy_document(role["assume_role_policy"])
    assert trust["statement"][0]["principals"] == [{"type": "Service", "identifiers": ["s3.amazonaws.com"]}]
    policy = prod.named("aws_iam_role_policy", "name", "payment-batch-replication-policy-prod")
    source = next(r for r in prod.resources("aws_s3_bucket") if r.startswith("platform_storage_batch_bucket"))
    source_arn, replica_arn = f"${{aws_s3_bucket.{source}.arn}}", f"${{aws_s3_bucket.{name}.arn}}"
    pairs = [
        (s["sid"], s["actions"], s["resources"], s.get("condition"))
        for s in prod.policy_document(policy["policy"])["statement"]
    ]
    assert pairs == [
        ("ReadReplicationConfiguration", ["s3:GetReplicationConfiguration", "s3:ListBucket"], [source_arn], None),
        (
            "ReadSourceVersions",
            ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            [f"{source_arn}/*"],
            None,
        ),
        ("WriteReplicas", ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"], [f"{replica_arn}/*"], None),
        (
            "DecryptSourceObjects",
            ["kms:Decrypt"],
            [key_arn(prod)],
            [
                {"test": "StringEquals", "variable": "kms:ViaService", "values": ["s3.us-east-1.amazonaws.com"]},
                {
                    "test": "StringLike",
                    "variable": "kms:EncryptionContext:aws:s3:arn",
                    "values": [source_arn, f"{source_arn}/*"],
                },
            ],
        ),
        (
            "EncryptReplicas",
            ["kms:Encrypt", "kms:GenerateDataKey"],
            [dr_key],
            [
                {"test": "StringEquals", "variable": "kms:ViaService", "values": ["s3.us-west-2.amazonaws.com"]},
                {
                    "test": "StringLike",
                    "variable": "kms:EncryptionContext:aws:s3:arn",
                    "values": [replica_arn, f"{replica_arn}/*"],
                },
            ],
        ),
    ]


def test_the_dr_site_adopts_the_copy_and_makes_none(prod: SynthesizedStack) -> None:
    site = synthesized("prod", "us-west-2", DR_CERTIFICATE)
    (provider,) = site.document["provider"]["aws"]
    assert provider["region"] == "us-west-2"
    assert site.document["terraform"]["backend"] == {"local": {"path": "terraform.TapStackprod.dr.tfstate"}}
    imports = [(entry["to"].split(".")[0], entry["id"]) for entry in site.document["import"]]
    bucket = f"payment-batch-{ACCOUNT}-dr-prod"
    assert imports == [
        ("aws_kms_key", "${data.aws_kms_alias.platform_dr_key_alias_CC514B75.target_key_id}"),
        ("aws_kms_alias", "alias/payment-platform-prod"),
        *[("aws_dynamodb_table", name) for name in REPLICATED],
        *[
            (kind, bucket)
            for kind in (
                "aws_s3_bucket",
                "aws_s3_bucket_ownership_controls",
                "aws_s3_bucket_public_access_block",
                "aws_s3_bucket_server_side_encryption_configuration",
                "aws_s3_bucket_versioning",
                "aws_s3_bucket_lifecycle_configuration",
                "aws_s3_bucket_policy",
            )
        ],
    ]
    assert site.document["data"]["aws_kms_alias"]["platform_dr_key_alias_CC514B75"]["name"] == (
        "alias/payment-platform-prod"
    )
    # Exactly what the primary made there: the key, the replicas, the bucket, by the same names.
    _, bucket_copy = _dr_bucket(prod)
    assert site.named("aws_s3_bucket", "bucket", bucket)["bucket"] == bucket_copy["bucket"]
    assert site.resources("aws_s3_bucket_replication_configuration") == {}
    tables = {t["name"]: t for t in site.resources("aws_dynamodb_table").values()}
    for name in REPLICATED:
        assert "replica" not in tables[name]
        assert tables[name]["lifecycle"] == {"ignore_changes": ["replica"]}


def test_the_dr_site_names_account_wide_resources_apart_and_says_no_other_region(prod: SynthesizedStack) -> None:
    site = synthesized("prod", "us-west-2", DR_CERTIFICATE)
    roles = sorted(r["name"] for r in site.resources("aws_iam_role").values())
    assert roles and all(re.fullmatch(r"[a-z-]+-dr-prod", name) for name in roles), roles
    assert site.only("aws_cloudwatch_dashboard")["dashboard_name"] == "payment-platform-dr-prod"
    assert sorted(b["bucket"] for b in site.resources("aws_s3_bucket").values()) == [
        f"payment-batch-{ACCOUNT}-dr-prod",
        f"payment-start-give-ups-{ACCOUNT}-dr-prod",
    ]
    # Regional names keep the primary's: the functions, the queues.
    assert {f["function_name"] for f in site.resources("aws_lambda_function").values()} == {
        f["function_name"] for f in prod.resources("aws_lambda_function").values()
    }
    _assert_only_region(site, "us-west-2")


def test_dev_deploys_to_another_region_with_every_arn_there() -> None:
    elsewhere = synthesized("dev", "eu-central-1")
    (provider,) = elsewhere.document["provider"]["aws"]
    assert provider["region"] == "eu-central-1"
    # Same names as in its home region: one environment, one region at a time.
    assert elsewhere.only("aws_cloudwatch_dashboard")["dashboard_name"] == "payment-platform-dev"
    _assert_only_region(elsewhere, "eu-central-1")


def _assert_only_region(stack: SynthesizedStack, region: str) -> None:
    """No other region named anywhere, and no ARN with a literal partition (the data source's)."""
    # The operator's certificate ARN is theirs to give (checked to be in AWS_REGION by the settings).
    text = json.dumps(stack.document).replace(DR_CERTIFICATE, "")
    regions = set(re.findall(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b", text))
    assert regions == {region}
    assert re.findall(r"arn:aws:", text) == []
