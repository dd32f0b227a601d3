"""ops.webhook_redeliver (make webhook-redeliver): what it queues, for which endpoints, what it refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from payment_core import contract
from payment_core.events.models import Event, event_id_for
from payment_core.events.store import EventStore
from payment_core.webhooks.endpoints import Endpoints, EndpointStore, SecretBox

from ops.webhook_redeliver import main

REGION = "us-east-1"
TABLE = "payment-events-ops"
EVENT = Event(
    event_id=event_id_for("payment", "pay_1", 3, "2027-01-15T08:00:00.000Z"),
    type="payment.settled",
    created="2027-01-15T08:00:00.000Z",
    merchant_id="merchant-1",
    api_version=contract.EVENTS_API_VERSION,
    data={"object": {"object": "payment", "payment_id": "pay_1"}},
    expires_at=1_900_000_000,
)


@pytest.fixture
def deployed(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        dynamodb, sqs, kms = (boto3.client(name, region_name=REGION) for name in ("dynamodb", "sqs", "kms"))
        dynamodb.create_table(
            TableName=TABLE,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[
                {"AttributeName": "merchant_id", "KeyType": "HASH"},
                {"AttributeName": "event_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "merchant_id", "AttributeType": "S"},
                {"AttributeName": "event_id", "AttributeType": "S"},
            ],
        )
        queue_url = sqs.create_queue(QueueName="webhook-deliveries-ops")["QueueUrl"]
        EventStore(dynamodb, TABLE).put(EVENT)
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        service = Endpoints(EndpointStore(dynamodb, TABLE), SecretBox(kms, key), 3600)
        ids = {
            name: service.create(merchant, f"https://{name}.example.com/", events)[0].endpoint_id
            for name, merchant, events in (
                ("all", "merchant-1", ("*",)),
                ("settled", "merchant-1", ("payment.settled",)),
                ("failed", "merchant-1", ("payment.failed",)),
                ("other", "merchant-2", ("*",)),
            )
        }
        yield {"sqs": sqs, "queue_url": queue_url, "ids": ids}


def queued(deployed: dict[str, Any]) -> list[dict[str, Any]]:
    messages = deployed["sqs"].receive_message(QueueUrl=deployed["queue_url"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in messages.get("Messages", [])]


def test_an_event_is_queued_again_for_each_endpoint_of_its_merchant_that_wants_it(deployed, capsys):
    assert main(["--event", EVENT.event_id, "--suffix", "ops"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    ids = deployed["ids"]
    assert sorted(line["endpoint_id"] for line in lines) == sorted([ids["all"], ids["settled"]])
    assert {(line["event_id"], line["merchant_id"]) for line in lines} == {(EVENT.event_id, "merchant-1")}
    bodies = queued(deployed)
    assert sorted(b["endpoint_id"] for b in bodies) == sorted([ids["all"], ids["settled"]])
    assert {b["event_id"] for b in bodies} == {EVENT.event_id}


def test_one_endpoint_only_and_with_the_merchant_given(deployed, capsys):
    ids = deployed["ids"]
    argv = [
        "--event",
        EVENT.event_id,
        "--suffix",
        "ops",
        "--webhook-endpoint",
        ids["failed"],
        "--merchant",
        "merchant-1",
    ]
    assert main(argv) == 0
    [line] = [json.loads(each) for each in capsys.readouterr().out.splitlines()]
    assert line["endpoint_id"] == ids["failed"]
    assert [b["endpoint_id"] for b in queued(deployed)] == [ids["failed"]]


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--event", "pay_1"], "event must be an event id (evt_...), got 'pay_1'"),
        (
            ["--event", "evt_20270115T080000000Z_" + "0" * 20],
            "event evt_20270115T080000000Z_" + "0" * 20 + " does not exist",
        ),
        (
            ["--event", EVENT.event_id, "--webhook-endpoint", "we_" + "1" * 24],
            f"webhook endpoint we_{'1' * 24} is not one of merchant-1's",
        ),
    ],
)
def test_what_it_refuses(deployed, capsys, argv, error):
    assert main([*argv, "--suffix", "ops"]) == 1
    assert json.loads(capsys.readouterr().out) == {"error": error}
    assert queued(deployed) == []


def test_another_merchants_endpoint_is_refused(deployed, capsys):
    argv = ["--event", EVENT.event_id, "--suffix", "ops", "--webhook-endpoint", deployed["ids"]["other"]]
    assert main(argv) == 1
    assert json.loads(capsys.readouterr().out) == {
        "error": f"webhook endpoint {deployed['ids']['other']} is not one of merchant-1's"
    }
