"""AWS Backup's role: assumable only by AWS Backup, granting exactly the DynamoDB backup and copy
statements of AWSBackupServiceRolePolicyForBackup, narrowed to the backed-up tables and vaults."""

from __future__ import annotations

import pytest

from tests.security.iam import grants, identity_policy_violations, role_id, role_policy_documents, statements
from tests.unit.synth import SynthesizedStack


def platform_references(stack: SynthesizedStack) -> tuple[str, str]:
    """The environment stack's partition and account id, as its ARNs reference them."""
    (partition,) = stack.document["data"]["aws_partition"]
    (account,) = stack.document["data"]["aws_caller_identity"]
    return f"${{data.aws_partition.{partition}.partition}}", f"${{data.aws_caller_identity.{account}.account_id}}"


def _table_arn(stack: SynthesizedStack, name: str) -> str:
    return stack.reference_of("aws_dynamodb_table", stack.named("aws_dynamodb_table", "name", name), "arn")


def _expected(stack: SynthesizedStack, environment: str, copy_region: str | None) -> set[tuple[str, str]]:
    partition, account_id = platform_references(stack)
    tables = [
        _table_arn(stack, f"{name}-{environment}")
        for name in ("payments", "payment-audit", "merchants", "payment-events")
    ]
    vaults = [f"arn:{partition}:backup:us-east-1:{account_id}:backup-vault:payment-platform-backups"]
    keys = [f"arn:{partition}:kms:us-east-1:{account_id}:key/*"]
    if copy_region:
        vaults.append(
            f"arn:{partition}:backup:{copy_region}:{account_id}:backup-vault:payment-platform-backups-copies-from-us-east-1"
        )
        keys.append(f"arn:{partition}:kms:{copy_region}:{account_id}:key/*")
    table_actions = (
        "dynamodb:DescribeTable",
        "dynamodb:CreateBackup",
        "dynamodb:StartAwsBackupJob",
        "dynamodb:ListTagsOfResource",
    )
    return (
        {(action, table) for action in table_actions for table in tables}
        | {
            (action, f"{table}/backup/*")
            for action in ("dynamodb:DescribeBackup", "dynamodb:DeleteBackup")
            for table in tables
        }
        | {
            (action, vault)
            for action in ("backup:DescribeBackupVault", "backup:CopyIntoBackupVault")
            for vault in vaults
        }
        | {(action, key) for action in ("kms:DescribeKey", "kms:CreateGrant") for key in keys}
    )


@pytest.mark.parametrize(("environment", "copy_region"), [("staging", None), ("prod", "us-west-2")])
def test_the_backup_role_grants_exactly_the_backup_and_copy_of_the_four_tables(
    stacks: dict[str, SynthesizedStack], environment: str, copy_region: str | None
) -> None:
    stack = stacks[environment]
    role = role_id(stack.only("aws_backup_selection")["iam_role_arn"])
    documents = role_policy_documents(stack)[role]
    assert grants(documents) == _expected(stack, environment, copy_region)
    assert [p for d in documents for p in identity_policy_violations(d)] == []
    # The grant on the vaults' keys is usable only by an AWS service (AWS Backup), never directly.
    (grant,) = [s for d in documents for s in statements(d) if s["actions"] == ["kms:CreateGrant"]]
    assert grant["condition"] == [{"test": "Bool", "variable": "kms:GrantIsForAWSResource", "values": ["true"]}]


@pytest.mark.parametrize("environment", ["staging", "prod"])
def test_only_aws_backup_assumes_the_backup_role(stacks: dict[str, SynthesizedStack], environment: str) -> None:
    stack = stacks[environment]
    role = stack.resources("aws_iam_role")[role_id(stack.only("aws_backup_selection")["iam_role_arn"])]
    (trust,) = statements(stack.policy_document(role["assume_role_policy"]))
    assert trust["actions"] == ["sts:AssumeRole"]
    assert trust["principals"] == [{"type": "Service", "identifiers": ["backup.amazonaws.com"]}]
