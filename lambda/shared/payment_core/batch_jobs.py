"""The batch-jobs table: one record per S3 object version, guarding against re-delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from payment_core.errors import BatchJobInProgress
from payment_core.models import format_timestamp
from payment_core.repository import condition_failed, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
# A RUNNING job older than the longest possible Lambda run was abandoned by a crash.
STALE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class BatchJob:
    job_id: str
    bucket: str
    key: str
    etag: str


@dataclass(frozen=True)
class BatchCounts:
    rows: int
    queued: int
    rejected: int


class BatchJobs:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def begin(self, job: BatchJob, now: datetime) -> bool:
        """Claim the job. False if it already completed (a re-delivered event).

        Raises ``BatchJobInProgress`` while another invocation holds a fresh claim, so the
        S3 event is retried later rather than dropped. A stale claim is taken over; rows
        queued twice that way are harmless because the consumer creates each payment once.
        """
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(
                    {
                        "job_id": job.job_id,
                        "bucket": job.bucket,
                        "key": job.key,
                        "etag": job.etag,
                        "state": RUNNING,
                        "rows": 0,
                        "queued": 0,
                        "rejected": 0,
                        "started_at": format_timestamp(now),
                    }
                ),
                ConditionExpression=("attribute_not_exists(job_id) OR (#state = :running AND started_at < :stale)"),
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=to_attributes(
                    {":running": RUNNING, ":stale": format_timestamp(now - STALE_AFTER)}
                ),
            )
        except ClientError as error:
            if not condition_failed(error):
                raise
            existing = self.get(job.job_id)
            if existing is not None and existing.get("state") == COMPLETED:
                return False
            raise BatchJobInProgress(f"batch job {job.job_id} is already running") from error
        return True

    def finish(self, job_id: str, counts: BatchCounts, report_key: str | None, now: datetime) -> None:
        values = {
            ":completed": COMPLETED,
            ":rows": counts.rows,
            ":queued": counts.queued,
            ":rejected": counts.rejected,
            ":finished": format_timestamp(now),
        }
        expression = (
            "SET #state = :completed, #rows = :rows, queued = :queued, rejected = :rejected, finished_at = :finished"
        )
        if report_key is not None:
            values[":report"] = report_key
            expression += ", report_key = :report"
        self._client.update_item(
            TableName=self._table,
            Key={"job_id": {"S": job_id}},
            UpdateExpression=expression,
            ExpressionAttributeNames={"#state": "state", "#rows": "rows"},
            ExpressionAttributeValues=to_attributes(values),
        )

    def get(self, job_id: str) -> dict[str, object] | None:
        response = self._client.get_item(TableName=self._table, Key={"job_id": {"S": job_id}}, ConsistentRead=True)
        item = response.get("Item")
        return from_attributes(item) if item else None
