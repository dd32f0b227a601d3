"""Backups on the emulator: the account stack's vault policy (localcloud/patches/backup_vault_policy.py),
point-in-time restores as strict as AWS's (localcloud/patches/dynamodb_restore.py), and a backup
outliving its table, restored by ``make restore`` (ops/restore.py) with its item count."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ops.restore import main as restore_main
from tests.localcloud.conftest import create_items_table

DENY_DELETE = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "backup:DeleteRecoveryPoint", "Resource": "*"}
        ],
    }
)


def refusal(call: Callable[[], Any]) -> tuple[str, str]:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_a_vault_policy_is_kept_read_back_and_removed_with_its_vault(aws: Callable[[str], Any], unique: str) -> None:
    backup = aws("backup")
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    assert refusal(lambda: backup.get_backup_vault_access_policy(BackupVaultName=vault)) == (
        "ResourceNotFoundException",
        f"Backup vault {vault} has no access policy",
    )

    backup.put_backup_vault_access_policy(BackupVaultName=vault, Policy=DENY_DELETE)
    read = backup.get_backup_vault_access_policy(BackupVaultName=vault)
    assert (read["BackupVaultName"], read["Policy"]) == (vault, DENY_DELETE)
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"] == []

    backup.delete_backup_vault(BackupVaultName=vault)
    assert refusal(lambda: backup.get_backup_vault_access_policy(BackupVaultName=vault)) == (
        "ResourceNotFoundException",
        f"Backup vault {vault} not found",
    )


def test_what_aws_refuses_on_a_vault_policy_is_refused(aws: Callable[[str], Any], unique: str) -> None:
    backup = aws("backup")
    missing = f"missing-{unique}"
    assert refusal(lambda: backup.put_backup_vault_access_policy(BackupVaultName=missing, Policy=DENY_DELETE)) == (
        "ResourceNotFoundException",
        f"Backup vault {missing} not found",
    )
    assert refusal(lambda: backup.list_recovery_points_by_backup_vault(BackupVaultName=missing))[0] == (
        "ResourceNotFoundException"
    )
    backup.create_backup_vault(BackupVaultName=f"vault-{unique}")
    assert refusal(
        lambda: backup.put_backup_vault_access_policy(BackupVaultName=f"vault-{unique}", Policy="deny everything")
    ) == ("InvalidParameterValueException", "Policy must be a JSON policy document with a Statement")


def restore_refusal(dynamodb: Any, source: str, target: str, **when: Any) -> tuple[str, str]:
    """(code, message) of the refusal to restore ``source`` to ``target`` at ``when`` (a time or the latest)."""
    return refusal(
        lambda: dynamodb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target, **when)
    )


def _table_with_items(aws: Callable[[str], Any], name: str, count: int, *, pitr: bool) -> None:
    dynamodb = aws("dynamodb")
    create_items_table(dynamodb, name)
    for index in range(count):
        dynamodb.put_item(TableName=name, Item={"pk": {"S": f"item-{index}"}})
    if pitr:
        dynamodb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )


def test_a_point_in_time_restore_needs_pitr_and_a_time_in_its_window(aws: Callable[[str], Any], unique: str) -> None:
    dynamodb = aws("dynamodb")
    _table_with_items(aws, f"nopitr-{unique}", 2, pitr=False)
    assert restore_refusal(dynamodb, f"nopitr-{unique}", f"r1-{unique}", UseLatestRestorableTime=True) == (
        "PointInTimeRecoveryUnavailableException",
        f"Point in time recovery is not enabled for table 'nopitr-{unique}'",
    )

    _table_with_items(aws, f"pitr-{unique}", 2, pitr=True)
    too_early = datetime.now(UTC) - timedelta(days=1)
    code, message = restore_refusal(dynamodb, f"pitr-{unique}", f"r2-{unique}", RestoreDateTime=too_early)
    assert code == "InvalidRestoreTimeException"
    assert message.startswith("RestoreDateTime ")
    assert restore_refusal(dynamodb, f"pitr-{unique}", f"r3-{unique}") == (
        "ValidationException",
        "RestoreDateTime or UseLatestRestorableTime is required",
    )

    # Within the window and after the last write: AWS's answer is today's items, and so is ours.
    restored = dynamodb.restore_table_to_point_in_time(
        SourceTableArn=f"arn:aws:dynamodb:us-east-1:123456789012:table/pitr-{unique}",
        TargetTableName=f"r4-{unique}",
        UseLatestRestorableTime=True,
    )
    assert restored["TableDescription"]["TableName"] == f"r4-{unique}"
    assert dynamodb.scan(TableName=f"r4-{unique}", Select="COUNT")["Count"] == 2


def test_a_time_before_the_last_write_is_refused_not_answered_with_todays_items(
    aws: Callable[[str], Any], unique: str
) -> None:
    dynamodb = aws("dynamodb")
    _table_with_items(aws, f"pitr-{unique}", 1, pitr=True)
    before_write = datetime.now(UTC)
    dynamodb.put_item(TableName=f"pitr-{unique}", Item={"pk": {"S": "later"}})
    code, message = restore_refusal(dynamodb, f"pitr-{unique}", f"r-{unique}", RestoreDateTime=before_write)
    assert code == "ValidationException"
    assert message.startswith("localcloud keeps no item history: restore to a time after the source's last write")


def test_a_backup_outlives_its_table_and_make_restore_brings_it_back_with_its_items(
    aws: Callable[[str], Any],
    cloud: Any,
    unique: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What an environment's destroy does to a table (DeleteTable) leaves the backup AWS Backup
    took of it: it is the backup's, not the table's (recovery points live in the account's vault)."""
    dynamodb = aws("dynamodb")
    source = f"payments-{unique[:8]}"
    _table_with_items(aws, source, 7, pitr=True)
    backup_arn = dynamodb.create_backup(TableName=source, BackupName="nightly")["BackupDetails"]["BackupArn"]
    dynamodb.delete_table(TableName=source)
    assert dynamodb.describe_backup(BackupArn=backup_arn)["BackupDescription"]["BackupDetails"]["BackupStatus"] == (
        "AVAILABLE"
    )

    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    status = restore_main(
        ["--table", "payments", "--suffix", unique[:8], "--backup", backup_arn, "--endpoint", cloud.endpoint,
         "--region", "us-east-1", "--wait-minutes", "1"]
    )  # fmt: skip
    line = json.loads(capsys.readouterr().out)
    assert status == 0
    assert line["restored"].startswith(f"{source}-restored-")
    assert (line["source_items"], line["restored_items"], line["match"], line["from"]) == (7, 7, True, "backup")
    assert dynamodb.scan(TableName=line["restored"], Select="COUNT")["Count"] == 7


