"""The steps of the per-file batch workflow, each what one Lambda task does.

    S3 ObjectCreated (incoming/*.csv)
      └─ start_file        (S3-triggered): StartExecution named by the object version's job id
    state machine:
      Plan      plan_file:        claim the job record, read the file once, write chunk descriptors
      Chunks?   no chunks → Finish (an empty file or a bad header is a 1-row report)
      Ingest    Distributed Map over the descriptors (ItemReader, MaxConcurrency, Retry), its
                results written to S3 under the plan's results_prefix (ResultWriter):
                  ingest_chunk_step: validate, claim, queue, count (chunk_ingest)
      Finish    finish_file:      join the chunks' rejections into the report, COMPLETED + the
                                  counts the chunks added to the job record (not the map's results)
      (Catch)   fail_file:        FAILED + the error, then the execution fails (alarmed)

Nothing here holds a whole file: the planner streams it (bounded lines), a chunk reads its own
byte range, and the report is joined from per-chunk parts through a spooled file.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.batch.chunk_ingest import AcceptedRowSender, ChunkJob, ingest_chunk
from payment_core.batch.csv_chunks import Chunk, ChunkPlanner
from payment_core.batch.jobs import (
    ALREADY_COMPLETED,
    ALREADY_STARTED,
    COMPLETED,
    FAILED,
    RUNNING,
    STARTED,
    BatchFile,
    BatchFiles,
    WorkLayout,
)
from payment_core.batch.ledger import BatchLedger
from payment_core.batch.report import join_reports, refuse_file, write_rejections
from payment_core.batch.rows import report_key_for
from payment_core.payments.repository import condition_failed
from payment_core.rules import BusinessRules
from payment_core.tenancy.merchants import MerchantDirectory

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient

SPOOL_BYTES: Final = 1024 * 1024


# --- start ---------------------------------------------------------------------------------
def start_file(sfn: SFNClient, state_machine_arn: str, batch_file: BatchFile) -> str:
    """One execution per object version: its name is the job id (64 hex, within the 80 allowed).

    A re-delivered event gets ``ExecutionAlreadyExists`` (or, while the first one runs with the
    same input, the same execution back): either way nothing new starts.
    """
    try:
        sfn.start_execution(
            stateMachineArn=state_machine_arn,
            name=batch_file.job_id,
            input=json.dumps(batch_file.to_input(), sort_keys=True),
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionAlreadyExists":
            return ALREADY_STARTED
        raise
    return STARTED


# --- plan ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSettings:
    """How a batch file is cut into chunks, and the largest file taken."""

    records_per_chunk: int
    layout: WorkLayout
    # A larger file is refused: the batch execution's TimeoutSeconds is derived from this bound.
    max_file_bytes: int


def plan_file(
    batch_file: BatchFile,
    s3: S3Client,
    files: BatchFiles,
    settings: PlanSettings,
    now: Callable[[], datetime],
    execution: str,
) -> dict[str, Any]:
    """Read the file once and write its chunk descriptors; refuse a bad header or an oversized file outright."""
    if not files.begin(batch_file, now(), execution):
        return {"state": ALREADY_COMPLETED, "chunks": 0}
    size = batch_file.size(s3)
    if size > settings.max_file_bytes:
        # Refused before reading it: the execution's timeout only covers files up to the bound.
        problem = (
            f"file is {size} bytes, above the limit of {settings.max_file_bytes} bytes; split it into smaller files"
        )
        return refuse_file(batch_file, s3, files, problem, now)
    body = batch_file.open(s3)
    try:
        planner = ChunkPlanner(body.read, settings.records_per_chunk)
        if planner.header_problem is not None:
            return refuse_file(batch_file, s3, files, planner.header_problem, now)
        # The descriptors go to disk as they come, so the planner's memory does not grow with
        # the file (the manifest is about 80 bytes a chunk).
        with tempfile.TemporaryFile() as manifest:
            chunks = _write_manifest(planner.chunks(), manifest)
            manifest.seek(0)
            manifest_key = settings.layout.manifest_key(batch_file.job_id)
            s3.put_object(Bucket=batch_file.bucket, Key=manifest_key, Body=manifest, ContentType="application/json")
    finally:
        body.close()
    files.set_chunks(batch_file.job_id, chunks)
    state = RUNNING if chunks else COMPLETED
    if not chunks:  # a header and nothing else: nothing to map over
        files.complete(batch_file.job_id, {"rows": 0, "queued": 0, "rejected": 0}, None, now())
    return {
        "state": state,
        "chunks": chunks,
        "manifest_key": manifest_key,
        "results_prefix": settings.layout.results_prefix(batch_file.job_id),
        "bytes": planner.bytes_read,
    }


def _write_manifest(chunks: Iterator[Chunk], out: IO[bytes]) -> int:
    """A JSON array of chunk descriptors, written item by item; returns how many."""
    count = 0
    out.write(b"[")
    for chunk in chunks:
        if count:
            out.write(b",")
        out.write(json.dumps(chunk.to_item(), separators=(",", ":")).encode())
        count += 1
    out.write(b"]")
    return count


# --- one chunk -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkSettings:
    """Where one chunk's payments are queued, and the time kept in reserve before the invocation's timeout."""

    queue_url: str
    layout: WorkLayout
    reserve_ms: int


def ingest_chunk_step(
    batch_file: BatchFile,
    chunk: Chunk,
    clients: ChunkClients,
    rules: BusinessRules,
    settings: ChunkSettings,
    remaining_ms: Callable[[], int],
    now: Callable[[], datetime],
) -> dict[str, Any]:
    """Read the chunk's byte range (of this object version) and queue its rows once."""
    body = batch_file.open(clients.s3, (chunk.start, chunk.end))
    try:
        # The rejections part goes first: once the chunk counts as done, nothing rewrites it.
        result = ingest_chunk(
            ChunkJob(batch_file.job_id, batch_file.key, chunk),
            body.read,
            rules,
            clients.ledger,
            AcceptedRowSender(clients.sqs, settings.queue_url),
            clients.merchants.is_active,
            remaining_ms,
            now,
            settings.reserve_ms,
            before_completion=lambda rejections: write_rejections(
                clients.s3, batch_file, settings.layout, chunk.index, rejections
            ),
        )
    finally:
        body.close()
    return result.summary()


