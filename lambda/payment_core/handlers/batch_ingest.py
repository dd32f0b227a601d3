"""Batch files, one Step Functions execution each (docs/batch-files.md).

Two callers, one function:

* S3 ObjectCreated on ``incoming/*.csv`` (asynchronous; a failed event lands in the ingest DLQ
  after Lambda's retries): start the batch-file execution named after the object version;
  a re-delivered event starts nothing.
* The batch-file state machine, one task per step: ``{"step": "plan" | "chunk" | "finish" |
  "fail", "file": ...}`` (``payment_core.batch_file.run_step``).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core.batch.workflow import batch_file_from_s3_record, run_step, start_file
from payment_core.batch.jobs import ALREADY_STARTED
from payment_core.payments.models import utc_now
from payment_core.runtime import BatchIngestRuntime

runtime = BatchIngestRuntime()


def start(record: dict[str, Any]) -> dict[str, str]:
    batch_file = batch_file_from_s3_record(record)
    runtime.logger.append_keys(batch_job_id=batch_file.job_id, s3_key=batch_file.key)
    outcome = start_file(runtime.stepfunctions(), runtime.environment().batch_state_machine_arn, batch_file)
    if outcome == ALREADY_STARTED:
        runtime.logger.info("batch file already started; ignoring the re-delivered event")
    return {"job_id": batch_file.job_id, "key": batch_file.key, "state": outcome}


@runtime.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if "Records" in event:
        return {"jobs": [start(record) for record in event["Records"]]}
    result = run_step(event, runtime.batch_file_deps(), context.get_remaining_time_in_millis, utc_now)
    if event.get("step") == "chunk":
        runtime.count("BatchRowsQueued", int(result.get("queued", 0)))
        runtime.count("BatchRowsRejected", int(result.get("rejected", 0)))
    return result
