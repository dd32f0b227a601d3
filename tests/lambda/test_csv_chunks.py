"""Chunked reading gives exactly what one whole-file read gives, for every edge case.

The reference is today's single-invocation reader (``reference_ingest.ingest_csv``): for
each file and chunk size, plan the chunks, read each chunk from its own byte range, and let
the earliest row win a payment id (what the claims do when chunks run in file order). The
queued messages and the report must be identical.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_core import contract
from payment_core.batch.chunk_ingest import claiming_rows, owned_rows, validate_chunk
from payment_core.batch.csv_chunks import MAX_LINE_BYTES, BoundedLines, Chunk, plan_chunks
from payment_core.batch.ledger import ClaimOwner
from payment_core.batch.rows import Rejection, RejectionReport
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables
from reference_ingest import ingest_csv

from testkit.environment import HANDLER_ENVIRONMENT
from testkit.events import CSV_HEADER as HEADER
from testkit.events import MIXED_CSV

RULES = BusinessRules.read(FunctionVariables(contract.BATCH_INGEST, HANDLER_ENVIRONMENT))
JOB = "job-1"
KEY = "incoming/file.csv"


def every_merchant_active(merchant_id: str) -> bool:
    """The reference reader's default: the merchant check is tested on its own below."""
    return True


class ListSink:
    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []
        self.sent = 0

    def add(self, message: dict[str, object]) -> None:
        self.messages.append(message)
        self.sent += 1

    def flush(self) -> None:
        pass


def whole_file(
    data: bytes, merchant_is_active: Callable[[str], bool] = every_merchant_active
) -> tuple[list[dict[str, object]], list[str]]:
    sink, report = ListSink(), RejectionReport()
    try:
        ingest_csv(io.BytesIO(data).read, RULES, JOB, sink, report, merchant_is_active)
        lines = report.rewind().read().decode().splitlines()
    finally:
        report.close()
    return sink.messages, lines


def report_lines(rejections: list[Rejection]) -> list[str]:
    report = RejectionReport()
    try:
        for rejection in rejections:
            report.add(rejection)
        return report.rewind().read().decode().splitlines()
    finally:
        report.close()


def chunked(
    data: bytes, records_per_chunk: int, merchant_is_active: Callable[[str], bool] = every_merchant_active
) -> tuple[list[dict[str, object]], list[str]]:
    """The per-file workflow's chunks in file order, ``claims`` standing in for the claims
    table; which rows queue and what duplicates say is decided by the handler's own code."""
    plan = plan_chunks(io.BytesIO(data).read, records_per_chunk)
    if plan.header_problem is not None:
        return [], report_lines([Rejection(1, plan.header_problem)])
    claims: dict[str, ClaimOwner] = {}
    messages: list[dict[str, object]] = []
    rejections: list[Rejection] = []
    for chunk in plan.chunks:
        rows = validate_chunk(io.BytesIO(data[chunk.start : chunk.end]).read, chunk, RULES, JOB, merchant_is_active)
        claimed_by_others: dict[str, ClaimOwner] = {}
        for row in claiming_rows(rows.valid):
            if row.payment_id in claims:
                claimed_by_others[row.payment_id] = claims[row.payment_id]
            else:
                claims[row.payment_id] = ClaimOwner(JOB, row.row_number, KEY)
        owned, duplicates = owned_rows(rows.valid, claimed_by_others, JOB, KEY)
        messages += [json.loads(row.body) for row in owned]
        rejections += rows.rejections + duplicates
    rejections.sort(key=lambda rejection: rejection.row_number)
    return messages, report_lines(rejections)


MIXED = (
    MIXED_CSV + 'p-012,merchant-1,12.00,GBP,"two\nlines, ""quoted"""\n'
    "p-013,merchant-1,12.00,EUR,caf\u00e9 \u20ac\r\n"
    "p-014,m\u00fcnchen,1.00,EUR,\u65e5\u672c\r\n"
    "p-015,merchant-1,1.00,USD,last-no-newline"
).encode()

