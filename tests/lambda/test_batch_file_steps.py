"""The per-file workflow's steps against moto, driven as the state machine drives them:
plan, every chunk, finish; a failed file recorded, then re-run without queueing a row twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from payment_core import contract
from payment_core.batch.chunk_ingest import ChunkIncomplete
from payment_core.batch.jobs import ALREADY_COMPLETED, ALREADY_STARTED, STARTED, BatchFile, WorkLayout
from payment_core.batch.wiring import BatchTables, wire_batch_file_deps
from payment_core.batch.workflow import (
    BatchFileDeps,
    batch_file_from_s3_record,
    run_step,
    start_file,
)
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables

from testkit.environment import HANDLER_ENVIRONMENT, TABLES
from testkit.events import CSV_HEADER as HEADER

JOBS = TABLES[contract.BATCH_JOBS_TABLE_NAME]
CLAIMS = TABLES[contract.BATCH_CLAIMS_TABLE_NAME]
LAYOUT = WorkLayout("batch-work/")


def now() -> datetime:
    return datetime.now(UTC)


class ThrottledAfter:
    """SQS that throttles every SendMessageBatch after the first ``allowed`` ones."""

    def __init__(self, real: Any, allowed: int) -> None:
        self._real = real
        self.allowed = allowed

    def send_message_batch(self, **kwargs: Any) -> Any:
        if self.allowed <= 0:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "SendMessageBatch")
        self.allowed -= 1
        return self._real.send_message_batch(**kwargs)


@pytest.fixture
def deps(aws: Any) -> BatchFileDeps:
    aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    return make_deps(aws, aws.sqs)


def make_deps(aws: Any, sqs: Any, max_file_bytes: int = 1_000_000) -> BatchFileDeps:
    return wire_batch_file_deps(
        dynamodb=aws.dynamodb,
        s3=aws.s3,
        sqs=sqs,
        tables=BatchTables(JOBS, CLAIMS, TABLES[contract.MERCHANTS_TABLE_NAME]),
        rules=BusinessRules.read(FunctionVariables(contract.BATCH_INGEST, HANDLER_ENVIRONMENT)),
        records_per_chunk=3,
        max_file_bytes=max_file_bytes,
        queue_url=aws.queue_url,
        reserve_ms=1_000,
        layout=LAYOUT,
        rerun_window=timedelta(days=90),
    )


def upload(aws: Any, key: str, data: bytes) -> BatchFile:
    put = aws.s3.put_object(Bucket=aws.bucket, Key=key, Body=data)
    return BatchFile(aws.bucket, key, put["VersionId"], put["VersionId"], put["ETag"].strip('"'))


def run_file(batch_file: BatchFile, deps: BatchFileDeps, aws: Any, execution: str = "run-1") -> dict[str, Any]:
    """What the state machine does, minus retries: plan, each chunk, finish."""
    file_input = batch_file.to_input()
    plan = run_step({"step": "plan", "file": file_input, "execution": execution}, deps, lambda: 60_000, now)
    if plan["state"] != "RUNNING":
        return plan
    manifest = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=plan["manifest_key"])["Body"].read())
    # The map's ResultWriter writes beside the descriptors, under the job's own prefix.
    assert plan["results_prefix"] == f"batch-work/{batch_file.job_id}/results/"
    for item in manifest:
        run_step({"step": "chunk", "file": file_input, "chunk": item}, deps, lambda: 60_000, now)
    return run_step({"step": "finish", "file": file_input}, deps, lambda: 60_000, now)


def queued_rows(aws: Any) -> list[int]:
    return sorted(json.loads(m["Body"])["row_number"] for m in aws.drain(aws.queue_url))


def job(aws: Any, job_id: str) -> dict[str, str]:
    item = aws.dynamodb.get_item(TableName=JOBS, Key={"job_id": {"S": job_id}})["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def completed(*, chunks: int, rows: int, queued: int, rejected: int, report: str) -> dict[str, Any]:
    """What the finish step answers for a completed file whose report is ``reports/<report>.errors.csv``."""
    return {
        "state": "COMPLETED",
        "chunks": chunks,
        "rows": rows,
        "queued": queued,
        "rejected": rejected,
        "report_key": f"reports/{report}.errors.csv",
    }


def file_of(rows: list[str]) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()


def test_a_file_runs_through_plan_chunks_and_finish(aws: Any, deps: BatchFileDeps) -> None:
    rows = [f"p-{n},merchant-1,{n}.00,USD,cust-{n}" for n in range(1, 9)]
    rows[1] = "p-2,merchant-1,1.00,XXX,cust-2"  # bad currency, row 3
    rows[6] = 'p-7,merchant-1,7.00,USD,"multi\r\nline"'  # whitespace in customer_ref, row 8
    batch_file = upload(aws, "incoming/day 2.csv", file_of(rows))

    summary = run_file(batch_file, deps, aws)

    assert summary == completed(chunks=3, rows=8, queued=6, rejected=2, report="day 2")
    assert queued_rows(aws) == [2, 4, 5, 6, 7, 9]
    report = aws.s3.get_object(Bucket=aws.bucket, Key="reports/day 2.errors.csv")["Body"].read().decode()
    assert report.splitlines() == [
        "row_number,reason",
        '3,"currency: currency must be one of EUR, GBP, JPY, USD"',
        "8,customer_ref: customer_ref must be printable text without surrounding whitespace",
    ]
    record = job(aws, batch_file.job_id)
    assert (record["state"], record["key"], record["chunks_done"]) == ("COMPLETED", "incoming/day 2.csv", "3")
    # Running the same version again (a re-delivery past the 90-day name reuse) does nothing.
    assert run_file(batch_file, deps, aws, execution="run-2")["state"] == ALREADY_COMPLETED
    assert queued_rows(aws) == []


def test_a_failed_file_is_recorded_and_a_rerun_queues_each_row_once(aws: Any, deps: BatchFileDeps) -> None:
    rows = [f"p-{n},merchant-1,{n}.00,USD,cust-{n}" for n in range(1, 31)]  # 30 rows, 10 chunks of 3
    batch_file = upload(aws, "incoming/flaky.csv", file_of(rows))
    throttled = make_deps(aws, ThrottledAfter(aws.sqs, allowed=4))
    file_input = batch_file.to_input()

    plan = run_step({"step": "plan", "file": file_input, "execution": "run-1"}, throttled, lambda: 60_000, now)
    manifest = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=plan["manifest_key"])["Body"].read())
    with pytest.raises(ChunkIncomplete):  # chunks 0-3 queued, chunk 4 throttled (retries exhausted)
        for item in manifest:
            run_step({"step": "chunk", "file": file_input, "chunk": item}, throttled, lambda: 60_000, now)
    error = {"Error": "States.ExceedToleratedFailureThreshold", "Cause": "chunk 4 failed"}
    run_step({"step": "fail", "file": file_input, "error": error}, throttled, lambda: 60_000, now)
    failed = job(aws, batch_file.job_id)
    assert (failed["state"], failed["error"], failed["queued"]) == ("FAILED", error["Error"], "12")
    assert queued_rows(aws) == list(range(2, 14))

    # The documented re-run: a new execution with the same input, once SQS is healthy.
    summary = run_file(batch_file, deps, aws, execution="rerun-1")

    assert (summary["state"], summary["rows"], summary["queued"], summary["rejected"]) == ("COMPLETED", 30, 30, 0)
    assert queued_rows(aws) == list(range(14, 32))  # only the rows the failed run had not queued
    assert "error" not in job(aws, batch_file.job_id)


def test_a_bad_header_is_a_one_line_report_and_no_map(aws: Any, deps: BatchFileDeps) -> None:
    batch_file = upload(aws, "incoming/bad.csv", b"id;amount\r\np-1;1\r\n")

    plan = run_file(batch_file, deps, aws)

    assert plan == completed(chunks=0, rows=0, queued=0, rejected=1, report="bad")
    report = aws.s3.get_object(Bucket=aws.bucket, Key="reports/bad.errors.csv")["Body"].read().decode()
    assert report.splitlines()[1] == '1,"header must be payment_id,merchant_id,amount,currency,customer_ref"'


def test_a_file_above_the_size_bound_is_refused_at_plan_with_a_report(aws: Any) -> None:
    aws.s3.put_bucket_versioning(Bucket=aws.bucket, VersioningConfiguration={"Status": "Enabled"})
    rows = [f"p-{n},merchant-1,{n}.00,USD,cust-{n}" for n in range(1, 9)]
    data = file_of(rows)
    batch_file = upload(aws, "incoming/huge.csv", data)
    bounded = make_deps(aws, aws.sqs, max_file_bytes=len(data) - 1)

    summary = run_file(batch_file, bounded, aws)

    assert summary == completed(chunks=0, rows=0, queued=0, rejected=1, report="huge")
    report = aws.s3.get_object(Bucket=aws.bucket, Key="reports/huge.errors.csv")["Body"].read().decode()
    assert report.splitlines() == [
        "row_number,reason",
        f'1,"file is {len(data)} bytes, above the limit of {len(data) - 1} bytes; split it into smaller files"',
    ]
    record = job(aws, batch_file.job_id)
    assert (record["state"], record["rejected"], record["report_key"]) == ("COMPLETED", "1", "reports/huge.errors.csv")
    assert queued_rows(aws) == []
    # At the bound exactly, the same file is planned and queued.
    at_bound = upload(aws, "incoming/at-bound.csv", data)
    assert run_file(at_bound, make_deps(aws, aws.sqs, max_file_bytes=len(data)), aws)["queued"] == 8


def test_a_header_only_file_completes_with_nothing_to_map(aws: Any, deps: BatchFileDeps) -> None:
    batch_file = upload(aws, "incoming/empty-body.csv", (HEADER + "\n").encode())
    plan = run_file(batch_file, deps, aws)
    assert (plan["state"], plan["chunks"]) == ("COMPLETED", 0)
    assert job(aws, batch_file.job_id)["state"] == "COMPLETED"


def test_the_starter_starts_one_execution_per_object_version(aws: Any) -> None:
    put = aws.s3.put_object(Bucket=aws.bucket, Key="incoming/s 1.csv", Body=b"x")
    record = {
        "s3": {
            "bucket": {"name": aws.bucket},
            "object": {"key": "incoming/s+1.csv", "eTag": put["ETag"].strip('"'), "sequencer": "1"},
        }
    }
    batch_file = batch_file_from_s3_record(record)
    assert (batch_file.key, batch_file.version_id) == ("incoming/s 1.csv", None)

    assert start_file(aws.stepfunctions, aws.batch_state_machine_arn, batch_file) == STARTED
    # Redelivered while the first runs with the same input: the same execution comes back.
    assert start_file(aws.stepfunctions, aws.batch_state_machine_arn, batch_file) == STARTED
    executions = aws.stepfunctions.list_executions(stateMachineArn=aws.batch_state_machine_arn)["executions"]
    assert [e["name"] for e in executions] == [batch_file.job_id]
    aws.stepfunctions.stop_execution(executionArn=executions[0]["executionArn"])
    # Redelivered after it ended: refused by name, reported, nothing started.
    assert start_file(aws.stepfunctions, aws.batch_state_machine_arn, batch_file) == ALREADY_STARTED
    assert len(aws.stepfunctions.list_executions(stateMachineArn=aws.batch_state_machine_arn)["executions"]) == 1


def test_an_unknown_step_or_a_forged_job_id_is_refused(aws: Any, deps: BatchFileDeps) -> None:
    batch_file = upload(aws, "incoming/x.csv", b"x")
    with pytest.raises(ValueError, match="unknown batch step"):
        run_step({"step": "explode", "file": batch_file.to_input()}, deps, lambda: 60_000, now)
    forged = batch_file.to_input() | {"job_id": "0" * 64}
    with pytest.raises(ValueError, match="job_id does not match"):
        run_step({"step": "finish", "file": forged}, deps, lambda: 60_000, now)
