"""What makes a batch row queued once: payment-id claims, chunk progress and job counters.

Three kinds of DynamoDB records, all written with conditions so any retry is harmless:

* **claim** (claims table, key ``payment_id``): the one (job, row) allowed to queue that
  payment id. Written for a whole chunk in ``TransactWriteItems`` of up to 100 conditional
  puts *before* anything is sent. A row whose id is claimed by another row (same file or
  another file) is a duplicate and goes to the report; a claim by the same (job, row) is this
  row's own claim from an earlier attempt.
* **chunk progress** (jobs table, key ``<job_id>#chunk#<index>``): the row numbers SQS has
  accepted (a number set grown with ``ADD``, a union, so writing it twice is harmless), and
  ``DONE`` once the chunk's counts were added to the job.
* **job counters** (jobs table, the job's own record): ``rows``/``queued``/``rejected``/
  ``chunks_done`` added in the same transaction that marks the chunk ``DONE``, so a chunk is
  counted once however often it completes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.payments.models import format_timestamp
from payment_core.payments.repository import from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

# DynamoDB's limit on actions in one TransactWriteItems call.
MAX_TRANSACTION_ITEMS: Final = 100
CHUNK_DONE: Final = "DONE"


@dataclass(frozen=True)
class ClaimOwner:
    batch_job_id: str
    row_number: int
    key: str


@dataclass(frozen=True)
class ClaimResult:
    """``others``: ids some other row owns. ``earlier``: ids this very row had claimed in an
    earlier attempt (so that attempt may have sent them)."""

    others: dict[str, ClaimOwner]
    earlier: set[str]


@dataclass(frozen=True)
class ChunkCounts:
    rows: int
    queued: int
    rejected: int


class ClaimContention(Exception):
    """A claim transaction was cancelled for a reason other than an existing claim
    (``TransactionConflict`` with a concurrent writer, throttling). Retried by the chunk's
    retry policy; nothing was written."""


def chunk_record_id(batch_job_id: str, index: int) -> str:
    return f"{batch_job_id}#chunk#{index:06d}"


class BatchLedger:
    def __init__(self, client: DynamoDBClient, jobs_table: str, claims_table: str, *, rerun_window: timedelta) -> None:
        self._client = client
        self._jobs = jobs_table
        self._claims = claims_table
        # A claim expires (the table's TTL, contract.BATCH_CLAIM_EXPIRES_AT) once no re-run of its
        # file can come: past it a row is no longer reported as a duplicate, and the queue
        # consumer's conditional put on payment_id still creates each payment once.
        self._rerun_window = rerun_window

    # --- claims -----------------------------------------------------------------------------
    def claim(self, owner_job: str, key: str, rows: Sequence[tuple[str, int]], now: datetime) -> ClaimResult:
        """Claim ``(payment_id, row_number)`` pairs (ids unique among them) for ``owner_job``.

        Returns the ids owned by some *other* row. An id already claimed by the same job and
        row (an earlier attempt of this chunk) counts as owned by this row.
        """
        result = ClaimResult({}, set())
        for start in range(0, len(rows), MAX_TRANSACTION_ITEMS):
            self._claim_group(owner_job, key, rows[start : start + MAX_TRANSACTION_ITEMS], now, result)
        return result

    def _claim_group(
        self, owner_job: str, key: str, rows: Sequence[tuple[str, int]], now: datetime, result: ClaimResult
    ) -> None:
        pending = list(rows)
        # Each cancelled round removes every already-claimed id it names, so the loop ends
        # after at most two rounds unless a concurrent chunk claims ids in between.
        while pending:
            try:
                self._client.transact_write_items(
                    TransactItems=[self._claim_put(owner_job, key, payment_id, row, now) for payment_id, row in pending]
                )
                return
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                    raise
                reasons = error.response.get("CancellationReasons", [])
                if len(reasons) != len(pending):
                    raise ClaimContention(f"claim transaction cancelled: {error}") from error
            still_pending: list[tuple[str, int]] = []
            contended = False
            for (payment_id, row), reason in zip(pending, reasons, strict=True):
                code = reason.get("Code")
                if code == "ConditionalCheckFailed" and "Item" in reason:
                    existing = from_attributes(reason["Item"])
                    owner = ClaimOwner(
                        str(existing["batch_job_id"]), int(str(existing["row_number"])), str(existing["key"])
                    )
                    if (owner.batch_job_id, owner.row_number) == (owner_job, row):
                        result.earlier.add(payment_id)
                    else:
                        result.others[payment_id] = owner
                elif code in (None, "None"):
                    still_pending.append((payment_id, row))
                else:
                    contended = True
            if contended:
                raise ClaimContention(f"claim transaction cancelled: {[r.get('Code') for r in reasons]}")
            pending = still_pending

    def _claim_put(
        self, owner_job: str, key: str, payment_id: str, row: int, now: datetime
    ) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._claims,
                "Item": to_attributes(
                    {
                        "payment_id": payment_id,
                        "batch_job_id": owner_job,
                        "row_number": row,
                        "key": key,
                        "claimed_at": format_timestamp(now),
                        contract.BATCH_CLAIM_EXPIRES_AT: int((now + self._rerun_window).timestamp()),
                    }
                ),
                # TTL deletes an expired item only eventually (typically within days): until then
                # the item is still there, and expired counts as absent.
                "ConditionExpression": "attribute_not_exists(payment_id) OR #expires < :now",
                "ExpressionAttributeNames": {"#expires": contract.BATCH_CLAIM_EXPIRES_AT},
                "ExpressionAttributeValues": {":now": {"N": str(int(now.timestamp()))}},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    # --- chunk progress ---------------------------------------------------------------------
    def accepted_rows(self, batch_job_id: str, index: int) -> tuple[set[int], bool]:
        """Rows SQS accepted in earlier attempts of this chunk, and whether it is DONE."""
        response = self._client.get_item(
            TableName=self._jobs,
            Key={"job_id": {"S": chunk_record_id(batch_job_id, index)}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return set(), False
        sent = {int(value) for value in item.get("sent", {}).get("NS", [])}
        return sent, item.get("state", {}).get("S") == CHUNK_DONE

    def record_accepted(self, batch_job_id: str, index: int, rows: Iterable[int]) -> None:
        numbers = sorted({str(row) for row in rows})
        if not numbers:  # DynamoDB has no empty sets
            return
        self._client.update_item(
            TableName=self._jobs,
            Key={"job_id": {"S": chunk_record_id(batch_job_id, index)}},
            UpdateExpression="ADD sent :rows",
            ExpressionAttributeValues={":rows": {"NS": numbers}},
        )

    def complete_chunk(self, batch_job_id: str, index: int, counts: ChunkCounts, now: datetime) -> bool:
        """Mark the chunk DONE and add its counts to the job, once. False if already DONE."""
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._jobs,
                            "Key": {"job_id": {"S": chunk_record_id(batch_job_id, index)}},
                            "UpdateExpression": "SET #state = :done, finished_at = :now REMOVE sent",
                            "ConditionExpression": "attribute_not_exists(#state) OR #state <> :done",
                            "ExpressionAttributeNames": {"#state": "state"},
                            "ExpressionAttributeValues": to_attributes(
                                {":done": CHUNK_DONE, ":now": format_timestamp(now)}
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._jobs,
                            "Key": {"job_id": {"S": batch_job_id}},
                            "UpdateExpression": "ADD #rows :rows, queued :queued, rejected :rejected, chunks_done :one",
                            "ConditionExpression": "attribute_exists(job_id)",
                            "ExpressionAttributeNames": {"#rows": "rows"},
                            "ExpressionAttributeValues": to_attributes(
                                {
                                    ":rows": counts.rows,
                                    ":queued": counts.queued,
                                    ":rejected": counts.rejected,
                                    ":one": 1,
                                }
                            ),
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True