EDGE_CASES = {
    "mixed": MIXED,
    "empty": b"",
    "bom only": b"\xef\xbb\xbf",
    "wrong header": b"id,amount\np-1,1\n",
    "blank header": b"\n" + HEADER.encode() + b"\n",
    "header only": HEADER.encode() + b"\r\n",
    "undecodable and oversized": (
        f"{HEADER}\n".encode()
        + b"p-1,m,1.00,USD,caf\xe9\n"
        + b'p-2,m,1.00,USD,"'
        + b"x" * 140_000
        + b'"\n'
        + b"p-3,m,1.00,USD,ok\n"
    ),
    "garbled header": b'"' + b"h" * 140_000 + b'"\n',
    "truncated multibyte before newline": f"{HEADER}\n".encode() + b"p-1,m,1.00,USD,\xe2\x82\np-2,m,1.00,USD,ok\n",
    "unterminated quote at end": f'{HEADER}\np-1,m,1.00,USD,ok\np-2,m,1.00,USD,"open'.encode(),
    "bare CR inside a line": f"{HEADER}\np-1,m,1.00,USD,a\rb\np-2,m,1.00,USD,ok\n".encode(),
    "quote inside unquoted field": f'{HEADER}\np-1,m,1"0,USD,a\np-2,m,1.00,USD,ok\n'.encode(),
    "BOM mid-file": f"{HEADER}\np-1,m,1.00,USD,\ufeffx\np-2,m,1.00,USD,ok\n".encode(),
    # Hypothesis found it: rows 4 and 5 share a chunk, row 3 (the id's owner) is in the one before.
    "one id three times after a blank line": (f"{HEADER}\n\n" + "a,m,1.00,USD,a\n" * 3).encode(),
}


@pytest.mark.parametrize("name", list(EDGE_CASES))
@pytest.mark.parametrize("records_per_chunk", [1, 2, 3, 7, 1000])
def test_chunks_read_exactly_like_the_whole_file(name: str, records_per_chunk: int) -> None:
    data = EDGE_CASES[name]
    assert chunked(data, records_per_chunk) == whole_file(data)


def test_the_mixed_file_is_planned_on_record_boundaries() -> None:
    plan = plan_chunks(io.BytesIO(MIXED).read, 4)
    # 16 reader steps after the header (the multi-line records are one step each): 4+4+4+4.
    assert [(c.first_row, c.records) for c in plan.chunks] == [(2, 4), (6, 4), (10, 4), (14, 4)]
    assert plan.chunks[0].start == len(("\ufeff" + HEADER + "\r\n").encode())
    assert plan.chunks[-1].end == len(MIXED) == plan.bytes_read
    assert all(a.end == b.start for a, b in zip(plan.chunks, plan.chunks[1:], strict=False))
    # A boundary is never inside the quoted newline of row 13.
    assert all(not MIXED[: c.start].endswith(b"multi\r\n") for c in plan.chunks)


def test_a_chunk_read_from_other_bytes_is_refused() -> None:
    plan = plan_chunks(io.BytesIO(MIXED).read, 4)
    second = plan.chunks[1]
    shifted = Chunk(second.index, second.start, second.end + 5, second.first_row, second.records)
    from payment_core.batch.chunk_ingest import ChunkMismatch

    with pytest.raises(ChunkMismatch, match="expected 4 records"):
        validate_chunk(io.BytesIO(MIXED[shifted.start : shifted.end]).read, shifted, RULES, JOB, every_merchant_active)


@pytest.mark.parametrize(
    "item",
    [{"index": 0, "start": 5, "end": 5, "first_row": 2, "records": 1}, {"index": True}, {"index": -1}],
)
def test_chunk_items_are_checked(item: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="chunk"):
        Chunk.from_item(item)


row_text = st.lists(
    st.sampled_from([*'ab,"\r\n\u00e9\u20ac \ufeff', "p-1", "p-2", "m", "1.00", "USD", "EUR", ",m,1.00,USD,"]),
    max_size=25,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(row_text, max_size=12),
    crlf=st.booleans(),
    bom=st.booleans(),
    junk=st.binary(max_size=4),
    records_per_chunk=st.integers(min_value=1, max_value=5),
    inactive=st.sampled_from(["", "m", "a"]),
)
def test_any_file_reads_the_same_in_chunks(
    rows: list[str], crlf: bool, bom: bool, junk: bytes, records_per_chunk: int, inactive: str
) -> None:
    ending = "\r\n" if crlf else "\n"
    text = ("\ufeff" if bom else "") + HEADER + ending + ending.join(rows)
    data = text.encode() + junk

    def is_active(merchant_id: str) -> bool:
        return merchant_id != inactive

    assert chunked(data, records_per_chunk, is_active) == whole_file(data, is_active)


