"""Closed-loop admission: at most ``limit`` payment executions in flight, whatever their steps take.

Open-loop pacing (a start rate) overfills the workflow as soon as its steps run slower than the
rate assumed (measured on the emulator: 3-14 times), and executions then time out in the queue
for the workflow function. Here a payment's execution starts only with a *slot*: the start slots
table holds one semaphore item (``IN_FLIGHT``) whose ``holders`` string set names the payments in
flight, and a slot is taken with a conditional write (``size(holders) < limit``, or the payment
holds one already: taking twice is harmless). A payment that finds none is *parked*: an item
under ``WAITING``, sorted by when it began to wait, and its stream record succeeds: waiting costs
the stream mapping no retry, so no routine wait can reach the give-up bucket.

The loop closes in the workflow: its Notify step (the end of every path) and AwaitCapture (a
manual payment resting for days holds no step) ``free`` the slot and start the oldest waiting
payments while slots are free. A parker takes a slot once more after parking, so a slot freed
between its first try and its park is not missed. Slots of executions that ended another way
(failed, timed out, aborted) are ``reclaim``ed by the sweeper, which also wakes the waiting.
Everything is idempotent: a slot is a set member, a start is named after the payment.

A payment is admitted once. Its stream record may come again (a batch that failed part-way is
retried from the failed record, so the records after it, already parked or started, are
delivered twice), and the sweeper admits a payment whose start it cannot find. Each admission
leaves a marker (``ADMITTED#<id>``: ``WAITING``, then ``STARTED``); a payment with a marker is not
admitted again. Without it, a payment parked twice is woken twice, and a second wake of a
payment whose execution has just passed Notify takes a slot that nothing frees until the
sweeper reclaims it (measured in the scale model: 3,249 waiting items for 1,761 payments, and
minute-long stalls with every slot held by ended executions). The marker and the waiting item
are written and removed in one transaction, so one is never found without the other. A marker
expires (the table's TTL) after ``MARKER_LIFETIME``, by when no record of the payment can come
again: the stream keeps records 24 hours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.payments.models import format_timestamp, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

IN_FLIGHT = "IN_FLIGHT"
WAITING = "WAITING"
HOLDERS = "holders"
ADMITTED = "ADMITTED#"  # + the payment id: its admission marker
STATE = "state"
MARKER_LIFETIME = timedelta(days=2)
# Statuses after which an execution drives its payment no more (its slot may be reclaimed).
ENDED = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _condition_cancelled(error: ClientError) -> bool:
    """A transaction cancelled because a condition failed (a conflict is raised: the record is retried)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    return any(each.get("Code") == "ConditionalCheckFailed" for each in error.response.get("CancellationReasons", []))


class Admitted(StrEnum):
    STARTED = "started"
    WAITING = "waiting"


@dataclass(frozen=True)
class Waiting:
    """A payment waiting for a start slot, under its item's sort key."""

    sort_key: str  # <waiting since>#<payment id>
    payment_id: str


