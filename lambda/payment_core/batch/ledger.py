"""What makes a batch row queued once: payment-id claims, chunk progress and job counters.

Three kinds of DynamoDB records, all written with conditions so any retry is harmless:

* **claim** (claims table, key ``payment_id``): the one (job, row) allowed to queue that
  payment id. Written for a whole chunk in ``TransactWriteItems`` of up to 100 conditional
  puts *before* anything is sent. A row whose id is claimed by another row (same file or
  another file) is a duplicate and goes to the report; a claim by the same (job, row) is this
  row's own claim from an earlier attempt. A claim names the chunk of its row, so that a
  re-upload of a FAILED file can take over the claims its run never sent (``take_over_unsent``).
* **chunk progress** (jobs table, key ``<job_id>#chunk#<index>``): the row numbers SQS has
  accepted (a number set grown with ``ADD``, a union, so writing it twice is harmless), and
  ``DONE`` once the chunk's counts were added to the job.
* **job counters** (jobs table, the job's own record): ``rows``/``queued``/``rejected``/
  ``chunks_done`` added in the same transaction that marks the chunk ``DONE``, so a chunk is
  counted once however often it completes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.batch.jobs import FAILED
from payment_core.payments.models import format_timestamp
from payment_core.payments.repository import from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import PutTypeDef

# DynamoDB's limit on actions in one TransactWriteItems call.
MAX_TRANSACTION_ITEMS: Final = 100
CHUNK_DONE: Final = "DONE"


@dataclass(frozen=True)
class ClaimOwner:
    """Which batch file row holds the claim on a payment id."""

    batch_job_id: str
    row_number: int
    key: str
    # The owner row's chunk; None on claims written before claims named it (never taken over).
    chunk: int | None = None


@dataclass(frozen=True)
class ClaimResult:
    """``others``: ids some other row owns. ``earlier``: ids this very row had claimed in an
    earlier attempt (so that attempt may have sent them)."""

    others: dict[str, ClaimOwner]
    earlier: set[str]


@dataclass(frozen=True)
class ChunkCounts:
    """A done chunk's counts: rows read, queued and rejected."""

    rows: int
    queued: int
    rejected: int


class ClaimContention(Exception):
    """A claim transaction was cancelled for a reason other than an existing claim
    (``TransactionConflict`` with a concurrent writer, throttling). Retried by the chunk's
    retry policy; nothing was written."""


def _owner(item: Mapping[str, Any]) -> ClaimOwner:
    """The owner a claim item names (DynamoDB attribute values)."""
    claim = from_attributes(dict(item))
    chunk = claim.get("chunk")
    return ClaimOwner(
        str(claim["batch_job_id"]),
        int(str(claim["row_number"])),
        str(claim["key"]),
        None if chunk is None else int(str(chunk)),
    )


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
    def claim(
        self, owner_job: str, key: str, rows: Sequence[tuple[str, int]], now: datetime, *, chunk: int
    ) -> ClaimResult:
        """Claim ``(payment_id, row_number)`` pairs (ids unique among them) of ``chunk`` for ``owner_job``.

        Returns the ids owned by some *other* row. An id already claimed by the same job and
        row (an earlier attempt of this chunk) counts as owned by this row.
        """
        result = ClaimResult({}, set())
        for start in range(0, len(rows), MAX_TRANSACTION_ITEMS):
            self._claim_group(owner_job, key, rows[start : start + MAX_TRANSACTION_ITEMS], now, chunk, result)
        return result

    def _claim_group(
        self,
        owner_job: str,
        key: str,
        rows: Sequence[tuple[str, int]],
        now: datetime,
        chunk: int,
        result: ClaimResult,
    ) -> None:
        pending = list(rows)
        # Each cancelled round removes every already-claimed id it names, so the loop ends
        # after at most two rounds unless a concurrent chunk claims ids in between.
        while pending:
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {"Put": self._claim_put(owner_job, key, payment_id, row, chunk, now)}
                        for payment_id, row in pending
                    ]
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
                    owner = _owner(reason["Item"])
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

    def _claim_put(self, owner_job: str, key: str, payment_id: str, row: int, chunk: int, now: datetime) -> PutTypeDef:
        return {
            "TableName": self._claims,
            "Item": to_attributes(
                {
                    "payment_id": payment_id,
                    "batch_job_id": owner_job,
                    "row_number": row,
                    "key": key,
                    "chunk": chunk,
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

    def take_over_unsent(
        self, owner_job: str, key: str, chunk: int, contested: dict[str, tuple[int, ClaimOwner]], now: datetime
    ) -> tuple[set[str], dict[str, ClaimOwner]]:
        """Take the claims of a FAILED job's rows that it never sent, for this chunk's rows.

        ``contested`` maps each payment id another row owns to (this chunk's row that claims
        it, that owner). A FAILED job's execution has ended, and its chunk progress lists every
        row SQS accepted (a DONE chunk sent all of its rows), so an owner row in neither was
        never sent: a re-upload of the failed file must queue it rather than report it as
        "already queued". Each takeover is conditional on the claim still naming that owner.
        Returns the ids now claimed by this chunk's rows, and the current owner of any id whose
        claim changed hands meanwhile.

        An owner attempt killed after SQS accepted a row and before it wrote its progress can
        have sent a row taken over here; the queue consumer's conditional create by
        ``payment_id`` makes the second copy a no-op, as for SQS's own redeliveries.
        """
        states: dict[str, str | None] = {}
        progress: dict[tuple[str, int], tuple[set[int], bool]] = {}
        taken: set[str] = set()
        moved: dict[str, ClaimOwner] = {}
        for payment_id, (row, owner) in contested.items():
            if owner.chunk is None:
                continue
            if owner.batch_job_id not in states:
                states[owner.batch_job_id] = self._job_state(owner.batch_job_id)
            if states[owner.batch_job_id] != FAILED:
                continue
            place = (owner.batch_job_id, owner.chunk)
            if place not in progress:
                progress[place] = self.accepted_rows(*place)
            sent, done = progress[place]
            if done or owner.row_number in sent:
                continue
            current = self._replace_claim(owner, self._claim_put(owner_job, key, payment_id, row, chunk, now))
            if current is None:
                taken.add(payment_id)
            else:
                moved[payment_id] = current
        return taken, moved

    def _replace_claim(self, owner: ClaimOwner, put: PutTypeDef) -> ClaimOwner | None:
        """Write ``put`` over ``owner``'s claim; None if written, else the claim's current owner."""
        try:
            self._client.put_item(
                TableName=put["TableName"],
                Item=put["Item"],
                ConditionExpression="batch_job_id = :job AND row_number = :row",
                ExpressionAttributeValues=to_attributes({":job": owner.batch_job_id, ":row": owner.row_number}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            # PutItem's ALL_OLD on a failed condition: the claim as it is now.
            item: Any = error.response.get("Item")
            return _owner(item) if item else owner
        return None

    def _job_state(self, batch_job_id: str) -> str | None:
        item = self._client.get_item(
            TableName=self._jobs,
            Key={"job_id": {"S": batch_job_id}},
            ConsistentRead=True,
            ProjectionExpression="#state",
            ExpressionAttributeNames={"#state": "state"},
        ).get("Item")
        return item["state"]["S"] if item and "state" in item else None

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