@dataclass(frozen=True)
class ChunkClients:
    """What ingesting one chunk talks to."""

    s3: S3Client
    sqs: SQSClient
    ledger: BatchLedger
    merchants: MerchantDirectory  # a row's merchant must be active


# --- finish / fail -------------------------------------------------------------------------
def finish_file(
    batch_file: BatchFile,
    s3: S3Client,
    files: BatchFiles,
    layout: WorkLayout,
    now: Callable[[], datetime],
) -> dict[str, Any]:
    """All chunks done: join their rejections (in chunk order) into the report; COMPLETED."""
    job = files.get(batch_file.job_id)
    if job.get("state") == COMPLETED:
        return _summary(job)
    chunks, done = int(str(job.get("chunks", 0))), int(str(job.get("chunks_done", 0)))
    if done != chunks:
        raise RuntimeError(f"batch job {batch_file.job_id}: {done} of {chunks} chunks done")
    counts = {name: int(str(job.get(name, 0))) for name in ("rows", "queued", "rejected")}
    report_key = None
    if counts["rejected"]:
        report_key = report_key_for(batch_file.key)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as report:
            join_reports(s3, batch_file.bucket, layout.rejections_prefix(batch_file.job_id), report)
            s3.put_object(Bucket=batch_file.bucket, Key=report_key, Body=report, ContentType="text/csv")
    files.complete(batch_file.job_id, counts, report_key, now())
    return _summary(files.get(batch_file.job_id))


def _summary(job: dict[str, Any]) -> dict[str, Any]:
    return {
        "state": job.get("state"),
        "chunks": int(str(job.get("chunks", 0))),
        "rows": int(str(job.get("rows", 0))),
        "queued": int(str(job.get("queued", 0))),
        "rejected": int(str(job.get("rejected", 0))),
        "report_key": job.get("report_key"),
    }


def fail_file(
    batch_file: BatchFile, files: BatchFiles, error: dict[str, Any], now: Callable[[], datetime]
) -> dict[str, Any]:
    """Record why the file failed; the execution then fails (``ExecutionsFailed`` alarm)."""
    name = str(error.get("Error", "Unknown"))
    cause = str(error.get("Cause", ""))
    try:
        files.fail(batch_file.job_id, name, cause, now())
    except ClientError as failure:
        if not condition_failed(failure):
            raise
    return {"state": FAILED, "error": name}


# --- dispatch ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BatchFileDeps:
    """What the steps need, built once per execution environment by the handler."""

    s3: S3Client
    files: BatchFiles
    chunk_clients: ChunkClients
    rules: BusinessRules
    plan: PlanSettings
    chunk: ChunkSettings


def batch_file_from_s3_record(record: dict[str, Any]) -> BatchFile:
    """The object version an S3 ObjectCreated record names (its key arrives form-encoded)."""
    s3_part = record["s3"]
    s3_object = s3_part["object"]
    version_id = s3_object.get("versionId") or None
    etag = str(s3_object.get("eTag", ""))
    return BatchFile(s3_part["bucket"]["name"], unquote_plus(s3_object["key"]), version_id or etag, version_id, etag)


def run_step(
    event: dict[str, Any], deps: BatchFileDeps, remaining_ms: Callable[[], int], now: Callable[[], datetime]
) -> dict[str, Any]:
    """One state of the batch state machine: ``{"step": <contract.BATCH_FILE_STEPS>, "file": ...}``."""
    step = event.get("step")
    if not isinstance(step, str) or step not in STEPS:
        raise ValueError(f"unknown batch step {step!r}")
    return STEPS[step](event, BatchFile.from_input(event["file"]), deps, remaining_ms, now)


Step = Callable[[dict[str, Any], BatchFile, BatchFileDeps, Callable[[], int], Callable[[], datetime]], dict[str, Any]]
# One entry per contract.BATCH_FILE_STEPS (tests/unit/test_batch_files.py holds them equal).
STEPS: Final[dict[str, Step]] = {
    contract.BATCH_STEP_PLAN: lambda event, batch_file, deps, remaining_ms, now: plan_file(
        batch_file, deps.s3, deps.files, deps.plan, now, str(event["execution"])
    ),
    contract.BATCH_STEP_CHUNK: lambda event, batch_file, deps, remaining_ms, now: ingest_chunk_step(
        batch_file, Chunk.from_item(event["chunk"]), deps.chunk_clients, deps.rules, deps.chunk, remaining_ms, now
    ),
    contract.BATCH_STEP_FINISH: lambda event, batch_file, deps, remaining_ms, now: finish_file(
        batch_file, deps.s3, deps.files, deps.plan.layout, now
    ),
    contract.BATCH_STEP_FAIL: lambda event, batch_file, deps, remaining_ms, now: fail_file(
        batch_file, deps.files, dict(event.get("error") or {}), now
    ),
}
