"""The benchmarks' AWS call counter counts exactly what was sent, from the session it watches."""

from __future__ import annotations

import contextlib
import io
import json
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws
from payment_core import contract

from bench import emulator
from bench.counter import CallCounter
from testkit.account import BUCKET, AwsClients, create_account, setup_session
from testkit.environment import HANDLER_ENVIRONMENT, REGION
from testkit.events import CSV_HEADER, s3_event
from testkit.handlers import FakeContext, load_handler, runtime_of


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    """A moto account, the handler environment, and a fresh default session for the handlers."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in HANDLER_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        setup = setup_session()
        account = create_account(AwsClients.of(setup))
        for name, value in account.handler_environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # restored afterwards
        emulator.handler_session()
        yield setup


def test_counts_each_operation_sent_and_nothing_from_other_sessions(aws: boto3.Session) -> None:
    session = boto3.Session(region_name=REGION)
    counter = CallCounter().attach(session)
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="counted")["QueueUrl"]
    for _ in range(2):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(10)])
    with pytest.raises(ClientError):
        sqs.get_queue_url(QueueName="missing")  # sent and refused: billed, so counted
    with pytest.raises(ParamValidationError):
        sqs.send_message(QueueUrl=url)  # refused by botocore before sending: not counted
    session.client("dynamodb").list_tables()
    aws.client("sqs").list_queues()  # another session: not counted

    assert counter.take() == {
        "sqs:CreateQueue": 1,
        "sqs:SendMessageBatch": 2,
        "sqs:GetQueueUrl": 1,
        "dynamodb:ListTables": 1,
    }
    assert counter.total == 0


def test_the_per_file_workflow_makes_the_calls_it_should(aws: boto3.Session) -> None:
    """Counted through the handler, as S3 and the batch state machine call it: 25 rows in
    chunks of 3 (the testkit's BATCH_RECORDS_PER_CHUNK), so 9 chunks."""
    counter = CallCounter().attach(boto3.DEFAULT_SESSION)
    ingest = load_handler(contract.BATCH_INGEST)
    s3 = aws.client("s3")
    rows = "".join(f"p-{n},merchant-1,{n}.00,USD,c-{n}\n" for n in range(1, 26))
    etag = s3.put_object(Bucket=BUCKET, Key="incoming/smoke.csv", Body=(CSV_HEADER + "\n" + rows).encode())["ETag"]
    runtime_of(ingest).reset()  # so its clients come from the session watched
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metrics line
            [job] = ingest.handler(s3_event(BUCKET, "incoming/smoke.csv", etag.strip('"')), FakeContext())["jobs"]
            sfn = aws.client("stepfunctions")
            [execution] = sfn.list_executions(stateMachineArn=account_arn(aws))["executions"]
            file_input = json.loads(sfn.describe_execution(executionArn=execution["executionArn"])["input"])
            plan = ingest.handler({"step": "plan", "file": file_input, "execution": job["job_id"]}, FakeContext())
            manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=plan["manifest_key"])["Body"].read())
            for item in manifest:
                ingest.handler({"step": "chunk", "file": file_input, "chunk": item}, FakeContext())
            summary = ingest.handler({"step": "finish", "file": file_input}, FakeContext())
    finally:
        runtime_of(ingest).reset()  # nothing bound to this moto account outlives it

    assert (summary["queued"], summary["chunks"]) == (25, 9)
    assert counter.take() == {
        "stepfunctions:StartExecution": 1,  # the S3 event's one execution
        # plan: claim the job record, set its chunk count; finish: COMPLETED
        "dynamodb:UpdateItem": 3,
        "s3:GetObject": 1 + 9,  # the file once, then each chunk's byte range
        "s3:HeadObject": 1,  # plan: the file's size, against batch_workflow.max_file_bytes
        "s3:PutObject": 1,  # the chunk descriptors (no rejections: no report parts)
        # each chunk's progress and its one merchant lookup (merchant-1); finish reads the job twice
        "dynamodb:GetItem": 9 + 9 + 2,
        "dynamodb:TransactWriteItems": 9 + 9,  # each chunk's claims, then its completion
        "sqs:SendMessageBatch": 9,  # three rows or fewer per chunk: one call each
    }


def account_arn(aws: boto3.Session) -> str:
    machines = aws.client("stepfunctions").list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if m["name"] == "batch-file-test")
