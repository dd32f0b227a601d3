"""One chunk of a batch file: validate its rows, claim their payment ids, queue them once.

Order of work, and why each row is queued once (``docs/batch-files.md``):

1. read the chunk's records (``csv_chunks``) and validate them as a whole-file read would;
2. claim the payment id of each id's first valid row in the chunk (``BatchLedger.claim``)
   *before* sending anything; every other row holding that id, in this chunk or not, is
   reported as a duplicate of the claim's owner and never sent, so a file's report is the
   same whatever its chunk size. A claim whose owner is a FAILED job that never sent that
   row (a re-upload of a failed file) is taken over (``BatchLedger.take_over_unsent``), so
   the re-upload queues exactly the rows the failed run did not;
3. rows SQS already accepted in an earlier attempt of this chunk (its progress record, read
   first) are neither claimed again nor sent;
4. send the rest ten at a time, remembering exactly which entries SQS accepted; when a send
   fails for good, or the invocation's time runs short, write the accepted rows to the
   chunk's progress record *then* raise, so the retried attempt continues where this one
   stopped;
5. mark the chunk done and add its counts to the job, once (a transaction).

Only an attempt that dies without running its own code (killed after SQS accepted entries
and before step 4 wrote them down) can send a row again; the queue consumer's conditional
create by ``payment_id`` makes that copy a no-op, exactly as for SQS's own at-least-once
delivery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from payment_core.batch.csv_chunks import BoundedLines, Chunk, read_records
from payment_core.batch.ledger import MAX_TRANSACTION_ITEMS, BatchLedger, ChunkCounts, ClaimOwner
from payment_core.batch.rows import Rejection, parse_row
from payment_core.rules import BusinessRules

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

SQS_BATCH_SIZE: Final = 10  # SendMessageBatch takes at most 10 entries


class ChunkIncomplete(Exception):
    """Some valid rows of the chunk are not queued yet; progress is saved, retry the chunk.

    The class name is the error Step Functions' Retry matches (see ``contract``).
    """


class ChunkMismatch(Exception):
    """The bytes read do not hold the records the plan promised (the object changed?)."""


@dataclass(frozen=True)
class ValidRow:
    """A row that passed validation: its number in the file, its payment id and the message body to queue."""

    row_number: int
    payment_id: str
    body: str


@dataclass
class ChunkRows:
    """A chunk's rows once validated: how many were read, the valid ones and the rejections."""

    rows: int = 0
    valid: list[ValidRow] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def validate_chunk(
    read: Callable[[int], bytes],
    chunk: Chunk,
    rules: BusinessRules,
    batch_job_id: str,
    merchant_is_active: Callable[[str], bool],
) -> ChunkRows:
    """Every record of the chunk: valid rows (as queue bodies) and rejected ones.

    Valid rows may repeat a payment id: ``owned_rows`` decides which row queues it, once the
    claims are known (deciding here would name the chunk's first row as the owner even when
    an earlier chunk holds the id).

    A row must name a merchant for which ``merchant_is_active`` holds (batch files are an
    operator path: a row for an unknown or disabled merchant is reported, never queued).
    Card numbers in free text are refused by ``parse_row`` (the report shows the last four).
    """
    lines = BoundedLines(read, chunk.start)
    result = ChunkRows()
    active: dict[str, bool] = {}  # one lookup per merchant per chunk (AWS calls per 1,000 rows)
    steps = 0
    for record in read_records(lines, chunk.first_row):
        steps += 1
        if record.fields is None:
            result.rows += 1
            result.rejections.append(Rejection(record.row_number, record.error or "unreadable row"))
            continue
        if not record.fields:  # blank line
            continue
        result.rows += 1
        outcome = parse_row(record.fields, record.row_number, rules, batch_job_id)
        if not isinstance(outcome, Rejection):
            merchant_id = str(outcome["merchant_id"])
            if merchant_id not in active:
                active[merchant_id] = merchant_is_active(merchant_id)
            if not active[merchant_id]:
                outcome = Rejection(record.row_number, f"merchant_id: {merchant_id} is not an active merchant")
        if isinstance(outcome, Rejection):
            result.rejections.append(outcome)
        else:
            body = json.dumps(outcome, sort_keys=True, separators=(",", ":"))
            result.valid.append(ValidRow(record.row_number, str(outcome["payment_id"]), body))
    if steps != chunk.records or lines.settle() != chunk.end:
        raise ChunkMismatch(
            f"chunk {chunk.index}: expected {chunk.records} records in bytes {chunk.start}-{chunk.end}, "
            f"read {steps} ending at {lines.offset}"
        )
    return result


