"""Turning an accepted request into a stored payment, and a stored payment into a running workflow.

``submit`` (the API and the queue consumer) only stores: the put is conditional on the id (an
identical existing payment counts as success), and storing it also records it on the payments
table's stream, the outbox. ``StepFunctionsStarter`` (the workflow_starter function, fed by
that stream) starts the execution named after the payment; ``ExecutionAlreadyExists`` counts
as success, so a redelivered stream record starts nothing twice.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Protocol

from botocore.exceptions import ClientError

from payment_core.errors import PaymentConflict
from payment_core.models import Payment, PaymentRequest
from payment_core.repository import PaymentRepository

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions.client import SFNClient


class WorkflowStarter(Protocol):
    def start(self, payment_id: str) -> None: ...


class StepFunctionsStarter:
    def __init__(self, client: SFNClient, state_machine_arn: str) -> None:
        self._client = client
        self._state_machine_arn = state_machine_arn

    def start(self, payment_id: str) -> None:
        try:
            self._client.start_execution(
                stateMachineArn=self._state_machine_arn,
                name=payment_id,
                input=json.dumps({"payment_id": payment_id}),
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ExecutionAlreadyExists":
                raise


def submit(repository: PaymentRepository, payment: Payment, request: PaymentRequest, actor: str) -> Payment:
    """Store ``payment`` (or find its identical twin); its stream record starts the workflow."""
    if not repository.create(payment, actor):
        existing = repository.get(payment.payment_id)
        if existing is None or not request.same_terms_as(existing):
            raise PaymentConflict(f"payment {payment.payment_id} already exists with different details")
        payment = existing
    return payment
