"""queue_consumer against moto: exactly-once payments, partial batch failures."""

from __future__ import annotations

import json
from decimal import Decimal

from testkit.events import sqs_event_of

ROW = {
    "payment_id": "p-100",
    "merchant_id": "merchant-1",
    "amount": "20.00",
    "currency": "EUR",
    "customer_ref": "cust-100",
    "batch_job_id": "job-1",
    "row_number": 2,
}


def consume(aws, context, *bodies):
    return aws.handlers["queue_consumer"].handler(sqs_event_of(*bodies), context)


def test_poison_message_fails_alone_while_the_rest_succeed(aws, context):
    good_1 = json.dumps(ROW)
    good_2 = json.dumps(ROW | {"payment_id": "p-101", "row_number": 3})
    poison = "this is not json"
    wrong = json.dumps(ROW | {"payment_id": "p-102", "amount": 20})

    response = consume(aws, context, good_1, poison, good_2, wrong)

    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-1"}, {"itemIdentifier": "msg-3"}]}
    items = {p["payment_id"]: p for p in aws.payments()}
    assert sorted(items) == ["p-100", "p-101"]
    assert items["p-100"]["source"] == "batch"
    assert items["p-100"]["batch_job_id"] == "job-1"
    assert items["p-100"]["amount"] == Decimal("20")
    assert items["p-100"]["status"] == "PENDING"
    assert sorted(aws.outbox_inserts()) == ["p-100", "p-101"]
    assert [(a["sequence"], a["to_status"], a["actor"]) for a in aws.audit("p-100")] == [
        (1, "PENDING", "queue_consumer")
    ]


def test_redelivered_message_is_one_payment_and_one_outbox_record(aws, context):
    body = json.dumps(ROW)
    for _ in range(3):
        assert consume(aws, context, body) == {"batchItemFailures": []}
    assert consume(aws, context, body, body) == {"batchItemFailures": []}
    assert len(aws.payments()) == 1
    assert aws.outbox_inserts() == ["p-100"]
    assert len(aws.audit("p-100")) == 1


def test_same_payment_id_with_other_terms_is_a_failure(aws, context):
    consume(aws, context, json.dumps(ROW))
    response = consume(aws, context, json.dumps(ROW | {"amount": "21.00"}))
    assert response == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert aws.payments()[0]["amount"] == Decimal("20")


def test_whole_batch_failing_is_reported_not_raised(aws, context):
    response = consume(aws, context, "{}", "[]", json.dumps(ROW | {"row_number": True}))
    assert response == {"batchItemFailures": [{"itemIdentifier": f"msg-{n}"} for n in range(3)]}
    assert aws.payments() == []


def test_aws_errors_fail_the_message_so_sqs_retries_it(aws, context):
    class Down:
        def transact_write_items(self, **_):
            from botocore.exceptions import ClientError

            raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "TransactWriteItems")

        def __getattr__(self, name):
            return getattr(aws.dynamodb, name)

    aws.handlers["queue_consumer"].runtime.dynamodb.override(Down())
    assert consume(aws, context, json.dumps(ROW)) == {"batchItemFailures": [{"itemIdentifier": "msg-0"}]}
    assert aws.payments() == []
    aws.handlers["queue_consumer"].runtime.dynamodb.override(aws.dynamodb)
    assert consume(aws, context, json.dumps(ROW)) == {"batchItemFailures": []}
    assert len(aws.payments()) == 1
    assert aws.outbox_inserts() == ["p-100"]
