"""Fixtures for the handler tests: the test environment, a fake Lambda context and a moto
account holding every resource of docs/design.md."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from lambda_testkit import (
    FUNCTIONS,
    REGION,
    TEST_ENV,
    UNSET_ENV,
    Aws,
    FakeContext,
    create_tables,
    create_workflow,
    load_handler,
    reset_lazies,
)
from payment_core.lazy import Lazy


@pytest.fixture(autouse=True)
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, region and function environment for every test here, undone after."""
    for name in UNSET_ENV:
        monkeypatch.delenv(name, raising=False)
    for name, value in TEST_ENV.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def context() -> FakeContext:
    return FakeContext()


SERVICES = {"dynamodb": "dynamodb", "sqs": "sqs", "sns": "sns", "s3": "s3", "stepfunctions": "stepfunctions"}


@pytest.fixture(scope="module")
def moto_clients() -> Iterator[dict[str, Any]]:
    """One in-process moto per test module (starting it costs ~1 s); state is wiped per test."""
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    try:
        yield {name: boto3.client(service, region_name=REGION) for name, service in SERVICES.items()}
    finally:
        mock.stop()


@pytest.fixture
def aws(moto_clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    from moto.core.base_backend import BackendDict

    BackendDict.reset()
    dynamodb, sqs, sns, s3, sfn = (moto_clients[name] for name in SERVICES)
    create_tables(dynamodb)
    dlq_url = sqs.create_queue(QueueName="payment-dlq-test")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName="payment-queue-test",
        Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})},
    )["QueueUrl"]
    topic_arn = sns.create_topic(Name="payment-status-test")["TopicArn"]
    probe_url = sqs.create_queue(QueueName="status-probe")["QueueUrl"]
    probe_arn = sqs.get_queue_attributes(QueueUrl=probe_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=probe_arn)
    bucket = "payment-batch-test"
    s3.create_bucket(Bucket=bucket)
    state_machine_arn = create_workflow(sfn)
    monkeypatch.setenv("PAYMENT_QUEUE_URL", queue_url)
    monkeypatch.setenv("STATUS_TOPIC_ARN", topic_arn)
    monkeypatch.setenv("STATE_MACHINE_ARN", state_machine_arn)

    handlers = {function: load_handler(function) for function in FUNCTIONS}
    for module in handlers.values():
        reset_lazies(module)
        # Hand the handlers the already-built clients (the Lazy injection point) to save
        # building fresh ones per test; they talk to the same in-process moto.
        for name, client in moto_clients.items():
            if isinstance(getattr(module, name, None), Lazy):
                getattr(module, name).override(client)
    try:
        yield Aws(
            dynamodb=dynamodb,
            sqs=sqs,
            sns=sns,
            s3=s3,
            sfn=sfn,
            queue_url=queue_url,
            dlq_url=dlq_url,
            topic_arn=topic_arn,
            topic_probe_url=probe_url,
            state_machine_arn=state_machine_arn,
            bucket=bucket,
            handlers=handlers,
        )
    finally:
        for module in handlers.values():
            reset_lazies(module)


def pytest_configure(config: pytest.Config) -> None:
    # Requests that emit no business metric are normal (e.g. a 400); Powertools warns anyway.
    config.addinivalue_line("filterwarnings", "ignore:No application metrics to publish")