class StartSlots:
    """The semaphore item and the waiting payments, in the start slots table."""

    def __init__(self, client: DynamoDBClient, table: str, limit: int) -> None:
        self._client = client
        self._table = table
        self.limit = limit

    def _key(self, slot_key: str, slot_sort: str) -> dict[str, dict[str, str]]:
        return {"slot_key": {"S": slot_key}, "slot_sort": {"S": slot_sort}}

    def acquire(self, payment_id: str) -> bool:
        """Take a slot for ``payment_id`` (True also when it holds one); False when all are taken."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(IN_FLIGHT, "-"),
                UpdateExpression="ADD #holders :me",
                ConditionExpression=(
                    "attribute_not_exists(#holders) OR size(#holders) < :limit OR contains(#holders, :id)"
                ),
                ExpressionAttributeNames={"#holders": HOLDERS},
                ExpressionAttributeValues={
                    ":me": {"SS": [payment_id]},
                    ":id": {"S": payment_id},
                    ":limit": {"N": str(self.limit)},
                },
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True

    def release(self, payment_id: str) -> None:
        """Give ``payment_id``'s slot back (nothing when it holds none)."""
        self._client.update_item(
            TableName=self._table,
            Key=self._key(IN_FLIGHT, "-"),
            UpdateExpression="DELETE #holders :me",
            ExpressionAttributeNames={"#holders": HOLDERS},
            ExpressionAttributeValues={":me": {"SS": [payment_id]}},
        )

    def holders(self) -> list[str]:
        item = self._client.get_item(TableName=self._table, Key=self._key(IN_FLIGHT, "-"), ConsistentRead=True).get(
            "Item", {}
        )
        return sorted(item.get(HOLDERS, {}).get("SS", []))

    def admitted(self, payment_id: str) -> Admitted | None:
        """How ``payment_id`` was admitted (its marker), or None if it never was."""
        item = self._client.get_item(TableName=self._table, Key=self._marker_key(payment_id), ConsistentRead=True).get(
            "Item"
        )
        return Admitted(item[STATE]["S"]) if item else None

    def _marker_key(self, payment_id: str) -> dict[str, dict[str, str]]:
        return self._key(f"{ADMITTED}{payment_id}", "-")

    def _marker(self, payment_id: str, state: Admitted) -> dict[str, dict[str, str]]:
        expires_at = int((utc_now() + MARKER_LIFETIME).timestamp())
        return self._marker_key(payment_id) | {
            STATE: {"S": state.value},
            contract.START_SLOTS_EXPIRES_AT: {"N": str(expires_at)},
        }

    def mark_started(self, payment_id: str) -> None:
        self._client.put_item(TableName=self._table, Item=self._marker(payment_id, Admitted.STARTED))

    def park(self, payment_id: str) -> Waiting | None:
        """Make ``payment_id`` wait for a slot; None if it was admitted already (parked or started)."""
        waiting = Waiting(f"{format_timestamp(utc_now())}#{payment_id}", payment_id)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._marker(payment_id, Admitted.WAITING),
                            "ConditionExpression": "attribute_not_exists(slot_key)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": self._key(WAITING, waiting.sort_key) | {"payment_id": {"S": payment_id}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if _condition_cancelled(error):
                return None
            raise
        return waiting

    def unpark(self, waiting: Waiting) -> None:
        """``waiting``'s payment was started: no longer waiting, its marker says so."""
        self._client.transact_write_items(
            TransactItems=[
                {"Delete": {"TableName": self._table, "Key": self._key(WAITING, waiting.sort_key)}},
                {"Put": {"TableName": self._table, "Item": self._marker(waiting.payment_id, Admitted.STARTED)}},
            ]
        )

    def waiting(self, limit: int | None = None) -> list[Waiting]:
        """The oldest ``limit`` waiting payments (all when None), strongly consistent: a park
        just written is seen."""
        found: list[Waiting] = []
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "slot_key = :waiting",
            "ExpressionAttributeValues": {":waiting": {"S": WAITING}},
            "ConsistentRead": True,
            "ScanIndexForward": True,
        }
        while True:
            if limit:
                request["Limit"] = limit - len(found)
            page = self._client.query(**request)
            found += [Waiting(i["slot_sort"]["S"], i["payment_id"]["S"]) for i in page["Items"]]
            if "LastEvaluatedKey" not in page or (limit and len(found) >= limit):
                return found
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


# Starts the payment's execution: True if started (or already running from this start), False if
# one of that name has ended already. The starter's is paced and retries throttles itself.
Start = Callable[[str], bool]


def _start_holding(slots: StartSlots, start: Start, payment_id: str) -> None:
    """Start with the slot taken; an execution that had ended already gives the slot back."""
    if not start(payment_id):
        slots.release(payment_id)


def admit(slots: StartSlots, start: Start, payment_id: str) -> Admitted:
    """Start ``payment_id``'s execution if a slot is free, else park it to be started by the
    next freed slot; a payment admitted before is left as it is. A start that fails (throttled)
    keeps the slot and leaves no marker: the retry takes the slot again and starts it."""
    admitted = slots.admitted(payment_id)
    if admitted is not None:
        return admitted
    if slots.acquire(payment_id):
        _start_holding(slots, start, payment_id)
        slots.mark_started(payment_id)
        return Admitted.STARTED
    waiting = slots.park(payment_id)
    if waiting is None:  # admitted meanwhile (the sweeper and the stream, racing)
        return slots.admitted(payment_id) or Admitted.WAITING
    # A slot freed between the try above and the park found nobody waiting: take it now.
    if slots.acquire(payment_id):
        _start_holding(slots, start, payment_id)
        slots.unpark(waiting)
        return Admitted.STARTED
    return Admitted.WAITING


def wake(slots: StartSlots, start: Start, batch: int = 5) -> int:
    """Start the oldest waiting payments while slots are free; how many were started."""
    started = 0
    while True:
        queue = slots.waiting(batch)
        if not queue:
            return started
        for waiting in queue:
            if not slots.acquire(waiting.payment_id):
                return started
            _start_holding(slots, start, waiting.payment_id)
            slots.unpark(waiting)
            started += 1


def free(slots: StartSlots, start: Start, payment_id: str) -> int:
    """``payment_id``'s execution needs no more steps: its slot goes to the oldest waiting."""
    slots.release(payment_id)
    return wake(slots, start)


def reclaim(slots: StartSlots, status_of: Callable[[str], str | None]) -> list[str]:
    """Give back the slots of executions that ended without freeing them (failed, timed out,
    aborted, or a Notify that never ran); a holder with no execution yet is being started."""
    ended = [payment_id for payment_id in slots.holders() if status_of(payment_id) in ENDED]
    for payment_id in ended:
        slots.release(payment_id)
    return ended


def parked_ids(slots: StartSlots) -> Iterable[str]:
    return {waiting.payment_id for waiting in slots.waiting()}