def test_a_recovery_point_outlives_its_table_and_the_vault_policy_denies_deleting_it(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    """An on-demand backup job (what the plan runs on its schedule) leaves a recovery point in the
    vault; deleting the table (an environment's destroy) leaves it; while the vault's policy stands
    nobody deletes it, nor the vault; once the policy is removed (the account stack's destroy) both go."""
    backup, dynamodb = aws("backup"), aws("dynamodb")
    vault = f"vault-{unique}"
    backup.create_backup_vault(BackupVaultName=vault)
    backup.put_backup_vault_access_policy(BackupVaultName=vault, Policy=DENY_DELETE)
    source = f"payments-{unique}"
    _table_with_items(aws, source, 3, pitr=False)
    table_arn = dynamodb.describe_table(TableName=source)["Table"]["TableArn"]

    job = backup.start_backup_job(BackupVaultName=vault, ResourceArn=table_arn, IamRoleArn=role_arn)
    assert backup.describe_backup_job(BackupJobId=job["BackupJobId"])["State"] == "COMPLETED"
    point = job["RecoveryPointArn"]
    dynamodb.delete_table(TableName=source)

    (kept,) = backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"]
    assert (kept["RecoveryPointArn"], kept["ResourceArn"], kept["Status"]) == (point, table_arn, "COMPLETED")
    assert refusal(lambda: backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)) == (
        "AccessDeniedException",
        f"User: arn:aws:iam::123456789012:root is not authorized to perform: backup:DeleteRecoveryPoint "
        f"on resource: {point} with an explicit deny in a resource-based policy",
    )
    assert refusal(lambda: backup.delete_backup_vault(BackupVaultName=vault))[0] == "InvalidRequestException"
    assert backup.describe_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)["ResourceName"] == source

    backup.delete_backup_vault_access_policy(BackupVaultName=vault)
    backup.delete_recovery_point(BackupVaultName=vault, RecoveryPointArn=point)
    assert backup.list_recovery_points_by_backup_vault(BackupVaultName=vault)["RecoveryPoints"] == []
    backup.delete_backup_vault(BackupVaultName=vault)
