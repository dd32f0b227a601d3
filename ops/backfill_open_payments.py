"""Put payments stored before the sparse open-payments index into it, on a deployed stack.

``python -m ops.backfill_open_payments --outputs <file> [--stack <name>] [--endpoint <url>]
[--region <region>] [--page-size <n>]`` prints one JSON line ``{"scanned", "backfilled",
"already_indexed", "final", "changed_meanwhile", "pages"}``.

A payment written before the index existed has no ``open_shard`` attribute, so the sweeper and
the oldest-open-payment alarm cannot see it. This scans the payments table page by page
(``Limit`` per page, one page in memory) and gives every non-final payment without the attribute
the shard it would have been written with (``payment_core.payments.models.open_shard``), in an
``UpdateItem`` conditional on the payment still lacking the attribute and still having the
status it was read with: a payment made final or changed meanwhile is left as it is (counted in
``changed_meanwhile``), and a second run changes nothing (idempotent). Run it once after
deploying the stack that created the index; the sweeper finds what it backfilled from its next run.
A refund stored before refunds joined the index is one of the table's items too: a PENDING one
gets its shard and ``created_at`` (its ``created``), a SUCCEEDED or FAILED one counts as final.

The target is given as for ``make merchant`` (``ops/stack_target.py``): outputs file, endpoint,
region; credentials from boto3's usual chain. Errors print ``{"error": ...}`` and exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from payment_core import contract
from payment_core.payments.models import TERMINAL_STATUSES, open_shard
from payment_core.payments.refund_models import FINAL_REFUND_STATUSES
from payment_core.payments.repository import REFUND_OBJECT

from ops.stack_target import OnboardingError, Target, read_outputs

DEFAULT_PAGE_SIZE = 500
FINAL = frozenset(status.value for status in TERMINAL_STATUSES)
REFUND_FINAL = frozenset(status.value for status in FINAL_REFUND_STATUSES)


@dataclass
class BackfillReport:
    scanned: int = 0
    backfilled: int = 0
    already_indexed: int = 0
    final: int = 0
    changed_meanwhile: int = 0
    pages: int = 0


def backfill(client: Any, table: str, page_size: int = DEFAULT_PAGE_SIZE) -> BackfillReport:
    """Index every non-final payment of ``table`` that lacks the open-shard attribute."""
    report = BackfillReport()
    pages = client.get_paginator("scan").paginate(
        TableName=table,
        ProjectionExpression="payment_id, #status, #open, #object, created",
        ExpressionAttributeNames={"#status": "status", "#open": contract.OPEN_SHARD_ATTRIBUTE, "#object": "object"},
        ConsistentRead=True,
        PaginationConfig={"PageSize": page_size},
    )
    for page in pages:
        report.pages += 1
        for item in page["Items"]:
            report.scanned += 1
            status = item["status"]["S"]
            # A refund's index range key is its creation time (a payment has created_at already).
            since = item["created"]["S"] if item.get("object", {}).get("S") == REFUND_OBJECT else None
            if contract.OPEN_SHARD_ATTRIBUTE in item:
                report.already_indexed += 1
            elif status in (FINAL if since is None else REFUND_FINAL):
                report.final += 1
            elif _index(client, table, item["payment_id"]["S"], status, since):
                report.backfilled += 1
            else:
                report.changed_meanwhile += 1
    return report


def _index(client: Any, table: str, payment_id: str, status: str, since: str | None) -> bool:
    values = {":shard": {"S": open_shard(payment_id)}, ":status": {"S": status}}
    update = "SET #open = :shard"
    if since is not None:
        values[":since"] = {"S": since}
        update += ", created_at = :since"
    try:
        client.update_item(
            TableName=table,
            Key={"payment_id": {"S": payment_id}},
            UpdateExpression=update,
            ConditionExpression="attribute_not_exists(#open) AND #status = :status",
            ExpressionAttributeNames={"#open": contract.OPEN_SHARD_ATTRIBUTE, "#status": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.backfill_open_payments", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--outputs", type=Path, required=True, help="the stack's outputs (cdktf --outputs-file, ...)")
    parser.add_argument("--stack", default=None, help="the stack in a cdktf outputs file holding several")
    parser.add_argument("--endpoint", default=None, help="AWS-compatible endpoint URL (default: AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: the api_endpoint_url's)")
    parser.add_argument("--page-size", type=int, default=DEFAULT_PAGE_SIZE, help="items read per Scan page")
    args = parser.parse_args(argv)
    try:
        if args.page_size < 1:
            raise OnboardingError(f"page-size must be at least 1, got {args.page_size}")
        target = Target(read_outputs(args.outputs, args.stack), args.endpoint, args.region)
        report = backfill(target.client("dynamodb"), str(target.output("payments_table_name")), args.page_size)
    except (OnboardingError, ClientError, BotoCoreError) as error:
        print(json.dumps({"error": str(error)}))
        return 1
    print(json.dumps(asdict(report), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
