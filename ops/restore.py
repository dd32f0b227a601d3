"""Restore one of an environment's tables into a new table, wait for it, and compare item counts.

``python -m ops.restore --table <logical> --suffix <environment suffix> (--time <ISO 8601> |
--backup <DynamoDB backup ARN>) [--endpoint <url>] [--region <region>] [--wait-minutes <n>]``
prints one JSON line: ``{"table", "source", "restored", "from", "source_items", "restored_items",
"match"}``.

The restore never touches the live table: it creates ``<source>-restored-<UTC stamp>``, which the
operator inspects, then swaps in or copies from (docs/operations.md, "Backup and restore").
``--time`` restores the table as it was then (point-in-time recovery, on for every table; AWS
refuses a time outside the table's window) and compares with the source's count now, so a
difference is expected when the table changed since; ``--backup`` restores a DynamoDB backup
(one AWS Backup took, or an on-demand one) and compares with the count the backup records
(DynamoDB's ``ItemCount`` of the table when it was taken, which DynamoDB refreshes about every six
hours: a difference says "inspect", not "lost"). Exit 0 when the counts match, 2 when the restore
completed and they differ, 1 on an error (``{"error": ...}``). The target is only what the
arguments say; credentials come from boto3's usual chain.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from payment_core.contract import TABLE_STEMS

from ops.suffix_command import suffix_command

_DYNAMODB_BACKUP_ARN = re.compile(r"^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[^/]+/backup/[^/]+$")
_RECOVERY_POINT_ARN = re.compile(r"^arn:aws[a-z-]*:backup:")
# DescribeTable every 20 s while a restore runs (AWS restores take minutes to hours).
POLL_SECONDS = 20


class RestoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class RestoreResult:
    table: str
    source: str
    restored: str
    source_items: int
    restored_items: int

    @property
    def match(self) -> bool:
        return self.source_items == self.restored_items


def source_table_name(logical: str, suffix: str) -> str:
    if logical not in TABLE_STEMS:
        raise RestoreError(f"table must be one of {', '.join(TABLE_STEMS)}, got {logical!r}")
    return f"{TABLE_STEMS[logical]}-{suffix}"


def restored_table_name(source: str, now: datetime) -> str:
    return f"{source}-restored-{now.astimezone(UTC):%Y%m%d%H%M%S}"


def parse_time(value: str) -> datetime:
    """An ISO 8601 instant with its offset (``Z`` or ``+hh:mm``): a bare local time is ambiguous."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise RestoreError(f"TIME must be an ISO 8601 time such as 2026-12-03T07:00:00Z, got {value!r}") from error
    if parsed.tzinfo is None:
        raise RestoreError(f"TIME must carry its offset (Z or +hh:mm), got {value!r}")
    return parsed


def count_items(dynamodb: Any, table_name: str) -> int:
    total = 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table_name, Select="COUNT", ConsistentRead=True):
        total += int(page["Count"])
    return total


def _wait_active(dynamodb: Any, table_name: str, wait_minutes: int) -> None:
    attempts = max(1, wait_minutes * 60 // POLL_SECONDS)
    try:
        dynamodb.get_waiter("table_exists").wait(
            TableName=table_name, WaiterConfig={"Delay": POLL_SECONDS, "MaxAttempts": attempts}
        )
    except WaiterError as error:
        raise RestoreError(f"{table_name} is not ACTIVE after {wait_minutes} minutes: {error}") from error


def restore_to_time(dynamodb: Any, source: str, target: str, when: datetime) -> int:
    """Start the point-in-time restore; the count to compare with is the source's now."""
    dynamodb.restore_table_to_point_in_time(SourceTableName=source, TargetTableName=target, RestoreDateTime=when)
    return count_items(dynamodb, source)


def restore_from_backup(dynamodb: Any, source: str, target: str, backup_arn: str) -> int:
    """Start the restore of ``backup_arn`` (a backup of ``source``); the count to compare with is the backup's."""
    if _RECOVERY_POINT_ARN.match(backup_arn):
        raise RestoreError(
            "an AWS Backup recovery point ARN restores with `aws backup start-restore-job` "
            "(docs/operations.md); give the DynamoDB backup ARN (arn:...:dynamodb:...:table/<name>/backup/<id>)"
        )
    if not _DYNAMODB_BACKUP_ARN.match(backup_arn):
        raise RestoreError(f"BACKUP must be a DynamoDB backup ARN, got {backup_arn!r}")
    details = dynamodb.describe_backup(BackupArn=backup_arn)["BackupDescription"]["SourceTableDetails"]
    if details["TableName"] != source:
        raise RestoreError(f"backup {backup_arn} is of table {details['TableName']}, not {source}")
    dynamodb.restore_table_from_backup(TargetTableName=target, BackupArn=backup_arn)
    return int(details["ItemCount"])


def restore(
    dynamodb: Any, logical: str, suffix: str, *, when: datetime | None, backup_arn: str | None, wait_minutes: int
) -> RestoreResult:
    source = source_table_name(logical, suffix)
    target = restored_table_name(source, datetime.now(UTC))
    if (when is None) == (backup_arn is None):
        raise RestoreError("give exactly one of TIME and BACKUP")
    if when is not None:
        expected = restore_to_time(dynamodb, source, target, when)
    else:
        expected = restore_from_backup(dynamodb, source, target, str(backup_arn))
    _wait_active(dynamodb, target, wait_minutes)
    return RestoreResult(logical, source, target, expected, count_items(dynamodb, target))


def main(argv: list[str] | None = None) -> int:
    parser = suffix_command("restore", __doc__)
    parser.add_argument("--table", required=True, help=f"one of {', '.join(TABLE_STEMS)}")
    parser.add_argument("--time", default=None, help="restore the table as it was then (ISO 8601 with offset)")
    parser.add_argument("--backup", default=None, help="restore this DynamoDB backup ARN")
    parser.add_argument("--wait-minutes", type=int, default=120, help="how long to wait for the restored table")
    args = parser.parse_args(argv)
    dynamodb = boto3.session.Session(region_name=args.region).client("dynamodb", endpoint_url=args.endpoint)
    try:
        when = None if args.time is None else parse_time(args.time)
        result = restore(
            dynamodb, args.table, args.suffix, when=when, backup_arn=args.backup, wait_minutes=args.wait_minutes
        )
    except (RestoreError, ClientError, BotoCoreError) as error:
        print(json.dumps({"error": str(error), "table": args.table}))
        return 1
    line = {**asdict(result), "from": "time" if args.time else "backup", "match": result.match}
    print(json.dumps(line, sort_keys=True))
    return 0 if result.match else 2


if __name__ == "__main__":
    sys.exit(main())
