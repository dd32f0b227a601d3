"""Turning an accepted request into a stored payment, and a stored payment into a running workflow.

``submit`` (the API and the queue consumer) only stores: one ``TransactWriteItems`` puts the
payment and its first audit entry, conditional on the id (an identical existing payment counts
as success), and storing it also records it on the payments table's stream, the outbox.
``accept_api_payment`` is the API's submit: its payment id is derived from the merchant and the
Idempotency-Key, so the payment row is also the key's idempotency record.
``StepFunctionsStarter`` (the workflow_starter function, fed by that stream) starts the
execution named after the payment; ``ExecutionAlreadyExists`` counts as success, so a
redelivered stream record starts nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

from payment_core.errors import IdempotencyConflict, PaymentConflict
from payment_core.payments.models import Payment, PaymentRequest, format_timestamp, utc_now
from payment_core.payments.repository import PaymentRepository
from payment_core.tenancy.callers import payment_id_for

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


class WorkflowStarter(Protocol):
    def start(self, payment_id: str) -> bool: ...


class StepFunctionsStarter:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def start(self, payment_id: str) -> bool:
        """Start the payment's execution: False if one of that name has ended (``ExecutionAlreadyExists``).

        True also when it is running from this same start: Step Functions answers a repeated
        ``StartExecution`` of a running execution (same name and input) with that execution."""
        try:
            self._client.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=payment_id,
                input=json.dumps({"payment_id": payment_id}),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise
            return False
        return True


def submit(repository: PaymentRepository, payment: Payment, request: PaymentRequest, actor: str) -> bool:
    """Store ``payment`` (True), or find its identical twin (False); its stream record starts the workflow."""
    if repository.create(payment, actor):
        return True
    existing = repository.get(payment.payment_id)
    if existing is None or not request.same_terms_as(existing):
        raise PaymentConflict(f"payment {payment.payment_id} already exists with different details")
    return False


@dataclass(frozen=True)
class Acceptance:
    """What ``POST /payments`` did: the payment as accepted, and whether this request stored it."""

    payment: Payment
    first: bool  # False: a replay of a request already accepted

    def receipt(self) -> dict[str, str]:
        """The answer, the same for the first request and every replay: the id and the status accepted in."""
        return {"payment_id": self.payment.payment_id, "status": self.payment.status.value}


def accept_api_payment(
    repository: PaymentRepository, merchant_id: str, idempotency_key: str, request: PaymentRequest
) -> Acceptance:
    """Store an API payment once per merchant and Idempotency-Key.

    The id is derived from the two, so the payment row is also the key's idempotency record and
    the first request costs one DynamoDB call: the transaction that stores the payment claims the
    key. The same key from two merchants is two payments. A replay with the same terms finds the
    payment (one more read); other terms under the same key are ``IdempotencyConflict``; a replay
    racing the first request's transaction is ``PaymentInProgress``. Unlike a separate
    idempotency record, this one never expires: the key answers for its payment while it exists.
    """
    payment = Payment.create(
        payment_id=payment_id_for(merchant_id, idempotency_key),
        request=request,
        source="api",
        created_at=format_timestamp(utc_now()),
    )
    try:
        first = submit(repository, payment, request, actor="api")
    except PaymentConflict as conflict:
        raise IdempotencyConflict(
            f"the Idempotency-Key of payment {payment.payment_id} was already used with other terms"
        ) from conflict
    return Acceptance(payment, first)
