"""A chunk queues each valid row once, whatever fails and however often it is retried."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from payment_core import contract
from payment_core.batch.chunk_ingest import AcceptedRowSender, ChunkIncomplete, ChunkJob, ingest_chunk
from payment_core.batch.csv_chunks import Chunk, plan_chunks
from payment_core.batch.ledger import BatchLedger, ChunkCounts, ClaimContention, ClaimOwner, chunk_record_id
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables
from payment_core.tenancy.merchants import MerchantDirectory

from testkit.environment import HANDLER_ENVIRONMENT, TABLES
from testkit.events import CSV_HEADER as HEADER

RULES = BusinessRules.read(FunctionVariables(contract.BATCH_INGEST, HANDLER_ENVIRONMENT))
CLAIMS = TABLES[contract.BATCH_CLAIMS_TABLE_NAME]
JOBS = TABLES[contract.BATCH_JOBS_TABLE_NAME]
NOW = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
RERUN_WINDOW = timedelta(days=90)
PLENTY_MS = 60_000


def rows_file(count: int, first: int = 1, dup_of: dict[int, int] | None = None) -> bytes:
    lines = [HEADER]
    for n in range(first, first + count):
        payment = (dup_of or {}).get(n, n)
        lines.append(f"p-{payment:05d},merchant-1,{n}.00,USD,cust-{n}")
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.fixture
def ledger(aws: Any) -> BatchLedger:
    return BatchLedger(aws.dynamodb, JOBS, CLAIMS, rerun_window=RERUN_WINDOW)


def start_job(aws: Any, job_id: str) -> None:
    aws.dynamodb.put_item(TableName=JOBS, Item={"job_id": {"S": job_id}, "state": {"S": "RUNNING"}})


def fail_job(aws: Any, job_id: str) -> None:
    """What RecordFailure does when a file's execution gives up."""
    aws.dynamodb.update_item(
        TableName=JOBS,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET #state = :failed",
        ExpressionAttributeNames={"#state": "state"},
        ExpressionAttributeValues={":failed": {"S": "FAILED"}},
    )


