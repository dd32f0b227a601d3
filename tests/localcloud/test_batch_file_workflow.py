"""The per-file batch workflow end to end in the emulator, with the shared package's real steps.

S3 ObjectCreated → starter function (async, as S3 invokes) → one execution named by the object
version → Plan → Distributed Map over the chunk descriptors → Finish. The functions here are
thin wirings of ``payment_core.batch.workflow`` (the stack's handlers add Powertools around the
same calls); what is under test is that the emulator runs this shape as AWS would: the S3
trigger, the named execution, ItemReader from S3, the map's retries, and ranged GetObject of
one object version.
"""

from __future__ import annotations

import copy
import io
import json
import time
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from payment_core.batch.jobs import BatchFile
from payment_core.batch.rows import job_id_for
from payment_core.tenancy.merchants import MerchantDirectory

from lib.components.batch_file_workflow import batch_file_definition
from lib.lambda_sources import PACKAGE_DIR
from localcloud import LocalCloud
from localcloud.patches.stepfunctions_payload import payload_bytes
from localcloud.stepfunctions_quotas import ROUTE
from tests.localcloud.conftest import (
    create_items_table,
    create_python_function,
    execution_result,
    local_batch_spec,
    notify_of_uploads,
)

HEADER = "payment_id,merchant_id,amount,currency,customer_ref"

STEPS_HANDLER = """
import os
from datetime import UTC, datetime, timedelta
import boto3
from payment_core import contract
from payment_core.batch.wiring import BatchTables, wire_batch_file_deps
from payment_core.batch.workflow import run_step
from payment_core.batch.jobs import WorkLayout
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables

deps = wire_batch_file_deps(
    dynamodb=boto3.client("dynamodb"),
    s3=boto3.client("s3"),
    sqs=boto3.client("sqs"),
    tables=BatchTables(os.environ["JOBS_TABLE"], os.environ["CLAIMS_TABLE"], os.environ["MERCHANTS_TABLE"]),
    rules=BusinessRules.read(FunctionVariables(contract.BATCH_INGEST, os.environ)),
    records_per_chunk=int(os.environ["RECORDS_PER_CHUNK"]),
    max_file_bytes=1_000_000_000,
    queue_url=os.environ["QUEUE_URL"],
    reserve_ms=1000,
    layout=WorkLayout(os.environ["WORK_PREFIX"]),
    rerun_window=timedelta(days=90),
)

def handler(event, context):
    return run_step(event, deps, context.get_remaining_time_in_millis, lambda: datetime.now(UTC))
"""

STARTER_HANDLER = """
import os
import boto3
from payment_core.batch.workflow import batch_file_from_s3_record, start_file

sfn = boto3.client("stepfunctions")

def handler(event, context):
    return [start_file(sfn, os.environ["STATE_MACHINE_ARN"], batch_file_from_s3_record(r)) for r in event["Records"]]
"""


