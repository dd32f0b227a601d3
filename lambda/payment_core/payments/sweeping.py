"""Recovery: find payments left non-final past a bound and drive their workflow again, idempotently.

A payment is non-final while its item carries the open-shard attribute (the sparse
``contract.OPEN_PAYMENTS_INDEX``); so is a refund while PENDING (refund_models.py): its execution
is named after the refund id and started with the same input, so everything below holds for it
as written for a payment. One that is still non-final ``stale_after`` after it was
created has lost its way: its start was given up on by the outbox (the stream mapping's retries
ran out), or its execution failed on infrastructure (retries exhausted, timed out, aborted by
hand) and left the payment in its last state. The bound is at least the workflow's execution
timeout (the stack derives it so), so an execution started on time has ended by then; one
started late is still RUNNING and left alone.

Each stale payment's execution, under the one name the outbox also uses (the payment id):
- none: admit it as the outbox does (payment_core/payments/admission.py: start it with a start
  slot, or it waits for one); a payment already waiting for a slot is left to wait, untouched:
  the sweeper never starts one out of turn (``ExecutionAlreadyExists`` means someone just did:
  look again);
- RUNNING: leave it;
- FAILED, TIMED_OUT or ABORTED: with a start slot, ``RedriveExecution``, which resumes from the
  failed state (the steps are idempotent); with none free, the next sweep tries again. Redrive
  is refused (``ExecutionNotRedrivable``) past 14 days after the execution stopped or after
  1,000 redrives: then a human decides (counted, logged by id, and the oldest-open-payment alarm
  stays on). A new execution under another name is not tried: a payment redriven a thousand
  times fails for a reason another start would meet again, and a second name would let two
  executions drive one payment;
- SUCCEEDED while the payment is still open: not expected (every path to Succeed makes the
  payment final); counted and logged for a human, never restarted.

Before that, every sweep gives back the slots of executions that ended without freeing them (a
failed, timed-out or aborted one never reaches Notify) and starts waiting payments into free
slots: the safety net of the workflow's own freeing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.payments.admission import Admitted, StartSlots, admit, parked_ids, reclaim, wake
from payment_core.payments.models import format_timestamp
from payment_core.payments.submission import StepFunctionsStarter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_stepfunctions.client import SFNClient

REDRIVABLE = frozenset({"FAILED", "TIMED_OUT", "ABORTED"})


class Outcome(StrEnum):
    """What the sweeper did for one stale payment; each is also a metric name."""

    STARTED = "SweepStarted"
    WAITING = "SweepWaiting"  # waiting for a start slot (found so, or parked now)
    DEFERRED = "SweepDeferred"  # to redrive, but no slot free: the next sweep tries again
    REDRIVEN = "SweepRedriven"
    RUNNING = "SweepStillRunning"
    NOT_REDRIVABLE = "SweepNotRedrivable"
    SUCCEEDED_OPEN = "SweepSucceededButOpen"
    ERROR = "SweepErrors"


FOUND_METRIC = "SweepFound"
RECLAIMED_METRIC = "SweepSlotsReclaimed"
WOKEN_METRIC = "SweepWokeWaiting"


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class OpenPayments:
    """The sparse open-payments index: (id, created_at) of every non-final payment, by shard."""

    def __init__(self, client: DynamoDBClient, payments_table: str) -> None:
        self._client = client
        self._payments_table = payments_table

    def oldest(self, shard: str) -> str | None:
        """created_at of the oldest non-final payment in ``shard``, or None."""
        response = self._client.query(
            TableName=self._payments_table,
            IndexName=contract.OPEN_PAYMENTS_INDEX,
            KeyConditionExpression="#shard = :shard",
            ExpressionAttributeNames={"#shard": contract.OPEN_SHARD_ATTRIBUTE},
            ExpressionAttributeValues={":shard": {"S": shard}},
            ScanIndexForward=True,
            Limit=1,
        )
        items = response["Items"]
        return str(items[0]["created_at"]["S"]) if items else None

    def created_before(self, shard: str, before: str) -> list[str]:
        """Ids of the non-final payments in ``shard`` created before ``before``, oldest first.

        The index is eventually consistent: a payment made final a moment ago may still be listed
        (what the sweeper does with it is idempotent)."""
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._payments_table,
            IndexName=contract.OPEN_PAYMENTS_INDEX,
            KeyConditionExpression="#shard = :shard AND created_at < :before",
            ExpressionAttributeNames={"#shard": contract.OPEN_SHARD_ATTRIBUTE},
            ExpressionAttributeValues={":shard": {"S": shard}, ":before": {"S": before}},
            ScanIndexForward=True,
        )
        return [str(item["payment_id"]["S"]) for page in pages for item in page["Items"]]


class PaymentExecutions:
    """The payment workflow's executions, by payment id (the execution's name)."""

    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._starter = StepFunctionsStarter(client, state_machine_arn)
        # arn:<partition>:states:<region>:<account>:stateMachine:<name> -> ...:execution:<name>:<execution>
        self._execution_prefix = state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":"

    def execution_arn(self, payment_id: str) -> str:
        return self._execution_prefix + payment_id

    def status(self, payment_id: str) -> str | None:
        """The execution's status, or None when there is none."""
        try:
            response = self._client.describe_execution(executionArn=self.execution_arn(payment_id))
        except ClientError as error:
            if _error_code(error) == "ExecutionDoesNotExist":
                return None
            raise
        return str(response["status"])

    def start(self, payment_id: str) -> bool:
        """Start it as the outbox does; False if an execution of that name exists already."""
        return self._starter.start(payment_id)

    def redrive(self, payment_id: str) -> bool:
        """Resume it from its failed state; False if Step Functions refuses to redrive it."""
        try:
            self._client.redrive_execution(executionArn=self.execution_arn(payment_id))
        except ClientError as error:
            if _error_code(error) == "ExecutionNotRedrivable":
                return False
            raise
        return True


