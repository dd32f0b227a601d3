"""Backups that outlive the environment: the config slice, the environment's plan and selection,
and the account stack's vaults (lib/components/backup.py, lib/components/backup_vaults.py)."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

import pytest

from lib.config import BackupConfig, config_for
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings
from tests.security.test_backup_role import platform_references
from tests.unit.synth import SynthesizedStack

# Every test here builds a stack of its own or imports the provider: the stack worker (testkit/stack_scheduling.py).
pytestmark = pytest.mark.stacks

ACCOUNT_ID = "${data.aws_caller_identity.account.account_id}"
PARTITION = "${data.aws_partition.partition.partition}"


@cache
def account_stack(environment: str) -> SynthesizedStack:
    """TapAccount as ``environment``'s deploy synthesizes it (us-east-1)."""
    from cdktf import Testing

    from lib.account_stack import AccountStack

    stack = AccountStack(Testing.app(), settings=preset_settings(SYNTH_ONLY_SUBSCRIBERS)[environment])
    return SynthesizedStack(stack=stack, text=Testing.synth(stack))


VALID = BackupConfig(enabled=True, schedule="cron(0 3 * * ? *)", retention_days=35)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"schedule": "rate(1 day)"},
            "backup.schedule must be a six-field cron expression such as cron(0 3 * * ? *), got 'rate(1 day)'",
        ),
        (
            {"schedule": "cron(0 3 * * ?)"},
            "backup.schedule must be a six-field cron expression such as cron(0 3 * * ? *), got 'cron(0 3 * * ?)'",
        ),
        ({"retention_days": 0}, "backup.retention_days must be between 1 and 36500, got 0"),
        ({"cold_storage_after_days": 0}, "backup.cold_storage_after_days must be at least 1, got 0"),
        (
            {"cold_storage_after_days": 30, "retention_days": 119},
            "backup.retention_days must be at least backup.cold_storage_after_days + 90 (120): cold storage keeps "
            "a recovery point 90 days, got 119",
        ),
    ],
)
def test_an_invalid_backup_knob_is_refused_naming_it(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        replace(VALID, **change)
    assert str(refused.value) == message


def test_the_cold_storage_minimum_is_accepted_at_its_bound() -> None:
    assert replace(VALID, cold_storage_after_days=30, retention_days=120).retention_days == 120


def test_staging_and_prod_back_up_dev_does_not() -> None:
    assert config_for("dev").backup.enabled is False
    assert config_for("staging").backup == VALID
    assert config_for("prod").backup == BackupConfig(
        enabled=True,
        schedule="cron(0 3 * * ? *)",
        retention_days=365,
        cold_storage_after_days=90,
    )


def test_prods_dr_site_backs_up_into_its_own_region_and_copies_nowhere() -> None:
    from cdktf import Testing

    from lib.account_stack import AccountStack
    from lib.components.backup_vaults import BACKUP_VAULT_NAME
    from lib.tap_stack import synth_environments

    # prod deployed with AWS_REGION=us-west-2 (its DR region): the copy's destination is itself.
    settings = replace(preset_settings(SYNTH_ONLY_SUBSCRIBERS)["prod"], region="us-west-2")
    (environment,) = synth_environments(Testing.app(), {"prod": settings}).values()
    dr_site = SynthesizedStack(stack=environment, text=Testing.synth(environment))
    (rule,) = dr_site.only("aws_backup_plan")["rule"]
    assert (rule["target_vault_name"], "copy_action" in rule) == (BACKUP_VAULT_NAME, False)
    account = AccountStack(Testing.app(), settings=settings)
    vaults = SynthesizedStack(stack=account, text=Testing.synth(account)).resources("aws_backup_vault")
    assert [vault["name"] for vault in vaults.values()] == [BACKUP_VAULT_NAME]


def _table_arn(stack: SynthesizedStack, name: str) -> str:
    return stack.reference_of("aws_dynamodb_table", stack.named("aws_dynamodb_table", "name", name), "arn")


def test_dev_has_no_plan_and_no_environment_holds_a_vault(stacks: dict[str, SynthesizedStack]) -> None:
    assert stacks["dev"].resources("aws_backup_plan") == {}
    assert stacks["dev"].resources("aws_backup_selection") == {}
    for stack in stacks.values():
        # A vault in an environment stack would go (with its recovery points) on its destroy.
        assert stack.resources("aws_backup_vault") == {}


def test_prod_backs_up_daily_into_the_account_vault_and_copies_to_the_dr_region(prod: SynthesizedStack) -> None:
    from lib.components.backup_vaults import BACKUP_VAULT_NAME

    partition, account_id = platform_references(prod)
    (rule,) = prod.only("aws_backup_plan")["rule"]
    assert prod.only("aws_backup_plan")["name"] == "payment-tables-prod"
    assert rule == {
        "rule_name": "tables",
        "target_vault_name": BACKUP_VAULT_NAME,
        "schedule": "cron(0 3 * * ? *)",
        "lifecycle": {"delete_after": 365, "cold_storage_after": 90},
        "copy_action": [
            {
                "destination_vault_arn": f"arn:{partition}:backup:us-west-2:{account_id}:"
                "backup-vault:payment-platform-backups-copies-from-us-east-1",
                "lifecycle": {"delete_after": 365, "cold_storage_after": 90},
            }
        ],
    }


def test_staging_keeps_its_recovery_points_in_the_region(stacks: dict[str, SynthesizedStack]) -> None:
    (rule,) = stacks["staging"].only("aws_backup_plan")["rule"]
    assert "copy_action" not in rule
    assert rule["lifecycle"] == {"delete_after": 35}


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_the_selection_is_the_four_tables_a_lost_environment_cannot_rebuild(
    stack: SynthesizedStack, environment: str
) -> None:
    selection = stack.only("aws_backup_selection")
    names = ("payments", "payment-audit", "merchants", "payment-events")
    assert selection["resources"] == [_table_arn(stack, f"{name}-{environment}") for name in names]
    assert selection["plan_id"] == stack.reference_of("aws_backup_plan", stack.only("aws_backup_plan"), "id")
    role = stack.named("aws_iam_role", "name", f"payment-backup-role-{environment}")
    assert selection["iam_role_arn"] == stack.reference_of("aws_iam_role", role, "arn")


def test_the_account_stack_holds_the_vaults_whichever_environment_deploys_it() -> None:
    from lib.components.backup_vaults import BACKUP_VAULT_NAME

    dev, prod = account_stack("dev"), account_stack("prod")
    for resource_type in ("aws_backup_vault", "aws_backup_vault_policy", "aws_kms_key", "aws_kms_alias"):
        assert dev.resources(resource_type) == prod.resources(resource_type)
    vaults = {vault["name"]: vault for vault in dev.resources("aws_backup_vault").values()}
    assert sorted(vaults) == [BACKUP_VAULT_NAME, f"{BACKUP_VAULT_NAME}-copies-from-us-east-1"]
    # Destroying TapAccount is what removes the recovery points: Terraform empties the vaults.
    assert all(vault["force_destroy"] is True for vault in vaults.values())
    assert "provider" not in vaults[BACKUP_VAULT_NAME]
    copy = vaults[f"{BACKUP_VAULT_NAME}-copies-from-us-east-1"]
    # The copy region is prod's DR region (disaster_recovery.dr_region), through a provider of its own.
    assert config_for("prod").disaster_recovery.dr_region == "us-west-2"
    assert copy["provider"] == "aws.dr_us_west_2"
    (aliased,) = [p for p in dev.document["provider"]["aws"] if p.get("alias") == "dr_us_west_2"]
    assert aliased["region"] == "us-west-2"
    assert dev.document["output"]["backup_vault_arn"]["value"] == dev.reference_of(
        "aws_backup_vault", vaults[BACKUP_VAULT_NAME], "arn"
    )


def test_each_vault_is_encrypted_with_its_own_key_usable_only_through_backup() -> None:
    stack = account_stack("dev")
    for vault in stack.resources("aws_backup_vault").values():
        (key,) = [
            k
            for k in stack.resources("aws_kms_key").values()
            if stack.reference_of("aws_kms_key", k, "arn") == vault["kms_key_arn"]
        ]
        assert (key["enable_key_rotation"], key["deletion_window_in_days"]) == (True, 30)
        assert key.get("provider") == vault.get("provider")
        region = "us-west-2" if "provider" in vault else "us-east-1"
        administers, use = stack.policy_document(key["policy"])["statement"]
        assert administers["principals"] == [
            {"type": "AWS", "identifiers": [f"arn:{PARTITION}:iam::{ACCOUNT_ID}:root"]}
        ]
        assert use["actions"] == [
            "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*", "kms:CreateGrant"
        ]  # fmt: skip
        assert use["condition"] == [
            {"test": "StringEquals", "variable": "kms:CallerAccount", "values": [ACCOUNT_ID]},
            {"test": "StringEquals", "variable": "kms:ViaService", "values": [f"backup.{region}.amazonaws.com"]},
        ]


def test_no_principal_may_delete_a_recovery_point_while_the_vault_policy_stands() -> None:
    from lib.components.backup_vaults import PROTECTED_ACTIONS

    stack = account_stack("dev")
    policies = stack.resources("aws_backup_vault_policy").values()
    assert len(policies) == 2
    for policy in policies:
        assert stack.policy_document(policy["policy"])["statement"] == [
            {
                "sid": "NobodyDeletesRecoveryPoints",
                "effect": "Deny",
                "actions": list(PROTECTED_ACTIONS),
                "resources": ["*"],
                "principals": [{"type": "AWS", "identifiers": ["*"]}],
            }
        ]