def package(handler: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("handler.py", handler)
        for path in sorted(PACKAGE_DIR.rglob("*.py")):
            archive.write(path, str(Path(PACKAGE_DIR.name, path.relative_to(PACKAGE_DIR))))
    return buffer.getvalue()


def file_bytes(rows: list[str]) -> bytes:
    return ("\ufeff" + HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()


class Platform:
    def __init__(self, aws: Callable[[str], Any], unique: str, role_arn: str, records_per_chunk: int = 4) -> None:
        self.aws = aws
        self.bucket = f"batch-wf-{unique}"
        self.jobs = f"jobs-{unique}"
        self.claims = f"claims-{unique}"
        self.merchants = f"merchants-{unique}"
        s3, ddb, sqs, lam, sfn = (aws(n) for n in ("s3", "dynamodb", "sqs", "lambda", "stepfunctions"))
        s3.create_bucket(Bucket=self.bucket)
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        for table, key in ((self.jobs, "job_id"), (self.claims, "payment_id"), (self.merchants, "pk")):
            create_items_table(ddb, table, key)
        # The rows name merchant-1: a batch row's merchant must be active (issue #11).
        MerchantDirectory(ddb, self.merchants).onboard("merchant-1", "standard", "key-of-merchant-1-padded", "kid-1")
        self.queue_url = sqs.create_queue(QueueName=f"payments-{unique}")["QueueUrl"]
        steps = create_python_function(
            lam,
            f"batch-steps-{unique}",
            role_arn,
            package(STEPS_HANDLER),
            timeout=20,
            environment={
                "WORK_PREFIX": "batch-work/",
                "JOBS_TABLE": self.jobs,
                "CLAIMS_TABLE": self.claims,
                "MERCHANTS_TABLE": self.merchants,
                "QUEUE_URL": self.queue_url,
                "RECORDS_PER_CHUNK": str(records_per_chunk),
                "MAX_PAYMENT_AMOUNT": "EUR=10000.00,GBP=10000.00,JPY=10000,USD=10000.00",
                "ALLOWED_CURRENCIES": "USD,EUR,GBP,JPY",
            },
        )
        self.spec = spec = local_batch_spec(steps, self.bucket)
        self.machine = sfn.create_state_machine(
            name=f"batch-file-{unique}", definition=json.dumps(batch_file_definition(spec)), roleArn=role_arn
        )["stateMachineArn"]
        self.starter = create_python_function(
            lam,
            f"batch-start-{unique}",
            role_arn,
            package(STARTER_HANDLER),
            memory_mb=128,
            environment={"STATE_MACHINE_ARN": self.machine},
        )
        notify_of_uploads(s3, self.bucket, self.starter)

    def executions(self) -> list[dict[str, Any]]:
        return list(self.aws("stepfunctions").list_executions(stateMachineArn=self.machine)["executions"])

    def wait_finished(self, count: int, timeout: float = 90) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            runs = self.executions()
            if len(runs) >= count and all(run["status"] != "RUNNING" for run in runs):
                return runs
            time.sleep(0.5)
        pytest.fail(f"executions not finished within {timeout}s: {self.executions()}")

    def failures(self, execution_arn: str) -> list[Any]:
        events = self.aws("stepfunctions").get_execution_history(executionArn=execution_arn)["events"]
        return [
            {k: v for k, v in event.items() if k.endswith("Details")} | {"type": event["type"]}
            for event in events
            if "Failed" in event["type"]
        ]

    def drain(self) -> list[dict[str, Any]]:
        sqs = self.aws("sqs")
        bodies: list[dict[str, Any]] = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not batch:
                return bodies
            for message in batch:
                bodies.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def job(self, job_id: str) -> dict[str, str]:
        item = self.aws("dynamodb").get_item(TableName=self.jobs, Key={"job_id": {"S": job_id}})["Item"]
        return {name: next(iter(value.values())) for name, value in item.items()}


@pytest.fixture
def platform(aws: Callable[[str], Any], unique: str, role_arn: str) -> Platform:
    return Platform(aws, unique, role_arn)


def test_an_upload_runs_one_execution_that_queues_each_row_once_and_reports(platform: Platform) -> None:
    rows = [f"p-{n:03d},merchant-1,{n}.00,USD,cust-{n}" for n in range(1, 11)]
    rows[4] = "p-005,merchant-1,-1.00,USD,cust-5"  # invalid amount
    rows[8] = "p-002,merchant-1,9.00,USD,cust-9"  # duplicate of row 3, in another chunk
    put = platform.aws("s3").put_object(Bucket=platform.bucket, Key="incoming/day 1.csv", Body=file_bytes(rows))

    [execution] = platform.wait_finished(1)

    assert execution["status"] == "SUCCEEDED", platform.failures(execution["executionArn"])
    job_id = job_id_for(platform.bucket, "incoming/day 1.csv", put["VersionId"])
    assert execution["name"] == job_id
    queued = sorted(message["row_number"] for message in platform.drain())
    # Rows 3 and 10 share p-002 in chunks that run in parallel (MaxConcurrency 2): the row whose
    # chunk claims the id first is queued, the other is its duplicate (docs/batch-files.md).
    owner, duplicate = (3, 10) if 3 in queued else (10, 3)
    assert queued == sorted([2, 4, 5, 7, 8, 9, 11, owner])  # 10 rows, minus row 6 (amount) and the duplicate
    job = platform.job(job_id)
    assert (job["state"], job["rows"], job["queued"], job["rejected"], job["chunks"]) == (
        "COMPLETED",
        "10",
        "8",
        "2",
        "3",
    )
    report = platform.aws("s3").get_object(Bucket=platform.bucket, Key="reports/day 1.errors.csv")["Body"].read()
    rejected = {
        6: '6,"amount: amount must be a plain decimal string such as ""10.50"""',
        duplicate: f"{duplicate},payment_id: duplicate of row {owner}",
    }
    assert report.decode().splitlines() == ["row_number,reason"] + [rejected[row] for row in sorted(rejected)]
    sfn = platform.aws("stepfunctions")
    [map_run] = sfn.list_map_runs(executionArn=execution["executionArn"])["mapRuns"]
    counts = sfn.describe_map_run(mapRunArn=map_run["mapRunArn"])["itemCounts"]
    assert (counts["total"], counts["succeeded"], counts["failed"]) == (3, 3, 0)

    # S3 delivers the same event again (at-least-once): no second execution, nothing queued.
    record_event = {
        "Records": [
            {
                "s3": {
                    "bucket": {"name": platform.bucket},
                    "object": {"key": "incoming/day+1.csv", "versionId": put["VersionId"], "eTag": put["ETag"]},
                }
            }
        ]
    }
    answer = platform.aws("lambda").invoke(FunctionName=platform.starter, Payload=json.dumps(record_event).encode())
    assert json.loads(answer["Payload"].read()) == ["ALREADY_STARTED"]
    assert len(platform.executions()) == 1
    assert platform.drain() == []


def test_a_bad_header_is_a_one_line_report_without_a_map_run(platform: Platform) -> None:
    platform.aws("s3").put_object(Bucket=platform.bucket, Key="incoming/bad.csv", Body=b"id,amount\np-1,1\n")

    [execution] = platform.wait_finished(1)

    assert execution["status"] == "SUCCEEDED"
    sfn = platform.aws("stepfunctions")
    assert sfn.list_map_runs(executionArn=execution["executionArn"])["mapRuns"] == []
    report = platform.aws("s3").get_object(Bucket=platform.bucket, Key="reports/bad.errors.csv")["Body"].read()
    assert report.decode().splitlines() == [
        "row_number,reason",
        '1,"header must be payment_id,merchant_id,amount,currency,customer_ref"',
    ]
    assert platform.drain() == []


def set_payload_limit(cloud: LocalCloud, document: dict[str, Any]) -> None:
    request = urllib.request.Request(cloud.endpoint + ROUTE, data=json.dumps(document).encode(), method="POST")
    urllib.request.urlopen(request, timeout=10).close()


def test_a_file_whose_map_results_outgrow_the_payload_limit_completes_through_the_result_writer(
    aws: Callable[[str], Any], unique: str, role_arn: str, cloud: LocalCloud
) -> None:
    """A scale model of a file of ~3,500 chunks: one record per chunk, 40 chunks, and the
    emulator's payload limit lowered (as only a test may) to 2,048 bytes, below the ~3 KB the
    40 chunk results collect into, and above every other payload of the execution. On AWS the
    same happens at 262,144 bytes (localcloud/README.md, "Payload quota and ResultWriter")."""
    platform = Platform(aws, unique, role_arn, records_per_chunk=1)
    rows = [f"p-{n:03d},merchant-1,{n}.00,USD,cust-{n}" for n in range(1, 41)]
    s3, sfn = aws("s3"), aws("stepfunctions")
    set_payload_limit(cloud, {"payload_limit_bytes": 2048})
    try:
        put = s3.put_object(Bucket=platform.bucket, Key="incoming/big.csv", Body=file_bytes(rows))
        [execution] = platform.wait_finished(1, timeout=180)

        assert execution["status"] == "SUCCEEDED", platform.failures(execution["executionArn"])
        job = platform.job(job_id_for(platform.bucket, "incoming/big.csv", put["VersionId"]))
        assert (job["state"], job["chunks"], job["queued"]) == ("COMPLETED", "40", "40")
        output = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["output"])
        manifest_key = output["map"]["results"]["Key"]
        assert manifest_key.startswith(f"batch-work/{execution['name']}/results/")
        manifest = json.loads(s3.get_object(Bucket=platform.bucket, Key=manifest_key)["Body"].read())
        [results_file] = manifest["ResultFiles"]["SUCCEEDED"]
        records = json.loads(s3.get_object(Bucket=platform.bucket, Key=results_file["Key"])["Body"].read())
        results = [json.loads(record["Output"]) for record in records]
        assert sorted(result["index"] for result in results) == list(range(40))
        assert payload_bytes(results) > 2048  # what the state would have had to hold
        assert len(platform.drain()) == 40

        # The same map without a ResultWriter, on another upload: every row is queued, then the
        # collected results fail the map and the file, as on AWS past 256 KiB.
        without_writer = copy.deepcopy(batch_file_definition(platform.spec))
        ingest = without_writer["States"]["IngestChunks"]
        del ingest["ResultWriter"]
        ingest["ResultSelector"] = {"chunks_ingested": True}
        machine = sfn.create_state_machine(
            name=f"no-writer-{unique}", definition=json.dumps(without_writer), roleArn=role_arn
        )["stateMachineArn"]
        other = s3.put_object(Bucket=platform.bucket, Key="manual/big.csv", Body=file_bytes(rows))  # no trigger
        batch_file = BatchFile(platform.bucket, "manual/big.csv", other["VersionId"], other["VersionId"], other["ETag"])
        started = sfn.start_execution(
            stateMachineArn=machine, name=batch_file.job_id, input=json.dumps(batch_file.to_input())
        )
        described = execution_result(sfn, started["executionArn"], timeout=180)
        assert (described["status"], described["error"]) == ("FAILED", "BatchFileFailed")
        failed = platform.job(batch_file.job_id)
        assert (failed["state"], failed["error"], failed["chunks_done"]) == ("FAILED", "States.DataLimitExceeded", "40")
        assert len(platform.drain()) == 0  # its rows were already claimed by the first upload
    finally:
        set_payload_limit(cloud, {"reset": True})
