"""The steps of the per-file batch workflow, each what one Lambda task does.

    S3 ObjectCreated (incoming/*.csv)
      └─ start_file        (S3-triggered): StartExecution named by the object version's job id
    state machine:
      Plan      plan_file:        claim the job record, read the file once, write chunk descriptors
      Chunks?   no chunks → Finish (an empty file or a bad header is a 1-row report)
      Ingest    Distributed Map over the descriptors (ItemReader, MaxConcurrency, Retry):
                  ingest_chunk_step: validate, claim, queue, count (chunk_ingest)
      Finish    finish_file:      join the chunks' rejections into the report, COMPLETED + counts
      (Catch)   fail_file:        FAILED + the error, then the execution fails (alarmed)

Nothing here holds a whole file: the planner streams it (bounded lines), a chunk reads its own
byte range, and the report is joined from per-chunk parts through a spooled file.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from payment_core.batch import REPORT_HEADER, Rejection, RejectionReport, job_id_for, report_key_for
from payment_core.batch_ledger import BatchLedger
from payment_core.chunk_ingest import AcceptedRowSender, ChunkJob, ingest_chunk
from payment_core.csv_chunks import Chunk, ChunkPlanner
from payment_core.models import format_timestamp
from payment_core.repository import condition_failed, from_attributes, to_attributes
from payment_core.settings import BusinessRules

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient

RUNNING: Final = "RUNNING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
ALREADY_COMPLETED: Final = "ALREADY_COMPLETED"
ALREADY_STARTED: Final = "ALREADY_STARTED"
STARTED: Final = "STARTED"
MANIFEST_NAME: Final = "chunks.json"
REJECTIONS_DIR: Final = "rejections"
SPOOL_BYTES: Final = 1024 * 1024


@dataclass(frozen=True)
class BatchFile:
    """One object version: what every step of its execution is about."""

    bucket: str
    key: str
    version: str  # versionId, else ETag
    version_id: str | None
    etag: str

    @property
    def job_id(self) -> str:
        return job_id_for(self.bucket, self.key, self.version)

    def to_input(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
        }

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> BatchFile:
        version_id = data.get("version_id")
        etag = str(data["etag"])
        batch_file = cls(str(data["bucket"]), str(data["key"]), version_id or etag, version_id, etag)
        if data.get("job_id", batch_file.job_id) != batch_file.job_id:
            raise ValueError("job_id does not match bucket, key and version")
        return batch_file

    def open(self, s3: S3Client, byte_range: tuple[int, int] | None = None) -> Any:
        """This object version's body (``[start, end)`` only, if given), as a stream."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            request["VersionId"] = self.version_id
        if byte_range is not None:
            request["Range"] = f"bytes={byte_range[0]}-{byte_range[1] - 1}"
        return s3.get_object(**request)["Body"]


@dataclass(frozen=True)
class WorkLayout:
    """Where a job's intermediate objects live (``<work_prefix><job_id>/...``)."""

    work_prefix: str

    def manifest_key(self, job_id: str) -> str:
        return f"{self.work_prefix}{job_id}/{MANIFEST_NAME}"

    def rejections_prefix(self, job_id: str) -> str:
        return f"{self.work_prefix}{job_id}/{REJECTIONS_DIR}/"

    def rejections_key(self, job_id: str, index: int) -> str:
        return f"{self.rejections_prefix(job_id)}{index:08d}.csv"


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


