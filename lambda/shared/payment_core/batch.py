"""Batch CSV files: streaming, row validation and the rejection report.

Nothing here holds the whole file: text is decoded chunk by chunk, rows are checked
one at a time, seen payment ids live in a temporary on-disk SQLite table (bounded page
cache) and the report spools to disk past 1 MiB.

Row numbers count CSV records with the header as row 1, so the first data row is 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
import sqlite3
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from payment_core import contract
from payment_core.errors import InvalidRequest
from payment_core.money import format_amount
from payment_core.settings import BusinessRules
from payment_core.validation import payment_id_field, payment_request

EXPECTED_HEADER = ("payment_id", "merchant_id", "amount", "currency", "customer_ref")
REPORT_HEADER = ("row_number", "reason")
REPORT_SUFFIX = ".errors.csv"  # the report is CSV whatever the uploaded file's suffix


def job_id_for(bucket: str, key: str, version: str) -> str:
    """One job per object version (versionId, else ETag): re-deliveries share it."""
    return hashlib.sha256(f"{bucket}\n{key}\n{version}".encode()).hexdigest()


def report_key_for(key: str) -> str:
    name = key.removeprefix(contract.BATCH_INCOMING_PREFIX)
    if name.lower().endswith(contract.BATCH_FILE_SUFFIX):
        name = name[: -len(contract.BATCH_FILE_SUFFIX)]
    return f"{contract.BATCH_REPORTS_PREFIX}{name}{REPORT_SUFFIX}"


@dataclass(frozen=True)
class Rejection:
    row_number: int
    reason: str


class SeenPaymentIds:
    """Set of payment ids already accepted from this file, kept on disk, not in memory."""

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


def check_header(record: list[str]) -> str | None:
    found = tuple(field.strip() for field in record)
    if found == EXPECTED_HEADER:
        return None
    return f"header must be {','.join(EXPECTED_HEADER)}"


def parse_row(
    record: list[str],
    row_number: int,
    rules: BusinessRules,
    seen: SeenPaymentIds,
    batch_job_id: str,
) -> dict[str, Any] | Rejection:
    """A queue message for a valid row, else the reason it was rejected."""
    if len(record) != len(EXPECTED_HEADER):
        return Rejection(row_number, f"expected {len(EXPECTED_HEADER)} fields, got {len(record)}")
    fields = dict(zip(EXPECTED_HEADER, (value.strip() for value in record), strict=True))
    if any("\ufffd" in value for value in fields.values()):
        return Rejection(row_number, "row is not valid UTF-8")
    try:
        payment_id = payment_id_field(fields["payment_id"])
        request = payment_request(fields, rules)
    except InvalidRequest as error:
        return Rejection(row_number, f"{error.field}: {error.message}")
    first = seen.first_row(payment_id, row_number)
    if first is not None:
        return Rejection(row_number, f"payment_id: duplicate of row {first}")
    return {
        "payment_id": payment_id,
        "merchant_id": request.merchant_id,
        "amount": format_amount(request.amount, request.currency),
        "currency": request.currency,
        "customer_ref": request.customer_ref,
        "batch_job_id": batch_job_id,
        "row_number": row_number,
    }


class RejectionReport:
    """``row_number,reason`` CSV, spooled to disk once it outgrows 1 MiB."""

    def __init__(self) -> None:
        # Owned by this object and closed in close(); a with-block cannot span its lifetime.
        self._file: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115
        self.count = 0
        self._write(REPORT_HEADER)

    def _write(self, values: tuple[object, ...]) -> None:
        line = io.StringIO()
        csv.writer(line, lineterminator="\n").writerow(values)
        self._file.write(line.getvalue().encode("utf-8"))

    def add(self, rejection: Rejection) -> None:
        self._write((rejection.row_number, rejection.reason))
        self.count += 1

    def rewind(self) -> IO[bytes]:
        self._file.seek(0)
        return self._file

    def close(self) -> None:
        self._file.close()