def duplicate_reason(owner: ClaimOwner, batch_job_id: str) -> str:
    if owner.batch_job_id == batch_job_id:
        return f"payment_id: duplicate of row {owner.row_number}"
    return f"payment_id: already queued from {owner.key} row {owner.row_number}"


def claiming_rows(valid: list[ValidRow]) -> list[ValidRow]:
    """The first row of the chunk holding each payment id: the rows that claim it (the ids
    of one claim call are unique)."""
    first: dict[str, ValidRow] = {}
    for row in valid:
        first.setdefault(row.payment_id, row)
    return list(first.values())


def owned_rows(
    valid: list[ValidRow], claimed_by_others: dict[str, ClaimOwner], batch_job_id: str, key: str
) -> tuple[list[ValidRow], list[Rejection]]:
    """The rows that queue their payment id, and every other valid row as a duplicate.

    An id's owner is the row its claim names: another row's (an earlier chunk of this file,
    or another file) when ``claimed_by_others`` has it, else this chunk's first row holding
    it. Every later row is a duplicate *of that owner*, whichever chunk it sits in.
    """
    owners = dict(claimed_by_others)
    owned: list[ValidRow] = []
    duplicates: list[Rejection] = []
    for row in valid:
        owner = owners.get(row.payment_id)
        if owner is None:
            owners[row.payment_id] = ClaimOwner(batch_job_id, row.row_number, key)
            owned.append(row)
        else:
            duplicates.append(Rejection(row.row_number, duplicate_reason(owner, batch_job_id)))
    return owned, duplicates


class AcceptedRowSender:
    """SendMessageBatch ten rows at a time; ``accepted`` holds every row SQS took."""

    def __init__(self, client: SQSClient, queue_url: str) -> None:
        self._client = client
        self._queue_url = queue_url
        self.accepted: set[int] = set()

    def send(self, rows: list[ValidRow]) -> list[ValidRow]:
        """One call; returns the rows SQS refused (``Failed`` entries)."""
        response = self._client.send_message_batch(
            QueueUrl=self._queue_url,
            Entries=[{"Id": str(row.row_number), "MessageBody": row.body} for row in rows],
        )
        failed = {entry["Id"] for entry in response.get("Failed", [])}
        for row in rows:
            if str(row.row_number) not in failed:
                self.accepted.add(row.row_number)
        return [row for row in rows if str(row.row_number) in failed]


@dataclass(frozen=True)
class ChunkResult:
    """What ingesting one chunk did: rows read, queued and rejected (with why)."""

    index: int
    rows: int
    queued: int
    rejected: int
    rejections: list[Rejection]
    already_done: bool = False

    def summary(self) -> dict[str, Any]:
        """Every field but the rejections (the report gets those)."""
        return {name: getattr(self, name) for name in ("index", "rows", "queued", "rejected", "already_done")}


@dataclass(frozen=True)
class ChunkJob:
    """One chunk of one batch file to ingest."""

    batch_job_id: str
    key: str
    chunk: Chunk