@dataclass
class SweepReport:
    """What one sweep found and did: counts by outcome, the oldest open payment's age, ids for a human."""

    found: int = 0
    reclaimed: int = 0  # slots given back for executions that had ended
    woken: int = 0  # waiting payments started into free slots
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    # Seconds since the oldest non-final payment was created (0 when there is none).
    oldest_open_age_seconds: float = 0.0
    # Ids by outcome a human has to look at (never card data: ids only).
    needs_a_human: list[str] = field(default_factory=list)


def _age_seconds(created_at: str, now: datetime) -> float:
    created = datetime.strptime(created_at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=now.tzinfo)
    return max(0.0, (now - created).total_seconds())


def _redrive(executions: PaymentExecutions, slots: StartSlots, payment_id: str) -> Outcome:
    if not slots.acquire(payment_id):
        return Outcome.DEFERRED
    if executions.redrive(payment_id):
        return Outcome.REDRIVEN
    slots.release(payment_id)
    return Outcome.NOT_REDRIVABLE


def recover(executions: PaymentExecutions, slots: StartSlots, payment_id: str) -> Outcome:
    """Drive one stale payment's execution forward, whatever state it was left in."""
    status = executions.status(payment_id)
    if status is None:
        if admit(slots, executions.start, payment_id) is Admitted.WAITING:
            return Outcome.WAITING
        status = executions.status(payment_id)
        if status in (None, "RUNNING"):
            return Outcome.STARTED
    if status in REDRIVABLE:
        return _redrive(executions, slots, payment_id)
    if status == "SUCCEEDED":
        return Outcome.SUCCEEDED_OPEN
    return Outcome.RUNNING  # RUNNING, or PENDING_REDRIVE after a redrive of ours


def sweep(
    open_payments: OpenPayments,
    executions: PaymentExecutions,
    slots: StartSlots,
    now: datetime,
    stale_after: timedelta,
) -> SweepReport:
    """Reclaim and wake start slots, then recover every payment non-final for longer than
    ``stale_after``; report what was found and done.

    One payment's failed call does not stop the others: it is counted as an error and listed."""
    report = SweepReport()
    report.reclaimed = len(reclaim(slots, executions.status))
    report.woken = wake(slots, executions.start)
    waiting = parked_ids(slots)
    created_before = format_timestamp(now - stale_after)
    oldest: str | None = None
    for shard in (str(index) for index in range(contract.OPEN_SHARDS)):
        first = open_payments.oldest(shard)
        if first is None:
            continue
        oldest = first if oldest is None else min(oldest, first)
        if first >= created_before:
            continue  # the shard's oldest is fresh: nothing stale in it
        for payment_id in open_payments.created_before(shard, created_before):
            report.found += 1
            if payment_id in waiting:
                report.outcomes[Outcome.WAITING] += 1
                continue
            try:
                outcome = recover(executions, slots, payment_id)
            except ClientError:
                outcome = Outcome.ERROR
            report.outcomes[outcome] += 1
            if outcome in (Outcome.NOT_REDRIVABLE, Outcome.SUCCEEDED_OPEN, Outcome.ERROR):
                report.needs_a_human.append(payment_id)
    if oldest is not None:
        report.oldest_open_age_seconds = _age_seconds(oldest, now)
    return report
