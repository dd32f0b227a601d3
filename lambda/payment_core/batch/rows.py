"""Batch CSV files: streaming, row validation and the rejection report.

Nothing here holds the whole file: rows are checked one at a time and the report spools
to disk past 1 MiB. Which row owns a payment id is decided by the claims
(``batch_ledger``), not here.

Row numbers count CSV records with the header as row 1, so the first data row is 2.
"""

from __future__ import annotations

import csv
import hashlib
import io
import tempfile
from dataclasses import dataclass
from typing import IO, Any

from payment_core import contract
from payment_core.errors import InvalidRequest
from payment_core.payments.money import format_amount
from payment_core.payments.validation import payment_id_field, payment_request
from payment_core.rules import BusinessRules

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
    """A row the batch file's report lists as refused, and why."""

    row_number: int
    reason: str


def check_header(record: list[str]) -> str | None:
    found = tuple(field.strip() for field in record)
    if found == EXPECTED_HEADER:
        return None
    return f"header must be {','.join(EXPECTED_HEADER)}"


def parse_row(
    record: list[str],
    row_number: int,
    rules: BusinessRules,
    batch_job_id: str,
) -> dict[str, Any] | Rejection:
    """A queue message for a valid row, else the reason it was rejected.

    Duplicate payment ids are not decided here: which row owns an id is the caller's
    question (``chunk_ingest`` answers it with the file's claims, for every row of the file).
    """
    if len(record) != len(EXPECTED_HEADER):
        return Rejection(row_number, f"expected {len(EXPECTED_HEADER)} fields, got {len(record)}")
    fields = dict(zip(EXPECTED_HEADER, (value.strip() for value in record), strict=True))
    if any("\ufffd" in value for value in fields.values()):
        return Rejection(row_number, "row is not valid UTF-8")
    try:
        payment_id = payment_id_field(fields["payment_id"])
        if payment_id.startswith(contract.REFUND_ID_PREFIX):
            # The workflow tells a refund's execution by this prefix (contract.REFUND_ID_PREFIX).
            raise InvalidRequest(f"must not start with {contract.REFUND_ID_PREFIX}", "payment_id")
        request = payment_request(fields, rules)
    except InvalidRequest as error:
        return Rejection(row_number, f"{error.field}: {error.message}")
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
