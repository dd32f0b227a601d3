"""Large files stream; SQS per-entry failures are retried, and persistent ones are loud."""

from __future__ import annotations

import json
import tracemalloc

import pytest
from payment_core.errors import BatchEnqueueError
from payment_core.queue_sender import BatchingQueueSender

from testkit.events import CSV_HEADER as HEADER
from testkit.events import s3_event

ROWS = 100_000
MAX_READ = 1024 * 1024


class GeneratedBody:
    """A StreamingBody stand-in that produces the CSV on demand and refuses to be slurped."""

    def __init__(self, rows: int) -> None:
        self._lines = self._generate(rows)
        self._buffer = b""
        self.size = 0
        self.largest_read = 0

    @staticmethod
    def _generate(rows: int):
        yield ("\ufeff" + HEADER + "\r\n").encode()
        for n in range(1, rows + 1):
            amount = "0.00" if n % 1000 == 0 else f"{n % 500 + 1}.25"  # every 1000th is invalid
            yield f'pay-{n:06d},merchant-{n % 7},{amount},USD,"cust {n}"\r\n'.encode()

    def read(self, amt: int | None = None) -> bytes:
        if amt is None or amt > MAX_READ:
            raise AssertionError(f"read({amt}) would load the whole object")
        self.largest_read = max(self.largest_read, amt)
        while len(self._buffer) < amt:
            line = next(self._lines, None)
            if line is None:
                break
            self._buffer += line
        chunk, self._buffer = self._buffer[:amt], self._buffer[amt:]
        self.size += len(chunk)
        return chunk

    def close(self) -> None:
        pass


class CountingS3:
    def __init__(self, body: GeneratedBody) -> None:
        self.body = body
        self.reports: dict[str, bytes] = {}

    def get_object(self, Bucket: str, Key: str) -> dict:
        return {"Body": self.body}

    def put_object(self, Bucket: str, Key: str, Body, ContentType: str) -> dict:
        self.reports[Key] = Body.read()
        return {}


class CountingSqs:
    """Keeps counts, not messages, so the test measures the handler's memory only."""

    def __init__(self) -> None:
        self.calls = 0
        self.messages = 0
        self.first = None
        self.last = None

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        assert 1 <= len(Entries) <= 10
        self.calls += 1
        self.messages += len(Entries)
        if self.first is None:
            self.first = json.loads(Entries[0]["MessageBody"])
        self.last = json.loads(Entries[-1]["MessageBody"])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}


def test_hundred_thousand_rows_stream_in_bounded_memory(aws, context):
    handler = aws.handlers["batch_ingest"]
    body = GeneratedBody(ROWS)
    s3, sqs = CountingS3(body), CountingSqs()
    handler.runtime.s3.override(s3)
    handler.runtime.sqs.override(sqs)
    handler.runtime.batch_jobs()  # build the job table's client outside the measurement

    tracemalloc.start()
    try:
        [result] = handler.handler(s3_event(aws.bucket, "incoming/big.csv", "etag-big"), context)["jobs"]
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    invalid = ROWS // 1000
    assert (result["rows"], result["queued"], result["rejected"]) == (ROWS, ROWS - invalid, invalid)
    assert sqs.messages == ROWS - invalid
    assert sqs.calls == -(-(ROWS - invalid) // 10)
    assert sqs.first["payment_id"] == "pay-000001" and sqs.first["row_number"] == 2
    assert sqs.last["payment_id"] == f"pay-{ROWS - 1:06d}" and sqs.last["row_number"] == ROWS
    report_lines = s3.reports["reports/big.errors.csv"].decode().splitlines()
    assert len(report_lines) == invalid + 1
    assert report_lines[1] == "1001,amount: amount must be greater than zero"
    assert body.size > 4_000_000
    assert body.largest_read <= MAX_READ
    # The file is >4 MB; the handler's Python heap never holds more than a fraction of it.
    print(f"tracemalloc peak {peak} bytes for a {body.size}-byte file")
    assert peak < body.size / 4, f"peak {peak} bytes for a {body.size}-byte file"


class FlakySqs:
    def __init__(self, failures_per_entry: int) -> None:
        self.failures_per_entry = failures_per_entry
        self.attempts: dict[str, int] = {}
        self.delivered: list[str] = []

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:
        failed, ok = [], []
        for entry in Entries:
            body = entry["MessageBody"]
            self.attempts[body] = self.attempts.get(body, 0) + 1
            # Entries with an even id fail the first N times.
            if int(entry["Id"]) % 2 == 0 and self.attempts[body] <= self.failures_per_entry:
                failed.append({"Id": entry["Id"], "SenderFault": False, "Code": "InternalError"})
            else:
                ok.append({"Id": entry["Id"]})
                self.delivered.append(body)
        return {"Successful": ok, "Failed": failed}


def test_failed_entries_are_retried_alone():
    sqs, sleeps = FlakySqs(failures_per_entry=2), []
    sender = BatchingQueueSender(sqs, "url", sleep=sleeps.append)
    for n in range(12):
        sender.add({"n": n})
    sender.flush()
    assert sorted(json.loads(b)["n"] for b in sqs.delivered) == list(range(12))
    assert len(sqs.delivered) == 12  # nothing delivered twice
    assert sender.sent == 12
    assert sleeps == [0.2, 0.4, 0.2, 0.4]


def test_entries_that_keep_failing_raise():
    sqs, sleeps = FlakySqs(failures_per_entry=99), []
    sender = BatchingQueueSender(sqs, "url", max_attempts=3, sleep=sleeps.append)
    for n in range(4):
        sender.add({"n": n})
    with pytest.raises(BatchEnqueueError, match="2 of 4 messages could not be queued after 3 attempts"):
        sender.flush()
    assert sleeps == [0.2, 0.4]
    assert sender.sent == 0


def test_empty_flush_sends_nothing():
    sqs = FlakySqs(0)
    sender = BatchingQueueSender(sqs, "url")
    sender.flush()
    assert sqs.attempts == {} and sender.sent == 0
