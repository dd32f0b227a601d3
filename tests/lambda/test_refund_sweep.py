"""The sweeper re-drives refunds stuck PENDING as it does payments (#22): a PENDING refund is in the
sparse open-payments index (its shard, ``created_at`` = its creation) and leaves it in the write
that makes it final; its execution, named after the refund id, is started or redriven."""

from __future__ import annotations

from typing import Any

from payment_core import contract
from payment_core.payments.models import open_shard, utc_now
from payment_core.payments.sweeping import Outcome, sweep
from test_sweeper import LATER, STALE_AFTER, open_ids, recording_redrives, start_slots, sweeper_parts

from testkit.api import call, stored_payment
from testkit.events import api_event
from testkit.refunds import read, refund, run_refund, settled


def pending_refund(aws: Any, context: Any, customer_ref: str = "cust-42") -> tuple[str, str]:
    """(payment id, refund id): a settled payment (its steps run by hand, no execution) and a
    PENDING refund of it whose execution nobody started (the outbox gave up on it)."""
    payment_id = settled(aws, context, "pay-1", customer_ref=customer_ref)
    status, body = refund(aws, context, payment_id, "r-1", {"amount": "10.00"})
    assert (status, body["status"]) == (202, "PENDING"), body
    return payment_id, str(body["refund_id"])


def test_a_pending_refund_whose_start_was_lost_is_started_by_the_sweeper(aws, context):
    payment_id, refund_id = pending_refund(aws, context)
    item = stored_payment(aws, refund_id)
    assert (item[contract.OPEN_SHARD_ATTRIBUTE], item["created_at"]) == (open_shard(refund_id), item["created"])
    assert open_ids(aws) == {refund_id}  # the payment, SETTLED, left the index
    assert aws.executions() == []

    report = sweep(*sweeper_parts(aws), utc_now() + LATER, STALE_AFTER)

    assert (report.found, report.outcomes) == (1, {Outcome.STARTED: 1})
    assert report.oldest_open_age_seconds >= LATER.total_seconds()
    # Under the refund's id, with the input the outbox's starter gives it (StepFunctionsStarter).
    assert [e["name"] for e in aws.executions()] == [refund_id]
    assert aws.execution_inputs() == [{"payment_id": refund_id}]
    # Started once: the next sweep finds it RUNNING and starts nothing.
    again = sweep(*sweeper_parts(aws), utc_now() + LATER, STALE_AFTER)
    assert again.outcomes == {Outcome.RUNNING: 1}
    assert len(aws.executions()) == 1
    # The execution then carries it out as it would have: SUCCEEDED, out of the index.
    assert run_refund(aws, context, refund_id) == {"payment_id": refund_id, "status": "SUCCEEDED"}
    assert open_ids(aws) == set()
    assert read(aws, context, f"/payments/{payment_id}")[1]["amount_refunded"] == "10.00"


def test_a_final_refund_is_out_of_the_index_and_never_swept(aws, context):
    _, succeeded = pending_refund(aws, context)
    run_refund(aws, context, succeeded)
    declined_payment = settled(aws, context, "pay-2", customer_ref="norefund-sweep")
    _, body = refund(aws, context, declined_payment, "r-2")
    assert run_refund(aws, context, body["refund_id"]) == {"payment_id": body["refund_id"], "status": "FAILED"}

    for refund_id in (succeeded, body["refund_id"]):
        item = stored_payment(aws, refund_id)
        assert contract.OPEN_SHARD_ATTRIBUTE not in item and "created_at" not in item, item
    assert open_ids(aws) == set()
    report = sweep(*sweeper_parts(aws), utc_now() + LATER, STALE_AFTER)
    assert (report.found, report.outcomes, report.oldest_open_age_seconds) == (0, {}, 0.0)
    assert aws.executions() == []


def test_a_refund_whose_execution_failed_is_redriven_not_started_again(aws, context):
    _, refund_id = pending_refund(aws, context)
    open_payments, executions, _ = sweeper_parts(aws)
    executions.start(refund_id)
    aws.stepfunctions.stop_execution(executionArn=executions.execution_arn(refund_id))  # ABORTED
    recording, redriven = recording_redrives(aws)
    report = sweep(open_payments, recording, start_slots(aws), utc_now() + LATER, STALE_AFTER)

    assert report.outcomes == {Outcome.REDRIVEN: 1}
    assert redriven == [executions.execution_arn(refund_id)]
    assert [(e["name"], e["status"]) for e in aws.executions()] == [(refund_id, "ABORTED")]


def test_a_pending_refund_is_not_listed_as_a_payment(aws, context):
    """Its ``created_at`` and ``merchant_id`` put it in the merchant's listing index too: the
    listing reads payments only."""
    payment_id, refund_id = pending_refund(aws, context)
    assert stored_payment(aws, refund_id)["merchant_id"] == "merchant-1"
    status, body = call(aws, context, api_event("GET", "/payments", query={"merchant_id": "merchant-1"}))
    assert status == 200, body
    assert [item["payment_id"] for item in body["items"]] == [payment_id]
