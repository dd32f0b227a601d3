"""The benchmarks' AWS call counter counts exactly what was sent, from the session it watches."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws
from payment_core import contract

from bench import emulator
from bench.batch_worker import Files
from bench.counter import CallCounter
from bench.naive_ingest import naive_ingest
from testkit.account import BUCKET, AwsClients, create_account, create_table, setup_session
from testkit.environment import HANDLER_ENVIRONMENT, REGION, TABLES
from testkit.events import s3_event
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


def test_naive_design_makes_two_calls_a_row_plus_three(aws: boto3.Session, tmp_path) -> None:
    counter = CallCounter().attach(boto3.DEFAULT_SESSION)
    create_table(aws.client("dynamodb"), "naive-payments", [("payment_id", "S", "HASH")])
    queue_url = aws.client("sqs").create_queue(QueueName="naive")["QueueUrl"]
    key, _ = Files(aws.client("s3"), str(tmp_path)).upload(12, "naive")

    queued = naive_ingest(
        boto3.client("dynamodb"),
        boto3.client("s3"),
        boto3.client("sqs"),
        bucket=BUCKET,
        key=key,
        jobs_table=TABLES[contract.BATCH_JOBS_TABLE_NAME],
        payments_table="naive-payments",
        queue_url=queue_url,
    )

    assert queued == 12
    assert counter.take() == {
        "dynamodb:PutItem": 13,
        "s3:GetObject": 1,
        "sqs:SendMessage": 12,
        "dynamodb:UpdateItem": 1,
    }
    assert aws.client("dynamodb").scan(TableName="naive-payments", Select="COUNT")["Count"] == 12


def test_batch_ingest_sends_rows_ten_to_a_call(aws: boto3.Session, tmp_path) -> None:
    counter = CallCounter().attach(boto3.DEFAULT_SESSION)
    ingest = load_handler(contract.BATCH_INGEST)
    key, etag = Files(aws.client("s3"), str(tmp_path)).upload(25, "smoke")
    runtime_of(ingest).reset()  # so its clients come from the session watched
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # Powertools' metrics line
            result = ingest.handler(s3_event(BUCKET, key, etag), FakeContext())
    finally:
        runtime_of(ingest).reset()  # nothing bound to this moto account outlives it

    assert result["jobs"][0]["queued"] == 25
    assert counter.take() == {
        "dynamodb:PutItem": 1,
        "s3:GetObject": 1,
        "sqs:SendMessageBatch": 3,
        "dynamodb:UpdateItem": 1,
    }