@pytest.mark.parametrize("records_per_chunk", [1, 2, 3, 1000])
def test_a_row_of_an_inactive_merchant_owns_no_payment_id(records_per_chunk: int) -> None:
    """The claims record queued rows only: a later row with the same id is the one queued."""
    data = f"{HEADER}\np-1,merchant-2,1.00,USD,a\np-1,merchant-1,1.00,USD,b\np-1,merchant-1,1.00,USD,c\n".encode()

    def is_active(merchant_id: str) -> bool:
        return merchant_id != "merchant-2"

    messages, report = chunked(data, records_per_chunk, is_active)
    assert [message["row_number"] for message in messages] == [3]
    assert report == [
        "row_number,reason",
        "2,merchant_id: merchant-2 is not an active merchant",
        "4,payment_id: duplicate of row 3",
    ]
    assert (messages, report) == whole_file(data, is_active)


def test_a_line_over_the_bound_is_one_rejected_row_and_reading_goes_on() -> None:
    data = f"{HEADER}\np-1,m,1.00,USD,a\n".encode() + b"z" * (MAX_LINE_BYTES + 10) + b"\np-2,m,1.00,USD,b\n"
    plan = plan_chunks(io.BytesIO(data).read, 1000)
    [chunk] = plan.chunks
    rows = validate_chunk(io.BytesIO(data[chunk.start : chunk.end]).read, chunk, RULES, JOB, every_merchant_active)
    assert [r.row_number for r in rows.valid] == [2, 4]
    assert rows.rejections == [Rejection(3, f"line longer than {MAX_LINE_BYTES} bytes")]


class CountingReader:
    def __init__(self, data: bytes) -> None:
        self._stream = io.BytesIO(data)
        self.bytes_read = 0

    def read(self, size: int) -> bytes:
        chunk = self._stream.read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_file_without_newlines_is_refused_after_one_bounded_line() -> None:
    data = b"payment_id,merchant_id,amount\r" * (32 * 1024 * 1024 // 30)  # 32 MB of CR-only "lines"
    reader = CountingReader(data)
    tracemalloc.start()
    try:
        plan = plan_chunks(reader.read, 100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert plan.chunks == []
    assert plan.header_problem == f"malformed CSV header: line longer than {MAX_LINE_BYTES} bytes"
    # Refused once the first line passed the bound: at most one read chunk past it, not 32 MB.
    assert reader.bytes_read <= MAX_LINE_BYTES + 64 * 1024 + 64 * 1024
    assert peak < 4 * MAX_LINE_BYTES, peak


def test_skipping_an_overlong_line_holds_one_read_at_a_time() -> None:
    data = f"{HEADER}\n".encode() + b"y" * (16 * 1024 * 1024) + b"\np-1,m,1.00,USD,a\n"
    tracemalloc.start()
    try:
        lines = BoundedLines(io.BytesIO(data).read)
        assert next(lines) == HEADER + "\n"
        with pytest.raises(Exception, match="line longer than"):
            next(lines)
        assert next(lines) == "p-1,m,1.00,USD,a\n"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert lines.settle() == len(data)
    assert peak < 4 * MAX_LINE_BYTES, peak


def test_each_merchant_is_looked_up_once_per_chunk_and_inactive_ones_are_reported() -> None:
    lines = [f"p-{n},merchant-{n % 3},1.00,USD,c" for n in range(30)]
    data = "\n".join([HEADER, *lines]).encode() + b"\n"
    looked_up: list[str] = []

    def is_active(merchant_id: str) -> bool:
        looked_up.append(merchant_id)
        return merchant_id != "merchant-2"

    [chunk] = plan_chunks(io.BytesIO(data).read, 1000).chunks
    rows = validate_chunk(io.BytesIO(data[chunk.start : chunk.end]).read, chunk, RULES, JOB, is_active)
    assert sorted(looked_up) == ["merchant-0", "merchant-1", "merchant-2"]  # 30 rows, 3 merchants
    assert len(rows.valid) == 20
    assert rows.rejections[0] == Rejection(4, "merchant_id: merchant-2 is not an active merchant")
    assert len(rows.rejections) == 10
