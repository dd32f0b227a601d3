"""Batch files, one Step Functions execution each (docs/batch-files.md).

Two callers, one function:

* S3 ObjectCreated on ``incoming/*.csv`` (asynchronous; a failed event lands in the ingest DLQ
  after Lambda's retries): start the batch-file execution named after the object version;
  a re-delivered event starts nothing.
* The batch-file state machine, one task per step: ``{"step": <contract.BATCH_FILE_STEPS>,
  "file": ...}`` (``payment_core.batch.workflow.run_step``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core import contract
from payment_core.batch.jobs import ALREADY_STARTED, WorkLayout
from payment_core.batch.wiring import BatchTables, wire_batch_file_deps
from payment_core.batch.workflow import (
    BatchFileDeps,
    batch_file_from_s3_record,
    run_step,
    start_file,
)
from payment_core.payments.models import utc_now
from payment_core.rules import BusinessRules
from payment_core.runtime import FunctionRuntime
from payment_core.settings import DAY, FunctionEnvironment, duration, positive_int, reads, variable


@dataclass(frozen=True)
class BatchIngestEnvironment(FunctionEnvironment):
    """Starts each batch file's execution; plans it, queues its chunks' rows once (each checked
    against the rules), reports."""

    rules: BusinessRules = field(metadata=reads(BusinessRules.read))
    batch_jobs_table: str = field(metadata=variable(contract.BATCH_JOBS_TABLE_NAME))
    batch_claims_table: str = field(metadata=variable(contract.BATCH_CLAIMS_TABLE_NAME))
    batch_state_machine_arn: str = field(metadata=variable(contract.BATCH_STATE_MACHINE_ARN))
    records_per_chunk: int = field(metadata=positive_int(contract.BATCH_RECORDS_PER_CHUNK))
    max_file_bytes: int = field(metadata=positive_int(contract.BATCH_MAX_FILE_BYTES))
    time_reserve_ms: int = field(metadata=positive_int(contract.BATCH_TIME_RESERVE_MS))
    rerun_window: timedelta = field(metadata=duration(contract.BATCH_RERUN_WINDOW_DAYS, DAY))
    payment_queue_url: str = field(metadata=variable(contract.PAYMENT_QUEUE_URL))
    merchants_table: str = field(metadata=variable(contract.MERCHANTS_TABLE_NAME))


runtime = FunctionRuntime(contract.BATCH_INGEST, BatchIngestEnvironment)


def _wire_batch_file_deps() -> BatchFileDeps:
    environment = runtime.environment()
    return wire_batch_file_deps(
        dynamodb=runtime.dynamodb(),
        s3=runtime.s3(),
        sqs=runtime.sqs(),
        tables=BatchTables(environment.batch_jobs_table, environment.batch_claims_table, environment.merchants_table),
        rules=environment.rules,
        records_per_chunk=environment.records_per_chunk,
        max_file_bytes=environment.max_file_bytes,
        queue_url=environment.payment_queue_url,
        reserve_ms=environment.time_reserve_ms,
        layout=WorkLayout(contract.BATCH_WORK_PREFIX),
        rerun_window=environment.rerun_window,
    )


# What a file's steps (plan, chunk, finish, fail) run with; its start needs only Step Functions.
batch_file_deps = runtime.cached(_wire_batch_file_deps)


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
    result = run_step(event, batch_file_deps(), context.get_remaining_time_in_millis, utc_now)
    if event.get("step") == contract.BATCH_STEP_CHUNK:
        runtime.count("BatchRowsQueued", int(result.get("queued", 0)))
        runtime.count("BatchRowsRejected", int(result.get("rejected", 0)))
    return result
