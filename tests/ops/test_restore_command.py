"""ops.restore (`make restore`): a table restored into a new one with its item count, and what it
refuses. moto in-process here; on the emulator, with AWS's PITR rules: tests/localcloud/test_backups.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ops.restore import RestoreError, RestoreResult, main, parse_time, restored_table_name, source_table_name

REGION = "us-east-1"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _table(dynamodb: Any, name: str, items: int) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "payment_id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    for index in range(items):
        dynamodb.put_item(TableName=name, Item={"payment_id": {"S": f"pay-{index}"}})
    dynamodb.update_continuous_backups(
        TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, dict[str, Any]]:
    status = main(["--region", REGION, "--wait-minutes", "1", *arguments])
    return status, json.loads(capsys.readouterr().out)


def test_a_backup_comes_back_as_a_new_table_with_its_item_count(
    dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _table(dynamodb, "payments-pr7", 12)
    backup = dynamodb.create_backup(TableName="payments-pr7", BackupName="nightly")["BackupDetails"]["BackupArn"]
    dynamodb.put_item(TableName="payments-pr7", Item={"payment_id": {"S": "after-the-backup"}})

    status, line = _run(capsys, "--table", "payments", "--suffix", "pr7", "--backup", backup)

    assert status == 0
    assert line["restored"].startswith("payments-pr7-restored-")
    assert {k: v for k, v in line.items() if k != "restored"} == {
        "table": "payments",
        "source": "payments-pr7",
        "from": "backup",
        "source_items": 12,
        "restored_items": 12,
        "match": True,
    }
    assert dynamodb.describe_table(TableName=line["restored"])["Table"]["TableStatus"] == "ACTIVE"
    # The live table is untouched.
    assert dynamodb.scan(TableName="payments-pr7", Select="COUNT")["Count"] == 13


def test_a_point_in_time_restore_prints_the_source_count_beside_the_restored_one(
    dynamodb: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _table(dynamodb, "payment-audit-pr7", 4)

    status, line = _run(
        capsys, "--table", "audit", "--suffix", "pr7", "--time", datetime.now(UTC).isoformat(timespec="seconds")
    )

    assert (status, line["from"], line["source_items"], line["restored_items"]) == (0, "time", 4, 4)
    assert line["restored"].startswith("payment-audit-pr7-restored-")


def test_counts_that_differ_print_both_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the exit mapping: a restore whose table holds fewer items than its source said."""
    import ops.restore

    short = RestoreResult("payments", "payments-pr7", "payments-pr7-restored-20261203070000", 5, 4)
    monkeypatch.setattr(ops.restore, "restore", lambda *args, **kwargs: short)

    status, line = _run(capsys, "--table", "payments", "--suffix", "pr7", "--time", "2026-12-03T07:00:00Z")

    assert (status, line["source_items"], line["restored_items"], line["match"]) == (2, 5, 4, False)


def test_a_backup_of_another_table_is_refused(dynamodb: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _table(dynamodb, "merchants-pr7", 1)
    backup = dynamodb.create_backup(TableName="merchants-pr7", BackupName="nightly")["BackupDetails"]["BackupArn"]

    status, line = _run(capsys, "--table", "payments", "--suffix", "pr7", "--backup", backup)

    assert (status, line) == (
        1,
        {"error": f"backup {backup} is of table merchants-pr7, not payments-pr7", "table": "payments"},
    )
    assert [name for name in dynamodb.list_tables()["TableNames"] if "restored" in name] == []


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        (
            ["--table", "ledger", "--suffix", "pr7", "--time", "2026-12-03T07:00:00Z"],
            "table must be one of payments, audit, batch_jobs, batch_claims, merchants, events, got 'ledger'",
        ),
        (
            ["--table", "payments", "--suffix", "pr7", "--time", "2026-12-03T07:00:00"],
            "TIME must carry its offset (Z or +hh:mm), got '2026-12-03T07:00:00'",
        ),
        (
            ["--table", "payments", "--suffix", "pr7", "--time", "yesterday"],
            "TIME must be an ISO 8601 time such as 2026-12-03T07:00:00Z, got 'yesterday'",
        ),
        (["--table", "payments", "--suffix", "pr7"], "give exactly one of TIME and BACKUP"),
        (
            [
                "--table",
                "payments",
                "--suffix",
                "pr7",
                "--backup",
                "arn:aws:backup:us-east-1:123456789012:recovery-point:abc",
            ],
            "an AWS Backup recovery point ARN restores with `aws backup start-restore-job` (docs/operations.md); "
            "give the DynamoDB backup ARN (arn:...:dynamodb:...:table/<name>/backup/<id>)",
        ),
        (
            ["--table", "payments", "--suffix", "pr7", "--backup", "backup-1"],
            "BACKUP must be a DynamoDB backup ARN, got 'backup-1'",
        ),
    ],
)
def test_what_cannot_be_restored_is_refused_before_any_table_is_created(
    dynamodb: Any, capsys: pytest.CaptureFixture[str], arguments: list[str], error: str
) -> None:
    status, line = _run(capsys, *arguments)
    assert (status, line["error"]) == (1, error)
    assert dynamodb.list_tables()["TableNames"] == []


def test_names_and_times() -> None:
    assert source_table_name("events", "prod") == "payment-events-prod"
    stamp = datetime(2026, 12, 3, 7, 5, 9, tzinfo=UTC)
    assert restored_table_name("payments-prod", stamp) == "payments-prod-restored-20261203070509"
    assert parse_time("2026-12-03T08:00:00+01:00") == stamp.replace(minute=0, second=0)
    with pytest.raises(RestoreError):
        source_table_name("", "prod")