# --- the job record ------------------------------------------------------------------------
class BatchFiles:
    """The job record of each file in the batch-jobs table (key ``job_id``)."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def begin(self, batch_file: BatchFile, now: datetime, execution: str) -> bool:
        """RUNNING for this execution; False if the file already COMPLETED.

        A re-run of a FAILED file keeps the counters its finished chunks already added.
        """
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"job_id": {"S": batch_file.job_id}},
                UpdateExpression=(
                    "SET #state = :running, #bucket = :bucket, #key = :key, #etag = :etag, "
                    "#started = :now, #execution = :execution REMOVE #error, #cause"
                ),
                ConditionExpression="attribute_not_exists(job_id) OR #state <> :completed",
                # Every name through a placeholder: BUCKET, KEY, STATE, ERROR are DynamoDB reserved words.
                ExpressionAttributeNames={
                    "#state": "state",
                    "#bucket": "bucket",
                    "#key": "key",
                    "#etag": "etag",
                    "#started": "started_at",
                    "#execution": "execution_name",
                    "#error": "error",
                    "#cause": "cause",
                },
                ExpressionAttributeValues=to_attributes(
                    {
                        ":running": RUNNING,
                        ":completed": COMPLETED,
                        ":bucket": batch_file.bucket,
                        ":key": batch_file.key,
                        ":etag": batch_file.etag,
                        ":now": format_timestamp(now),
                        ":execution": execution,
                    }
                ),
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def set_chunks(self, job_id: str, chunks: int) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"job_id": {"S": job_id}},
            UpdateExpression="SET #chunks = :chunks",
            ExpressionAttributeNames={"#chunks": "chunks"},
            ExpressionAttributeValues={":chunks": {"N": str(chunks)}},
        )

    def get(self, job_id: str) -> dict[str, Any]:
        item = self._client.get_item(TableName=self._table, Key={"job_id": {"S": job_id}}, ConsistentRead=True).get(
            "Item"
        )
        if not item:
            raise LookupError(f"no batch job {job_id}")
        return from_attributes(item)

    def complete(self, job_id: str, counts: dict[str, int], report_key: str | None, now: datetime) -> None:
        values: dict[str, Any] = {
            ":completed": COMPLETED,
            ":running": RUNNING,
            ":rows": counts["rows"],
            ":queued": counts["queued"],
            ":rejected": counts["rejected"],
            ":now": format_timestamp(now),
        }
        expression = (
            "SET #state = :completed, #rows = :rows, queued = :queued, rejected = :rejected, finished_at = :now"
        )
        if report_key is not None:
            values[":report"] = report_key
            expression += ", report_key = :report"
        self._client.update_item(
            TableName=self._table,
            Key={"job_id": {"S": job_id}},
            UpdateExpression=expression,
            ConditionExpression="#state = :running",
            ExpressionAttributeNames={"#state": "state", "#rows": "rows"},
            ExpressionAttributeValues=to_attributes(values),
        )

    def fail(self, job_id: str, error: str, cause: str, now: datetime) -> None:
        self._client.update_item(
            TableName=self._table,
            Key={"job_id": {"S": job_id}},
            UpdateExpression="SET #state = :failed, #error = :error, #cause = :cause, finished_at = :now",
            ConditionExpression="attribute_not_exists(#state) OR #state <> :completed",
            ExpressionAttributeNames={"#state": "state", "#error": "error", "#cause": "cause"},
            ExpressionAttributeValues=to_attributes(
                {
                    ":failed": FAILED,
                    ":completed": COMPLETED,
                    ":error": error[:256],
                    ":cause": cause[:4096],
                    ":now": format_timestamp(now),
                }
            ),
        )


# --- plan ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSettings:
    records_per_chunk: int
    layout: WorkLayout


def plan_file(
    batch_file: BatchFile,
    s3: S3Client,
    files: BatchFiles,
    settings: PlanSettings,
    now: Callable[[], datetime],
    execution: str,
) -> dict[str, Any]:
    """Read the file once and write its chunk descriptors; refuse a bad header outright."""
    if not files.begin(batch_file, now(), execution):
        return {"state": ALREADY_COMPLETED, "chunks": 0}
    body = batch_file.open(s3)
    try:
        planner = ChunkPlanner(body.read, settings.records_per_chunk)
        if planner.header_problem is not None:
            return _refuse_file(batch_file, s3, files, planner.header_problem, now)
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
    return {"state": state, "chunks": chunks, "manifest_key": manifest_key, "bytes": planner.bytes_read}


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


def _refuse_file(
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


# --- one chunk -----------------------------------------------------------------------------
@dataclass(frozen=True)
class ChunkSettings:
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
            remaining_ms,
            now,
            settings.reserve_ms,
            before_completion=lambda rejections: _write_rejections(
                clients.s3, batch_file, settings.layout, chunk.index, rejections
            ),
        )
    finally:
        body.close()
    return result.summary()


@dataclass(frozen=True)
class ChunkClients:
    s3: S3Client
    sqs: SQSClient
    ledger: BatchLedger


def _write_rejections(
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
            _join_reports(s3, batch_file.bucket, layout.rejections_prefix(batch_file.job_id), report)
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


def _join_reports(s3: S3Client, bucket: str, prefix: str, into: IO[bytes]) -> None:
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
    """One state of the batch state machine: ``{"step": plan|chunk|finish|fail, "file": ...}``."""
    step = event.get("step")
    batch_file = BatchFile.from_input(event["file"])
    if step == "plan":
        return plan_file(batch_file, deps.s3, deps.files, deps.plan, now, str(event["execution"]))
    if step == "chunk":
        chunk = Chunk.from_item(event["chunk"])
        return ingest_chunk_step(batch_file, chunk, deps.chunk_clients, deps.rules, deps.chunk, remaining_ms, now)
    if step == "finish":
        return finish_file(batch_file, deps.s3, deps.files, deps.plan.layout, now)
    if step == "fail":
        return fail_file(batch_file, deps.files, dict(event.get("error") or {}), now)
    raise ValueError(f"unknown batch step {step!r}")
