"""The per-file rejection report: written per chunk, joined in row order when the file is done."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any

from payment_core.batch.jobs import COMPLETED, BatchFile, BatchFiles, WorkLayout
from payment_core.batch.rows import REPORT_HEADER, Rejection, RejectionReport, report_key_for

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def refuse_file(
    batch_file: BatchFile, s3: S3Client, files: BatchFiles, problem: str, now: Callable[[], datetime]
) -> dict[str, Any]:
    """A bad or missing header: the whole file is one rejected row, and nothing is mapped."""
    report_key = report_key_for(batch_file.key)
    report = RejectionReport()
    try:
        report.add(Rejection(1, problem))
        s3.put_object(Bucket=batch_file.bucket, Key=report_key, Body=report.rewind(), ContentType="text/csv")
    finally:
        report.close()
    files.set_chunks(batch_file.job_id, 0)
    files.complete(batch_file.job_id, {"rows": 0, "queued": 0, "rejected": 1}, report_key, now())
    return {"state": COMPLETED, "chunks": 0, "rows": 0, "queued": 0, "rejected": 1, "report_key": report_key}


def write_rejections(
    s3: S3Client, batch_file: BatchFile, layout: WorkLayout, index: int, rejections: list[Rejection]
) -> None:
    """A chunk's rejections as a report of their own (header included), joined by finish_file."""
    if not rejections:
        return
    part = RejectionReport()
    try:
        for rejection in rejections:
            part.add(rejection)
        s3.put_object(
            Bucket=batch_file.bucket,
            Key=layout.rejections_key(batch_file.job_id, index),
            Body=part.rewind(),
            ContentType="text/csv",
        )
    finally:
        part.close()


def join_reports(s3: S3Client, bucket: str, prefix: str, into: IO[bytes]) -> None:
    """The header once, then every part's rows. Parts are named by zero-padded chunk index,
    so listing order is chunk order and therefore row order."""
    header_line = ",".join(REPORT_HEADER).encode() + b"\n"
    into.write(header_line)
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for entry in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=entry["Key"])["Body"]
            try:
                first = body.read(len(header_line))
                if first != header_line:
                    raise ValueError(f"{entry['Key']} is not a rejections part")
                for piece in iter(functools.partial(body.read, 64 * 1024), b""):
                    into.write(piece)
            finally:
                body.close()
    into.seek(0)
