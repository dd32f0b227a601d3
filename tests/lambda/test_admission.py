"""Closed-loop admission: at most IN_FLIGHT_LIMIT payment executions, the rest wait for a freed slot.

Through the handlers on moto: the starter (stream records), the workflow's Notify and AwaitCapture
steps (the slot freed, the oldest waiting started) and the sweeper (leaked slots reclaimed,
waiting payments left to wait). moto's executions stay RUNNING until stopped, which is what lets
a test hold slots.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from accepted import accept
from payment_core import contract
from payment_core.payments.admission import Admitted, StartSlots, Waiting, admit
from payment_core.payments.models import utc_now
from payment_core.payments.sweeping import OpenPayments, Outcome, PaymentExecutions, sweep

LIMIT = 2
STALE_AFTER = timedelta(minutes=16)
LATER = STALE_AFTER + timedelta(minutes=1)


@pytest.fixture(autouse=True)
def two_slots(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the account's environment (which sets the handlers' generous default)."""
    monkeypatch.setenv(contract.IN_FLIGHT_LIMIT, str(LIMIT))


def slots(aws: Any) -> StartSlots:
    return StartSlots(aws.dynamodb, aws.handler_environment()[contract.START_SLOTS_TABLE_NAME], LIMIT)


def running(aws: Any) -> list[str]:
    return sorted(e["name"] for e in aws.executions() if e["status"] == "RUNNING")


def accept_own(aws: Any, context: Any, key: str) -> str:
    return accept(aws, context, key, customer_ref=f"cust-{key}")


def accept_and_relay(aws: Any, context: Any, count: int) -> list[str]:
    """``count`` payments accepted one after the other and relayed in one stream batch."""
    ids = [accept_own(aws, context, f"k{n}") for n in range(count)]
    # Waiting costs no retry: every record of the batch succeeds, started or parked.
    assert aws.relay_outbox(context) == {"batchItemFailures": []}
    return ids


def test_no_more_executions_start_than_slots_and_the_rest_wait_in_order(aws, context):
    first, second, *rest = accept_and_relay(aws, context, 5)

    assert running(aws) == sorted([first, second])
    assert slots(aws).holders() == sorted([first, second])
    assert [w.payment_id for w in slots(aws).waiting()] == rest  # oldest first


def test_notify_frees_the_slot_and_starts_the_oldest_waiting_payment(aws, context):
    first, second, third, fourth = accept_and_relay(aws, context, 4)
    aws.stepfunctions.stop_execution(executionArn=_arn(aws, first))  # as if it ended after Notify

    aws.handlers["workflow"].handler({"step": contract.STEP_NOTIFY, "payment_id": first}, context)

    assert slots(aws).holders() == sorted([second, third])
    assert running(aws) == sorted([second, third])
    assert [w.payment_id for w in slots(aws).waiting()] == [fourth]


def test_a_manual_payment_awaiting_capture_gives_its_slot_up(aws, context):
    first, second, third = accept_and_relay(aws, context, 3)
    for step in (contract.STEP_VALIDATE, contract.STEP_PROCESS):
        aws.handlers["workflow"].handler({"step": step, "payment_id": first}, context)
    event = {"step": contract.STEP_AWAIT_CAPTURE, "payment_id": first, "task_token": "token-1"}

    aws.handlers["workflow"].handler(event, context)

    assert slots(aws).holders() == sorted([second, third])
    assert slots(aws).waiting() == []


def test_the_sweeper_reclaims_a_leaked_slot_wakes_the_waiting_and_leaves_waiting_payments_waiting(aws, context):
    first, second, third, fourth, fifth = accept_and_relay(aws, context, 5)
    # Ended without Notify (aborted, failed or timed out): its slot is leaked until reclaimed.
    aws.stepfunctions.stop_execution(executionArn=_arn(aws, first))
    open_payments = OpenPayments(aws.dynamodb, aws.handler_environment()[contract.PAYMENTS_TABLE_NAME])
    executions = PaymentExecutions(aws.stepfunctions, aws.state_machine_arn)

    # All five are stale by then; the first, with its aborted execution, needs its redrive too.
    report = sweep(open_payments, executions, slots(aws), utc_now() + LATER, STALE_AFTER)

    assert (report.reclaimed, report.woken) == (1, 1)  # the first's slot went to the third
    # The fourth and fifth still wait (found, nothing called for them); no slot for the redrive.
    assert report.outcomes == {Outcome.WAITING: 2, Outcome.RUNNING: 2, Outcome.DEFERRED: 1}
    assert running(aws) == sorted([second, third])
    assert [w.payment_id for w in slots(aws).waiting()] == [fourth, fifth]


