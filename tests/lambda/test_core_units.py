"""payment_core edges the handler tests do not reach: configuration errors, AWS errors
that are not condition failures, and unusual inputs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError
from payment_core import contract
from payment_core.api.list_requests import parse_list_payments
from payment_core.api.page_tokens import HmacSha256, PageTokens
from payment_core.api.requests import body_text
from payment_core.batch.csv_chunks import BoundedLines
from payment_core.batch.jobs import BatchFile, BatchFiles
from payment_core.batch.rows import report_key_for
from payment_core.errors import InvalidRequest, PayloadTooLarge
from payment_core.payments.models import Payment, PaymentRequest, PaymentStatus
from payment_core.payments.money import parse_currencies
from payment_core.payments.repository import PaymentRepository, condition_failed, transaction_conflict
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables

from testkit.api import VALID_BODY, call
from testkit.environment import HANDLER_ENVIRONMENT
from testkit.events import api_event


def throttled(*_, **__):
    raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Op")


class Throttled:
    def __getattr__(self, name):
        return throttled


PAYMENT = Payment.create(
    "pay_1",
    PaymentRequest("merchant-1", Decimal("1.00"), "USD", "cust"),
    source="api",
    created_at="2026-01-01T00:00:00.000Z",
)


TOKENS = PageTokens(HmacSha256(b"unit" * 8))


def test_oversized_body_is_refused_before_decoding():
    with pytest.raises(PayloadTooLarge):
        body_text("x" * 40_000, is_base64=True)


def test_invalid_utf8_body_is_400():
    with pytest.raises(InvalidRequest, match="not valid UTF-8"):
        body_text("\ud800", is_base64=False)


def test_bounds_that_overflow_in_utc_are_400():
    with pytest.raises(InvalidRequest, match="from is out of range"):
        parse_list_payments({"from": "0001-01-01T00:00:00+01:00"}, "m", TOKENS)


def test_naive_bounds_are_utc_and_default_to_everything():
    query = parse_list_payments({"merchant_id": "m", "to": "2026-01-02T03:04:05"}, "m", TOKENS)
    assert (query.created_from, query.created_to, query.limit) == (
        "0000-01-01T00:00:00.000Z",
        "2026-01-02T03:04:05.000Z",
        20,
    )


def test_report_key_for_unexpected_keys():
    assert report_key_for("incoming/a/b.CSV") == "reports/a/b.errors.csv"
    assert report_key_for("elsewhere/x.txt") == "reports/elsewhere/x.txt.errors.csv"


def test_lines_keep_a_last_line_without_newline_and_split_multibyte_chunks():
    data = "\ufeffa,é\r\nb,ü".encode()
    chunks = [data[i : i + 1] for i in range(len(data))] + [b""]
    reads = iter(chunks)
    assert list(BoundedLines(lambda _: next(reads), chunk_size=1)) == ["a,é\r\n", "b,ü"]


@pytest.mark.parametrize("raw", ["USD,XXX", " , "])
def test_bad_currency_configuration_is_an_error(raw):
    with pytest.raises(ValueError):
        parse_currencies(raw)


@pytest.mark.parametrize(
    ("maximum", "match"),
    [
        ("lots", "not CODE=AMOUNT"),
        ("USD=-1,EUR=1,GBP=1,JPY=1", "positive"),
        ("USD=NaN,EUR=1,GBP=1,JPY=1", "positive"),
        ("USD=10", "no maximum amount configured for EUR, GBP, JPY"),
    ],
)
def test_bad_maximum_configuration_is_an_error(maximum, match):
    with pytest.raises(ValueError, match=match):
        BusinessRules.read(
            FunctionVariables(contract.API, HANDLER_ENVIRONMENT | {contract.MAX_PAYMENT_AMOUNT: maximum})
        )


def test_required_variable_missing_is_an_error():
    with pytest.raises(RuntimeError, match="STATE_MACHINE_ARN is not set"):
        FunctionVariables(contract.WORKFLOW_STARTER, {}).required(contract.STATE_MACHINE_ARN)


def test_aws_errors_other_than_condition_failures_propagate():
    repo = PaymentRepository(Throttled(), "payments", "audit")
    for action in (
        lambda: repo.create(PAYMENT, "test"),
        lambda: repo.record_processor_attempt(PAYMENT),
        lambda: repo.transition(PAYMENT, PaymentStatus.VALIDATED, "test"),
        lambda: BatchFiles(Throttled(), "jobs").begin(BatchFile("b", "k", "e", None, "e"), datetime.now(UTC), "x"),
    ):
        with pytest.raises(ClientError, match="ThrottlingException"):
            action()


def test_condition_failed_reads_transaction_reasons():
    def error(code, reasons=None):
        response = {"Error": {"Code": code}}
        if reasons is not None:
            response["CancellationReasons"] = [{"Code": r} for r in reasons]
        return ClientError(response, "Op")

    assert condition_failed(error("ConditionalCheckFailedException"))
    assert condition_failed(error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]))
    assert not condition_failed(error("TransactionCanceledException", ["TransactionConflict"]))
    assert not condition_failed(error("TransactionCanceledException"))
    assert not condition_failed(error("ValidationException"))


def test_condition_failed_and_transaction_conflict_tell_apart_the_cancellation_reasons():
    def cancelled(*reasons):
        response = {"Error": {"Code": "TransactionCanceledException"}}
        return ClientError(response | {"CancellationReasons": [{"Code": r} for r in reasons]}, "TransactWriteItems")

    # A transaction cancelled because another one is writing the item says nothing yet about
    # whether the item exists: it is neither a condition failure nor an AWS error to propagate.
    assert transaction_conflict(cancelled("TransactionConflict", "None"))
    assert not condition_failed(cancelled("TransactionConflict", "None"))
    assert not transaction_conflict(cancelled("None", "ConditionalCheckFailed"))
    assert not transaction_conflict(ClientError({"Error": {"Code": "TransactionConflictException"}}, "PutItem"))


class TransactionInProgressElsewhere:
    """The real client, except that every TransactWriteItems meets another request's transaction
    on the same payment: DynamoDB cancels it with reason TransactionConflict."""

    def __init__(self, client):
        self._client = client

    def __getattr__(self, name):
        return getattr(self._client, name)

    def transact_write_items(self, **request):
        reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(request["TransactItems"]) - 1)
        error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
        raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWriteItems")


def test_concurrent_use_of_a_key_in_progress_is_409(aws, context):
    runtime = aws.handlers["api"].runtime
    runtime.dynamodb.override(TransactionInProgressElsewhere(aws.dynamodb))
    event = api_event("POST", "/payments", body=json.dumps(VALID_BODY), headers={"Idempotency-Key": "k"})
    assert call(aws, context, event) == (
        409,
        {
            "error": {
                "code": "idempotency_in_progress",
                "message": "a request with this Idempotency-Key is still being processed; retry later",
                "field": "Idempotency-Key",
            }
        },
    )
    assert aws.payments() == []
    # Once the other transaction is over, the client's retry is answered from the table.
    runtime.dynamodb.reset()
    assert call(aws, context, event)[0] == 202
    assert len(aws.payments()) == 1
