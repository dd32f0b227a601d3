"""Manual capture and void: what the API records, and what the workflow does with it.

A manual payment's execution rests in ``AwaitCapture`` (a ``.waitForTaskToken`` task whose
``TimeoutSeconds`` is the authorization window) after the ``await_capture`` step stored its task
token on the payment. The merchant's ask (capture, optionally of less, or void) is recorded on
the payment first, with a conditional write (status AUTHORIZED and no ask yet), then the
execution is woken with ``SendTaskSuccess``. Whichever of the two writes comes second (the
token's or the ask's) sees the other in its answer and wakes the execution, so an ask never
waits for a token stored after it. The payment is the truth; the wake-up is only a signal: if
it is lost, ``Expire`` (when the window ends) carries out the recorded ask instead of voiding,
and ``Expire``'s own write is conditional on there being no ask, so an ask recorded at the last
moment is never overtaken by an expiry.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.errors import InvalidTransition, NotCapturable, PaymentNotFound, RequestConflict
from payment_core.payments.connector import (
    OPERATION_CAPTURE,
    OPERATION_VOID,
    CaptureRequest,
    ProcessorConnector,
    VoidRequest,
    authorization_ref,
    operation_key,
)
from payment_core.payments.models import TERMINAL_STATUSES, Payment, PaymentStatus, format_timestamp, utc_now
from payment_core.payments.money import parse_amount
from payment_core.payments.repository import PaymentRepository, condition_failed, from_attributes, to_attributes
from payment_core.payments.workflow import load_payment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_stepfunctions.client import SFNClient

ACTOR_API = "api"
ACTOR_WORKFLOW = "workflow"
_ATTEMPTS = 3
# SendTaskSuccess on a token whose task already ended (woken by the other side, or timed out).
_TOKEN_GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


class TaskWaker(Protocol):
    def wake(self, task_token: str, payment: Payment) -> None: ...


class StepFunctionsWaker:
    def __init__(self, client: SFNClient) -> None:
        self._client = client

    def wake(self, task_token: str, payment: Payment) -> None:
        output = json.dumps({"payment_id": payment.payment_id, "status": payment.status.value})
        try:
            self._client.send_task_success(taskToken=task_token, output=output)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in _TOKEN_GONE:
                raise


class CaptureRequests:
    """The two writes that meet on a manual payment: the merchant's ask and the execution's token."""

    def __init__(self, client: DynamoDBClient, payments_table: str) -> None:
        self._client = client
        self._table = payments_table

    def _update(
        self, payment_id: str, update: str, condition: str, values: dict[str, Any], names: dict[str, str]
    ) -> Payment:
        response = self._client.update_item(
            TableName=self._table,
            Key={"payment_id": {"S": payment_id}},
            UpdateExpression=update,
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status", **names},
            ExpressionAttributeValues=to_attributes(values | {":authorized": PaymentStatus.AUTHORIZED.value}),
            ReturnValues="ALL_NEW",
        )
        return Payment.from_item(from_attributes(response["Attributes"]))

    def record_ask(self, payment: Payment, action: str, amount: Decimal | None) -> Payment | None:
        """Record the ask if the payment still rests AUTHORIZED without one; None if it does not."""
        values: dict[str, Any] = {":action": action, ":now": format_timestamp(utc_now())}
        update = "SET requested_action = :action, updated_at = :now"
        if amount is not None:
            values[":amount"] = amount
            update += ", requested_amount = :amount"
        try:
            return self._update(
                payment.payment_id,
                update,
                "#status = :authorized AND attribute_not_exists(requested_action)",
                values,
                {},
            )
        except ClientError as error:
            if condition_failed(error):
                return None
            raise

    def store_token(self, payment_id: str, task_token: str) -> Payment | None:
        """Store the execution's token; the payment leaves the open-payments index (the execution's
        own timeout now owns it: the sweeper must not re-drive an authorization resting on purpose)."""
        try:
            return self._update(
                payment_id,
                "SET task_token = :token REMOVE #open",
                "#status = :authorized",
                {":token": task_token},
                {"#open": contract.OPEN_SHARD_ATTRIBUTE},
            )
        except ClientError as error:
            if condition_failed(error):
                return None
            raise


def receipt(payment: Payment) -> dict[str, Any]:
    """The answer to a capture or void: the same for the first ask and every repeat of it."""
    public = payment.to_public()
    return {
        name: public[name]
        for name in ("payment_id", "status", "requested_action", "requested_amount")
        if name in public
    }


def ask(
    repository: PaymentRepository,
    requests: CaptureRequests,
    waker: TaskWaker,
    merchant_id: str,
    payment_id: str,
    action: str,
    amount: object | None,
) -> Payment:
    """``POST /payments/{id}/capture`` (``amount`` as sent; None: all of it) or ``/void``: record, then wake."""
    for _ in range(_ATTEMPTS):
        payment = load_payment(repository, payment_id, merchant_id)
        if payment.capture_method != contract.CAPTURE_MANUAL:
            raise NotCapturable(f"payment {payment_id} is captured automatically")
        wanted: Decimal | None = None
        if action == contract.ACTION_CAPTURE:
            # At most the authorized amount (parse_amount's maximum); the rest is released.
            wanted = payment.amount if amount is None else parse_amount(amount, payment.currency, payment.amount)
        if payment.requested_action is not None:
            if (payment.requested_action, payment.requested_amount) == (action, wanted):
                # The same ask again: the same answer, and the wake-up again (the first one may
                # have failed after the ask was recorded; waking twice is harmless).
                if payment.task_token is not None and payment.status is PaymentStatus.AUTHORIZED:
                    waker.wake(payment.task_token, payment)
                return payment
            raise RequestConflict(f"payment {payment_id} was already asked to {payment.requested_action}")
        if payment.status is not PaymentStatus.AUTHORIZED:
            raise NotCapturable(f"payment {payment_id} is {payment.status.value}, not AUTHORIZED")
        recorded = requests.record_ask(payment, action, wanted)
        if recorded is None:
            continue  # it moved (an expiry, another ask): look again
        if recorded.task_token is not None:
            waker.wake(recorded.task_token, recorded)
        return recorded
    raise InvalidTransition(f"payment {payment_id} keeps changing; retry")


def await_capture(
    repository: PaymentRepository, requests: CaptureRequests, waker: TaskWaker, payment_id: str, task_token: str
) -> Payment:
    """Store the token; wake at once if the ask came first, or if the work is already done (a redelivery)."""
    payment = repository.get(payment_id)
    if payment is None:
        raise PaymentNotFound(f"payment {payment_id} does not exist")
    stored = requests.store_token(payment_id, task_token)
    if stored is None:
        if payment.status not in TERMINAL_STATUSES:
            raise InvalidTransition(f"{contract.STEP_AWAIT_CAPTURE}: payment {payment_id} is {payment.status.value}")
        waker.wake(task_token, payment)
        return payment
    if stored.requested_action is not None:
        waker.wake(task_token, stored)
    return stored


def release(repository: PaymentRepository, connector: ProcessorConnector, payment_id: str) -> Payment:
    """Carry out the recorded ask: capture (releasing the rest) -> SETTLED, or void -> VOIDED."""
    payment = repository.get(payment_id)
    if payment is None:
        raise PaymentNotFound(f"payment {payment_id} does not exist")
    if payment.status in (PaymentStatus.SETTLED, PaymentStatus.VOIDED, PaymentStatus.EXPIRED):
        return payment
    if payment.status is not PaymentStatus.AUTHORIZED or payment.requested_action is None:
        raise InvalidTransition(f"{contract.STEP_RELEASE}: payment {payment_id} has nothing to release")
    processor_ref = payment.processor_ref or authorization_ref(payment_id)
    if payment.requested_action == contract.ACTION_VOID:
        voided = connector.void(VoidRequest(operation_key(OPERATION_VOID, payment_id), processor_ref))
        detail = {"action": contract.ACTION_VOID, "void_ref": voided.reference}
        return repository.transition(payment, PaymentStatus.VOIDED, ACTOR_WORKFLOW, detail=detail)
    amount = payment.requested_amount or payment.amount
    captured = connector.capture(
        CaptureRequest(
            idempotency_key=operation_key(OPERATION_CAPTURE, payment_id),
            processor_ref=processor_ref,
            amount=amount,
            authorized=payment.amount,
            currency=payment.currency,
        )
    )
    detail = {
        "action": contract.ACTION_CAPTURE,
        "amount_captured": str(amount),
        "amount_released": str(payment.amount - amount),
        "capture_ref": captured.reference,
    }
    return repository.transition(
        payment,
        PaymentStatus.SETTLED,
        ACTOR_WORKFLOW,
        detail=detail,
        updates={"amount_captured": amount, "amount_refundable": amount},
    )


def expire(repository: PaymentRepository, connector: ProcessorConnector, payment_id: str) -> Payment:
    """The window ran out: carry out an ask whose wake-up was lost, else void -> EXPIRED."""
    for _ in range(_ATTEMPTS):
        payment = repository.get(payment_id)
        if payment is None:
            raise PaymentNotFound(f"payment {payment_id} does not exist")
        if payment.status in TERMINAL_STATUSES:
            return payment
        if payment.requested_action is not None:
            return release(repository, connector, payment_id)
        processor_ref = payment.processor_ref or authorization_ref(payment_id)
        voided = connector.void(VoidRequest(operation_key(OPERATION_VOID, payment_id), processor_ref))
        detail = {"action": "expire", "void_ref": voided.reference}
        try:
            return repository.transition(
                payment, PaymentStatus.EXPIRED, ACTOR_WORKFLOW, detail=detail, without_request=True
            )
        except InvalidTransition:
            continue  # an ask arrived: it wins
    raise InvalidTransition(f"could not expire payment {payment_id}: it keeps changing")