def ingest_chunk(
    job: ChunkJob,
    read: Callable[[int], bytes],
    rules: BusinessRules,
    ledger: BatchLedger,
    sender: AcceptedRowSender,
    merchant_is_active: Callable[[str], bool],
    remaining_ms: Callable[[], int],
    now: Callable[[], datetime],
    reserve_ms: int,
    before_completion: Callable[[list[Rejection]], None] = lambda rejections: None,
) -> ChunkResult:
    """Queue the chunk's valid rows once; raise ``ChunkIncomplete`` with progress saved."""
    chunk = job.chunk
    # One read up front: a retried chunk skips what earlier attempts finished (cheap retries
    # are what let a chunk that outgrows one invocation complete over several).
    done_before, chunk_done = ledger.accepted_rows(job.batch_job_id, chunk.index)
    if chunk_done:
        return ChunkResult(chunk.index, 0, 0, 0, [], already_done=True)
    rows = validate_chunk(read, chunk, rules, job.batch_job_id, merchant_is_active)
    # A row SQS accepted had claimed its id first; only the others need claiming.
    to_claim = [
        (row.payment_id, row.row_number) for row in claiming_rows(rows.valid) if row.row_number not in done_before
    ]
    others: dict[str, ClaimOwner] = {}
    for start in range(0, len(to_claim), MAX_TRANSACTION_ITEMS):
        _check_time(remaining_ms, reserve_ms, f"{len(to_claim) - start} rows left to claim")
        group = to_claim[start : start + MAX_TRANSACTION_ITEMS]
        others.update(ledger.claim(job.batch_job_id, job.key, group, now(), chunk=chunk.index).others)
    if others:
        # A re-upload of a FAILED file: the rows its run claimed but never sent are this
        # file's to queue, not "already queued".
        _check_time(remaining_ms, reserve_ms, f"{len(others)} claims of other rows left to check")
        claimer = dict(to_claim)
        contested = {payment_id: (claimer[payment_id], owner) for payment_id, owner in others.items()}
        taken, moved = ledger.take_over_unsent(job.batch_job_id, job.key, chunk.index, contested, now())
        others = {
            payment_id: moved.get(payment_id, owner) for payment_id, owner in others.items() if payment_id not in taken
        }
    owned, duplicates = owned_rows(rows.valid, others, job.batch_job_id, job.key)
    rejections = rows.rejections + duplicates
    rejections.sort(key=lambda rejection: rejection.row_number)
    to_send = [row for row in owned if row.row_number not in done_before]
    try:
        _send_all(to_send, sender, remaining_ms, reserve_ms)
    except (ChunkIncomplete, ClientError, BotoCoreError) as error:
        ledger.record_accepted(job.batch_job_id, chunk.index, sender.accepted)
        if isinstance(error, ChunkIncomplete):
            raise
        queued = len(done_before) + len(sender.accepted)
        raise ChunkIncomplete(f"chunk {chunk.index}: {queued} of {len(owned)} rows queued; {error}") from error
    counts = ChunkCounts(rows=rows.rows, queued=len(owned), rejected=len(rejections))
    before_completion(rejections)
    first_completion = ledger.complete_chunk(job.batch_job_id, chunk.index, counts, now())
    return ChunkResult(
        chunk.index, counts.rows, counts.queued, counts.rejected, rejections, already_done=not first_completion
    )


def _check_time(remaining_ms: Callable[[], int], reserve_ms: int, left: str) -> None:
    if remaining_ms() < reserve_ms:
        raise ChunkIncomplete(f"{left} when the invocation's time ran short")


def _send_all(
    rows: list[ValidRow], sender: AcceptedRowSender, remaining_ms: Callable[[], int], reserve_ms: int
) -> None:
    pending = list(rows)
    refused_rounds = 0
    while pending:
        _check_time(remaining_ms, reserve_ms, f"{len(pending)} rows left to send")
        group, pending = pending[:SQS_BATCH_SIZE], pending[SQS_BATCH_SIZE:]
        refused = sender.send(group)
        if refused:
            refused_rounds += 1
            if refused_rounds > 3:
                raise ChunkIncomplete(f"SQS kept refusing {len(refused)} entries")
            pending = refused + pending
