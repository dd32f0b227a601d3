"""Backfill of the open-payments index: old non-final payments get their shard, once, page by page."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from payment_core import contract
from payment_core.payments.models import open_shard
from payment_core.payments.sweeping import OpenPayments

from ops.backfill_open_payments import BackfillReport, backfill, main
from tests.ops.stacks import REGION

TABLE = "payments-prod"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "payment_id", "KeyType": "HASH"}],
            AttributeDefinitions=[
                {"AttributeName": "payment_id", "AttributeType": "S"},
                {"AttributeName": contract.OPEN_SHARD_ATTRIBUTE, "AttributeType": "S"},
                {"AttributeName": "created_at", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": contract.OPEN_PAYMENTS_INDEX,
                    "KeySchema": [
                        {"AttributeName": contract.OPEN_SHARD_ATTRIBUTE, "KeyType": "HASH"},
                        {"AttributeName": "created_at", "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": "KEYS_ONLY"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def put(client: Any, payment_id: str, status: str, *, indexed: bool = False) -> None:
    item = {"payment_id": {"S": payment_id}, "status": {"S": status}, "created_at": {"S": "2026-01-01T00:00:00.000Z"}}
    if indexed:
        item[contract.OPEN_SHARD_ATTRIBUTE] = {"S": open_shard(payment_id)}
    client.put_item(TableName=TABLE, Item=item)


def indexed_ids(client: Any) -> set[str]:
    index = OpenPayments(client, TABLE)
    return {pid for shard in range(contract.OPEN_SHARDS) for pid in index.created_before(str(shard), "9999")}


def shard_of(client: Any, payment_id: str) -> str | None:
    item = client.get_item(TableName=TABLE, Key={"payment_id": {"S": payment_id}})["Item"]
    return item.get(contract.OPEN_SHARD_ATTRIBUTE, {}).get("S")


def test_old_open_payments_are_indexed_once_and_final_ones_never(dynamodb: Any) -> None:
    for n in range(3):
        put(dynamodb, f"old-pending-{n}", "PENDING")
    put(dynamodb, "old-authorized", "AUTHORIZED")
    put(dynamodb, "old-settled", "SETTLED")
    put(dynamodb, "old-failed", "FAILED")
    put(dynamodb, "new-pending", "PENDING", indexed=True)
    assert indexed_ids(dynamodb) == {"new-pending"}

    first = backfill(dynamodb, TABLE, page_size=2)

    assert first == BackfillReport(scanned=7, backfilled=4, already_indexed=1, final=2, changed_meanwhile=0, pages=4)
    assert indexed_ids(dynamodb) == {"old-pending-0", "old-pending-1", "old-pending-2", "old-authorized", "new-pending"}
    assert shard_of(dynamodb, "old-authorized") == open_shard("old-authorized")  # as if written with it
    assert shard_of(dynamodb, "old-settled") is None

    again = backfill(dynamodb, TABLE, page_size=2)

    assert (again.backfilled, again.already_indexed, again.final) == (0, 5, 2)


def put_legacy_refund(client: Any, refund_id: str, status: str) -> None:
    """A refund as stored before refunds joined the index: no shard, no created_at."""
    item = {
        "payment_id": {"S": refund_id},
        "object": {"S": "refund"},
        "status": {"S": status},
        "created": {"S": "2026-01-02T00:00:00.000Z"},
    }
    client.put_item(TableName=TABLE, Item=item)


def test_an_old_pending_refund_is_indexed_by_its_creation_and_a_final_one_never(dynamodb: Any) -> None:
    put_legacy_refund(dynamodb, "re_pending", "PENDING")
    put_legacy_refund(dynamodb, "re_succeeded", "SUCCEEDED")
    put_legacy_refund(dynamodb, "re_failed", "FAILED")

    report = backfill(dynamodb, TABLE)

    assert (report.scanned, report.backfilled, report.final) == (3, 1, 2)
    assert indexed_ids(dynamodb) == {"re_pending"}
    item = dynamodb.get_item(TableName=TABLE, Key={"payment_id": {"S": "re_pending"}})["Item"]
    assert item["created_at"] == {"S": "2026-01-02T00:00:00.000Z"}
    assert shard_of(dynamodb, "re_succeeded") is None and shard_of(dynamodb, "re_failed") is None


def test_a_payment_made_final_between_read_and_write_is_left_out(dynamodb: Any) -> None:
    put(dynamodb, "racing", "PENDING")

    class FinalMeanwhile:
        """The workflow settles the payment between the scan and the backfill's write."""

        def __getattr__(self, name: str) -> Any:
            return getattr(dynamodb, name)

        def update_item(self, **call: Any) -> Any:
            put(dynamodb, "racing", "SETTLED")
            return dynamodb.update_item(**call)

    report = backfill(FinalMeanwhile(), TABLE)

    assert (report.backfilled, report.changed_meanwhile) == (0, 1)
    assert shard_of(dynamodb, "racing") is None


def test_the_command_prints_its_report_and_refuses_a_bad_page_size(
    dynamodb: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(dynamodb, "old-pending", "PENDING")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"payments_table_name": TABLE}))

    assert main(["--outputs", str(outputs), "--region", REGION]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "already_indexed": 0,
        "backfilled": 1,
        "changed_meanwhile": 0,
        "final": 0,
        "pages": 1,
        "scanned": 1,
    }
    assert main(["--outputs", str(outputs), "--region", REGION, "--page-size", "0"]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": "page-size must be at least 1, got 0"}
