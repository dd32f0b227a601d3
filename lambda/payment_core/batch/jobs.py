"""A batch file's identity (one S3 object version) and its record in the batch-jobs table.

The record is RUNNING while an execution works on the file, COMPLETED with the file's counts,
or FAILED with the error that ended its execution. Chunk records and their counters live in
the same table (``batch_ledger``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from payment_core.batch.rows import job_id_for
from payment_core.payments.models import format_timestamp
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

RUNNING: Final = "RUNNING"
COMPLETED: Final = "COMPLETED"
FAILED: Final = "FAILED"
ALREADY_COMPLETED: Final = "ALREADY_COMPLETED"
ALREADY_STARTED: Final = "ALREADY_STARTED"
STARTED: Final = "STARTED"

MANIFEST_NAME: Final = "chunks.json"
REJECTIONS_DIR: Final = "rejections"
RESULTS_DIR: Final = "results"


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
        """The execution's input: the job id and what ``from_input`` reads back."""
        return {name: getattr(self, name) for name in ("job_id", "bucket", "key", "version_id", "etag")}

    @classmethod
    def from_input(cls, data: dict[str, Any]) -> BatchFile:
        version_id = data.get("version_id")
        etag = str(data["etag"])
        batch_file = cls(str(data["bucket"]), str(data["key"]), version_id or etag, version_id, etag)
        if data.get("job_id", batch_file.job_id) != batch_file.job_id:
            raise ValueError("job_id does not match bucket, key and version")
        return batch_file

    def size(self, s3: S3Client) -> int:
        """This object version's length in bytes."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            request["VersionId"] = self.version_id
        return int(s3.head_object(**request)["ContentLength"])

    def open(self, s3: S3Client, byte_range: tuple[int, int] | None = None) -> Any:
        """This object version's body (``[start, end)`` only, if given), as a stream."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self.key}
        if self.version_id:
            request["VersionId"] = self.version_id
        if byte_range is not None:
            request["Range"] = f"bytes={byte_range[0]}-{byte_range[1] - 1}"
        return s3.get_object(**request)["Body"]


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


@dataclass(frozen=True)
class WorkLayout:
    """Where a job's intermediate objects live (``<work_prefix><job_id>/...``)."""

    work_prefix: str

    def manifest_key(self, job_id: str) -> str:
        return f"{self.work_prefix}{job_id}/{MANIFEST_NAME}"

    def results_prefix(self, job_id: str) -> str:
        """Where the map's ResultWriter puts the chunks' results (``<map run id>/manifest.json``)."""
        return f"{self.work_prefix}{job_id}/{RESULTS_DIR}/"

    def rejections_prefix(self, job_id: str) -> str:
        return f"{self.work_prefix}{job_id}/{REJECTIONS_DIR}/"

    def rejections_key(self, job_id: str, index: int) -> str:
        return f"{self.rejections_prefix(job_id)}{index:08d}.csv"