def job_record(aws: Any, job_id: str) -> dict[str, str]:
    item = aws.dynamodb.get_item(TableName=JOBS, Key={"job_id": {"S": job_id}})["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def queued_rows(aws: Any) -> list[int]:
    return sorted(json.loads(m["Body"])["row_number"] for m in aws.drain(aws.queue_url))


class FlakySqs:
    """Real moto SQS behind a script of faults: an exception, or entries reported Failed."""

    def __init__(self, real: Any, script: list[str]) -> None:
        self._real = real
        self._script = list(script)
        self.calls = 0

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self.calls += 1
        fault = self._script.pop(0) if self._script else "ok"
        if fault == "throttle":
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendMessageBatch")
        if fault == "half":
            kept, refused = Entries[: len(Entries) // 2], Entries[len(Entries) // 2 :]
            response = self._real.send_message_batch(QueueUrl=QueueUrl, Entries=kept)
            response["Failed"] = [
                {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"} for e in refused
            ]
            return dict(response)
        return dict(self._real.send_message_batch(QueueUrl=QueueUrl, Entries=Entries))


def run(
    aws: Any,
    ledger: BatchLedger,
    data: bytes,
    chunk: Chunk,
    job_id: str = "job-a",
    key: str = "incoming/a.csv",
    sqs: Any = None,
    remaining: Any = None,
) -> Any:
    return ingest_chunk(
        ChunkJob(job_id, key, chunk),
        io.BytesIO(data[chunk.start : chunk.end]).read,
        RULES,
        ledger,
        AcceptedRowSender(sqs or aws.sqs, aws.queue_url),
        MerchantDirectory(aws.dynamodb, TABLES[contract.MERCHANTS_TABLE_NAME]).is_active,
        remaining or (lambda: PLENTY_MS),
        lambda: NOW,
        reserve_ms=5_000,
    )


def only_chunk(data: bytes, per_chunk: int = 1000) -> list[Chunk]:
    return plan_chunks(io.BytesIO(data).read, per_chunk).chunks


def test_a_clean_chunk_queues_every_row_and_counts_once(aws: Any, ledger: BatchLedger) -> None:
    data = rows_file(25)
    [chunk] = only_chunk(data)
    start_job(aws, "job-a")

    result = run(aws, ledger, data, chunk)
    again = run(aws, ledger, data, chunk)  # the Map retried a chunk that had succeeded

    assert (result.rows, result.queued, result.rejected, result.already_done) == (25, 25, 0, False)
    assert again.already_done
    assert queued_rows(aws) == list(range(2, 27))
    record = job_record(aws, "job-a")
    assert (record["rows"], record["queued"], record["rejected"], record["chunks_done"]) == ("25", "25", "0", "1")


def test_a_batch_that_failed_half_way_is_retried_without_resending(aws: Any, ledger: BatchLedger) -> None:
    """The issue's reproduction: the 2nd SendMessageBatch fails; the retry queues the rest."""
    data = rows_file(25)
    [chunk] = only_chunk(data)
    start_job(aws, "job-a")
    flaky = FlakySqs(aws.sqs, ["ok", "half", "throttle"])

    with pytest.raises(ChunkIncomplete, match="15 of 25 rows queued"):
        run(aws, ledger, data, chunk, sqs=flaky)
    sent, done = ledger.accepted_rows("job-a", 0)
    assert (len(sent), done) == (15, False)  # 10 + the 5 accepted entries of the half batch

    result = run(aws, ledger, data, chunk)

    assert (result.queued, result.already_done) == (25, False)
    assert queued_rows(aws) == list(range(2, 27))  # each row exactly once
    assert job_record(aws, "job-a")["queued"] == "25"


def test_only_refused_entries_are_resent_within_the_attempt(aws: Any, ledger: BatchLedger) -> None:
    data = rows_file(12)
    [chunk] = only_chunk(data)
    start_job(aws, "job-a")
    flaky = FlakySqs(aws.sqs, ["half"])

    result = run(aws, ledger, data, chunk, sqs=flaky)

    assert result.queued == 12
    assert flaky.calls == 2  # 5 of the first 10 refused; the 2nd call carries those 5 and the last 2
    assert queued_rows(aws) == list(range(2, 14))


def test_time_running_short_saves_progress_and_the_next_attempt_continues(aws: Any, ledger: BatchLedger) -> None:
    data = rows_file(40)
    [chunk] = only_chunk(data)
    start_job(aws, "job-a")
    budget = iter([60_000, 60_000, 60_000, 1_000])  # claim, send, send, then short

    with pytest.raises(ChunkIncomplete, match="time ran short"):
        run(aws, ledger, data, chunk, remaining=lambda: next(budget))
    assert len(ledger.accepted_rows("job-a", 0)[0]) == 20

    assert run(aws, ledger, data, chunk).queued == 40
    assert queued_rows(aws) == list(range(2, 42))


def test_duplicates_across_chunks_and_files_are_reported_and_queued_once(aws: Any, ledger: BatchLedger) -> None:
    first = rows_file(5)  # p-00001 .. p-00005
    [chunk_a] = only_chunk(first)
    start_job(aws, "job-a")
    run(aws, ledger, first, chunk_a)

    # A second file repeats p-00003 and p-00005 of the first, and its own p-00008 across its
    # two chunks: rows 2..7 hold p-00003, p-00008, p-00005, p-00006, p-00007, p-00008.
    second = rows_file(6, first=3, dup_of={4: 8})
    chunks = only_chunk(second, per_chunk=3)
    start_job(aws, "job-b")
    results = [run(aws, ledger, second, chunk, job_id="job-b", key="incoming/b.csv") for chunk in chunks]

    reasons = [(r.row_number, r.reason) for result in results for r in result.rejections]
    assert reasons == [
        (2, "payment_id: already queued from incoming/a.csv row 4"),
        (4, "payment_id: already queued from incoming/a.csv row 6"),
        (7, "payment_id: duplicate of row 3"),
    ]
    payments = sorted(json.loads(m["Body"])["payment_id"] for m in aws.drain(aws.queue_url))
    assert payments == [f"p-{n:05d}" for n in range(1, 9)]  # each once
    record = job_record(aws, "job-b")
    assert (record["rows"], record["queued"], record["rejected"]) == ("6", "3", "3")


def already_queued(rows: range, key: str = "incoming/a.csv") -> list[tuple[int, str]]:
    return [(n, f"payment_id: already queued from {key} row {n}") for n in rows]


def interrupted_after_ten_rows(aws: Any, ledger: BatchLedger, rows: int) -> tuple[bytes, Chunk]:
    """job-a's run of a one-chunk file of ``rows`` rows, stopped by throttling after its first
    batch of 10 (rows 2 to 11 queued): the file's bytes and its chunk."""
    data = rows_file(rows)
    [chunk] = only_chunk(data)
    start_job(aws, "job-a")
    with pytest.raises(ChunkIncomplete, match=f"10 of {rows} rows queued"):
        run(aws, ledger, data, chunk, sqs=FlakySqs(aws.sqs, ["ok", "throttle"]))
    return data, chunk


def test_a_reuploaded_failed_file_queues_exactly_the_rows_its_run_never_sent(aws: Any, ledger: BatchLedger) -> None:
    data, chunk = interrupted_after_ten_rows(aws, ledger, 25)
    fail_job(aws, "job-a")  # its retries ran out: the execution failed
    assert queued_rows(aws) == list(range(2, 12))

    # The same file uploaded again: a new object version, so a new job.
    start_job(aws, "job-b")
    result = run(aws, ledger, data, chunk, job_id="job-b")

    assert queued_rows(aws) == list(range(12, 27))  # exactly the 15 rows never sent
    assert (result.queued, result.rejected) == (15, 10)
    assert [(r.row_number, r.reason) for r in result.rejections] == already_queued(range(2, 12))
    claim = aws.dynamodb.get_item(TableName=CLAIMS, Key={"payment_id": {"S": "p-00011"}})["Item"]
    assert (claim["batch_job_id"], claim["row_number"], claim["chunk"]) == ({"S": "job-b"}, {"N": "12"}, {"N": "0"})

    # The failed run redriven afterwards: its unsent rows now belong to the re-upload.
    start_job(aws, "job-a")
    again = run(aws, ledger, data, chunk)
    assert queued_rows(aws) == []  # nothing queued twice
    assert [(r.row_number, r.reason) for r in again.rejections] == already_queued(range(12, 27))


def test_rows_of_a_run_that_has_not_failed_are_left_to_it(aws: Any, ledger: BatchLedger) -> None:
    data, chunk = interrupted_after_ten_rows(aws, ledger, 12)

    # job-a is still RUNNING (its chunk will be retried and send rows 12 and 13 itself).
    start_job(aws, "job-b")
    result = run(aws, ledger, data, chunk, job_id="job-b")

    assert (result.queued, result.rejected) == (0, 12)
    assert queued_rows(aws) == list(range(2, 12))
    assert run(aws, ledger, data, chunk).queued == 12  # job-a's retry queues the last two
    assert queued_rows(aws) == [12, 13]


def test_a_repeated_id_in_a_later_chunk_is_a_duplicate_of_the_row_that_owns_it(aws: Any, ledger: BatchLedger) -> None:
    """Rows 3, 4 and 5 hold one id; 4 and 5 share the second chunk: both name row 3, the
    claim's owner, as a whole-file read would (not row 4, the chunk's own first)."""
    data = f"{HEADER}\r\n\r\n".encode() + b"p-7,merchant-1,1.00,USD,a\r\n" * 3
    chunks = only_chunk(data, per_chunk=2)
    start_job(aws, "job-a")

    results = [run(aws, ledger, data, chunk) for chunk in chunks]

    assert [(r.row_number, r.reason) for result in results for r in result.rejections] == [
        (4, "payment_id: duplicate of row 3"),
        (5, "payment_id: duplicate of row 3"),
    ]
    assert queued_rows(aws) == [3]

    # Another file repeating the id twice in one chunk: both rows name the first file's row.
    start_job(aws, "job-b")
    again = run(aws, ledger, data, only_chunk(data)[0], job_id="job-b", key="incoming/b.csv")
    assert [(r.row_number, r.reason) for r in again.rejections] == [
        (3, "payment_id: already queued from incoming/a.csv row 3"),
        (4, "payment_id: already queued from incoming/a.csv row 3"),
        (5, "payment_id: already queued from incoming/a.csv row 3"),
    ]
    assert queued_rows(aws) == []


def test_claims_are_transactions_of_at_most_100(aws: Any, ledger: BatchLedger) -> None:
    calls: list[int] = []
    real = aws.dynamodb

    class Counting:
        def __getattr__(self, name: str) -> Any:
            return getattr(real, name)

        def transact_write_items(self, TransactItems: list[Any]) -> Any:
            calls.append(len(TransactItems))
            return real.transact_write_items(TransactItems=TransactItems)

    counting = BatchLedger(Counting(), JOBS, CLAIMS, rerun_window=RERUN_WINDOW)  # type: ignore[arg-type]
    pairs = [(f"p-{n}", n + 2) for n in range(250)]
    assert counting.claim("job-a", "k", pairs, NOW, chunk=0).others == {}
    # 250 fresh ids: three transactions; repeating them: each group cancelled once, nothing left.
    again = counting.claim("job-a", "k", pairs, NOW, chunk=0)
    assert calls == [100, 100, 50, 100, 100, 50]
    assert again.others == {} and len(again.earlier) == 250


def test_a_claim_cancelled_by_contention_is_an_error_not_a_duplicate(aws: Any, ledger: BatchLedger) -> None:
    class Contended:
        def transact_write_items(self, TransactItems: list[Any]) -> Any:
            reasons = [{"Code": "TransactionConflict"} for _ in TransactItems]
            raise ClientError(
                {"Error": {"Code": "TransactionCanceledException", "Message": "x"}, "CancellationReasons": reasons},
                "TransactWriteItems",
            )

    with pytest.raises(ClaimContention):
        contended = BatchLedger(Contended(), JOBS, CLAIMS, rerun_window=RERUN_WINDOW)  # type: ignore[arg-type]
        contended.claim("job-a", "k", [("p-1", 2)], NOW, chunk=0)


def test_completing_a_chunk_twice_counts_it_once(aws: Any, ledger: BatchLedger) -> None:
    start_job(aws, "job-a")
    assert ledger.complete_chunk("job-a", 3, ChunkCounts(10, 8, 2), NOW)
    assert not ledger.complete_chunk("job-a", 3, ChunkCounts(10, 8, 2), NOW)
    record = job_record(aws, "job-a")
    assert (record["rows"], record["queued"], record["chunks_done"]) == ("10", "8", "1")
    chunk = aws.dynamodb.get_item(TableName=JOBS, Key={"job_id": {"S": chunk_record_id("job-a", 3)}})["Item"]
    assert chunk["state"] == {"S": "DONE"}


def test_the_exceptions_carry_the_names_the_state_machine_retries() -> None:
    assert (ChunkIncomplete.__name__, ClaimContention.__name__) == contract.BATCH_CHUNK_RETRY_ERRORS


def test_a_claim_expires_after_the_rerun_window_and_then_no_longer_owns_its_id(aws: Any, ledger: BatchLedger) -> None:
    ledger.claim("job-a", "a.csv", [("p-1", 2)], NOW, chunk=0)
    stored = aws.dynamodb.get_item(TableName=CLAIMS, Key={"payment_id": {"S": "p-1"}})["Item"]
    # The claims table's TTL attribute: epoch seconds, the re-run window after the claim.
    assert stored[contract.BATCH_CLAIM_EXPIRES_AT] == {"N": str(int((NOW + RERUN_WINDOW).timestamp()))}

    within = ledger.claim("job-b", "b.csv", [("p-1", 7)], NOW + RERUN_WINDOW - timedelta(seconds=1), chunk=0)
    # TTL deletes an expired item only eventually: until then it is there, and counts as absent.
    after = ledger.claim("job-c", "c.csv", [("p-1", 9)], NOW + RERUN_WINDOW + timedelta(seconds=1), chunk=0)

    assert within.others == {"p-1": ClaimOwner("job-a", 2, "a.csv", 0)}
    assert (after.others, after.earlier) == ({}, set())
    owner = aws.dynamodb.get_item(TableName=CLAIMS, Key={"payment_id": {"S": "p-1"}})["Item"]["batch_job_id"]
    assert owner == {"S": "job-c"}