def test_a_slot_freed_while_a_payment_parks_is_taken_by_it(aws, context):
    """A free that looked for waiting payments just before this one parked must not be missed."""
    table = slots(aws)
    table.acquire("pay_holder_a")
    table.acquire("pay_holder_b")
    started: list[str] = []

    class FreedMeanwhile(StartSlots):
        def park(self, payment_id: str) -> Waiting:
            waiting = super().park(payment_id)
            table.release("pay_holder_a")  # the holder's Notify ran between the try and the park
            return waiting

    freed = FreedMeanwhile(aws.dynamodb, aws.handler_environment()[contract.START_SLOTS_TABLE_NAME], LIMIT)

    assert admit(freed, lambda pid: started.append(pid) or True, "pay_late") is Admitted.STARTED
    assert started == ["pay_late"]
    assert (table.holders(), table.waiting()) == (["pay_holder_b", "pay_late"], [])


def test_a_start_of_an_execution_that_had_ended_gives_the_slot_back(aws, context):
    table = slots(aws)

    assert admit(table, lambda pid: False, "pay_done") is Admitted.STARTED
    assert table.holders() == []


def test_a_redelivered_record_takes_no_second_slot(aws, context):
    [payment_id] = accept_and_relay(aws, context, 1)
    [record] = [r for r in aws.outbox_records() if r["eventName"] == "INSERT"]
    event = {"Records": [{**record, "eventSourceARN": "arn:aws:dynamodb:stream"}]}

    assert aws.handlers["workflow_starter"].handler(event, context) == {"batchItemFailures": []}
    assert slots(aws).holders() == [payment_id]
    assert running(aws) == [payment_id]


def redeliver_all(aws: Any, context: Any) -> dict[str, Any]:
    """Every INSERT record of the stream again, in order: a batch retried after a failed record."""
    records = [r for r in aws.outbox_records() if r["eventName"] == "INSERT"]
    event = {"Records": [{**record, "eventSourceARN": "arn:aws:dynamodb:stream"} for record in records]}
    return aws.handlers["workflow_starter"].handler(event, context)


def test_a_redelivered_record_of_a_waiting_payment_parks_it_no_second_time(aws, context):
    first, second, third, fourth = accept_and_relay(aws, context, 4)

    assert redeliver_all(aws, context) == {"batchItemFailures": []}

    # Parked twice, a payment would be woken twice (two slots for one execution).
    assert [w.payment_id for w in slots(aws).waiting()] == [third, fourth]
    assert slots(aws).holders() == sorted([first, second])
    assert (slots(aws).admitted(first), slots(aws).admitted(third)) == (Admitted.STARTED, Admitted.WAITING)


def test_a_redelivered_record_of_a_payment_past_notify_takes_no_slot(aws, context):
    """Its execution is still RUNNING for a moment after Notify freed the slot: a slot taken for
    it then would be held by an execution about to end, until the sweeper reclaims it."""
    first, second, third = accept_and_relay(aws, context, 3)
    aws.handlers["workflow"].handler({"step": contract.STEP_NOTIFY, "payment_id": first}, context)
    assert (slots(aws).holders(), slots(aws).waiting()) == (sorted([second, third]), [])

    assert redeliver_all(aws, context) == {"batchItemFailures": []}

    assert (slots(aws).holders(), slots(aws).waiting()) == (sorted([second, third]), [])
    assert sorted(running(aws)) == sorted([first, second, third])


def test_a_payment_woken_from_waiting_is_marked_started_and_its_marker_expires(aws, context):
    first, _second, third = accept_and_relay(aws, context, 3)
    aws.stepfunctions.stop_execution(executionArn=_arn(aws, first))
    aws.handlers["workflow"].handler({"step": contract.STEP_NOTIFY, "payment_id": first}, context)
    table = aws.handler_environment()[contract.START_SLOTS_TABLE_NAME]

    marker = aws.dynamodb.get_item(
        TableName=table, Key={"slot_key": {"S": f"ADMITTED#{third}"}, "slot_sort": {"S": "-"}}
    )

    assert marker["Item"]["state"] == {"S": "started"}
    lifetime = int(marker["Item"][contract.START_SLOTS_EXPIRES_AT]["N"]) - utc_now().timestamp()
    assert timedelta(days=2) - timedelta(minutes=1) < timedelta(seconds=lifetime) <= timedelta(days=2)


def test_a_start_that_failed_leaves_no_marker_so_the_retry_starts_it(aws, context):
    table = slots(aws)

    def throttled(payment_id: str) -> bool:
        raise RuntimeError("throttled")

    with pytest.raises(RuntimeError):
        admit(table, throttled, "pay_retried")
    assert table.admitted("pay_retried") is None
    started: list[str] = []

    assert admit(table, lambda pid: started.append(pid) or True, "pay_retried") is Admitted.STARTED
    assert (started, table.holders(), table.admitted("pay_retried")) == (
        ["pay_retried"],
        ["pay_retried"],
        Admitted.STARTED,
    )


def _arn(aws: Any, payment_id: str) -> str:
    return PaymentExecutions(aws.stepfunctions, aws.state_machine_arn).execution_arn(payment_id)
