"""The design batch_ingest is measured against: one PutItem and one SendMessage per row.

Same bookkeeping as the real handler (claim the job, read the object, mark it finished),
so the only difference is the per-row I/O pattern. Rows are assumed valid: this is a
yardstick for AWS calls and time, not a second implementation of the validation.
"""

from __future__ import annotations

import codecs
import csv
import json
from datetime import UTC, datetime
from typing import Any


def naive_ingest(
    dynamodb: Any, s3: Any, sqs: Any, *, bucket: str, key: str, jobs_table: str, payments_table: str, queue_url: str
) -> int:
    """Returns the number of rows queued."""
    job_id = f"naive:{bucket}/{key}"
    now = datetime.now(UTC).isoformat()
    dynamodb.put_item(
        TableName=jobs_table,
        Item={"job_id": {"S": job_id}, "state": {"S": "RUNNING"}, "started_at": {"S": now}},
        ConditionExpression="attribute_not_exists(job_id)",
    )
    body = s3.get_object(Bucket=bucket, Key=key)["Body"]
    rows = 0
    try:
        lines = codecs.iterdecode(body.iter_lines(keepends=True), "utf-8-sig")
        for row_number, row in enumerate(csv.DictReader(lines), start=2):
            item = {name: {"S": value} for name, value in row.items()}
            item["status"] = {"S": "PENDING"}
            dynamodb.put_item(TableName=payments_table, Item=item)
            sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({**row, "row_number": row_number}))
            rows += 1
    finally:
        body.close()
    dynamodb.update_item(
        TableName=jobs_table,
        Key={"job_id": {"S": job_id}},
        UpdateExpression="SET #state = :done, #rows = :rows",
        ExpressionAttributeNames={"#state": "state", "#rows": "rows"},
        ExpressionAttributeValues={":done": {"S": "COMPLETED"}, ":rows": {"N": str(rows)}},
    )
    return rows
