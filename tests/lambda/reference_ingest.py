"""The single-invocation reader the platform had before the per-file workflow: one stream in,
queue messages and a rejection report out. Kept as the reference ``test_csv_chunks`` compares
the chunked reader with, so "same CSV semantics" stays a checked statement."""

from __future__ import annotations

import codecs
import csv
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from payment_core.batch.rows import (
    EXPECTED_HEADER,
    Rejection,
    RejectionReport,
    check_header,
    parse_row,
)
from payment_core.rules import BusinessRules


@dataclass(frozen=True)
class BatchCounts:
    rows: int
    queued: int
    rejected: int


def text_lines(read: Callable[[int], bytes], chunk_size: int = 64 * 1024) -> Iterator[str]:
    """Decode a byte stream (BOM-tolerant UTF-8) into lines that keep their endings."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
    pending = ""
    while True:
        chunk = read(chunk_size)
        text = pending + decoder.decode(chunk, final=not chunk)
        lines = text.split("\n")
        pending = lines.pop()
        for line in lines:
            yield line + "\n"
        if not chunk:
            break
    if pending:
        yield pending


class SeenPaymentIds:
    """Set of payment ids already queued from this file, kept on disk, not in memory."""

    def __init__(self) -> None:
        # "" = private temporary on-disk database, deleted on close.
        self._db = sqlite3.connect("")
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (payment_id TEXT PRIMARY KEY, row_number INTEGER)")

    def first_row(self, payment_id: str, row_number: int) -> int | None:
        """Remember ``payment_id``; if it was already seen, return the row that had it."""
        cursor = self._db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (payment_id, row_number))
        if cursor.rowcount == 1:
            return None
        found = self._db.execute("SELECT row_number FROM seen WHERE payment_id = ?", (payment_id,)).fetchone()
        return int(found[0])

    def close(self) -> None:
        self._db.close()


class MessageSink(Protocol):
    sent: int

    def add(self, message: dict[str, object]) -> None: ...

    def flush(self) -> None: ...


def ingest_csv(
    read: Callable[[int], bytes],
    rules: BusinessRules,
    batch_job_id: str,
    sink: MessageSink,
    report: RejectionReport,
    merchant_is_active: Callable[[str], bool] = lambda merchant_id: True,
) -> BatchCounts:
    """Stream rows from ``read``; valid ones go to ``sink``, the rest into ``report``.

    A row must name a merchant for which ``merchant_is_active`` holds (batch files are an
    operator path: a row for an unknown or disabled merchant is reported, never queued).
    """
    active: dict[str, bool] = {}  # one lookup per merchant per file
    reader = csv.reader(text_lines(read))
    seen = SeenPaymentIds()
    row_number = 0
    rows = 0
    header_ok = False
    try:
        while True:
            row_number += 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                if not header_ok:
                    report.add(Rejection(row_number, f"malformed CSV header: {error}"))
                    break
                rows += 1
                report.add(Rejection(row_number, f"malformed CSV: {error}"))
                continue
            if not header_ok:
                problem = check_header(record)
                if problem is not None:
                    report.add(Rejection(row_number, problem))
                    break
                header_ok = True
                continue
            if not record:  # blank line
                continue
            rows += 1
            outcome = parse_row(record, row_number, rules, batch_job_id)
            if not isinstance(outcome, Rejection):
                merchant_id = str(outcome["merchant_id"])
                if merchant_id not in active:
                    active[merchant_id] = merchant_is_active(merchant_id)
                if not active[merchant_id]:
                    outcome = Rejection(row_number, f"merchant_id: {merchant_id} is not an active merchant")
            if not isinstance(outcome, Rejection):
                # The first *queued* row owns an id (what the claims record), so this check
                # comes after every other one.
                first = seen.first_row(str(outcome["payment_id"]), row_number)
                if first is not None:
                    outcome = Rejection(row_number, f"payment_id: duplicate of row {first}")
            if isinstance(outcome, Rejection):
                report.add(outcome)
            else:
                sink.add(outcome)
        if not header_ok and report.count == 0:
            report.add(Rejection(1, f"file is empty; header must be {','.join(EXPECTED_HEADER)}"))
        sink.flush()
    finally:
        seen.close()
    return BatchCounts(rows=rows, queued=sink.sent, rejected=report.count)
