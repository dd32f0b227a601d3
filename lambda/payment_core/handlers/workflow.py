"""Step Functions task: run one workflow step, named by the event's ``step``.

Event: ``{"step": <one of contract.WORKFLOW_STEPS>,
"payment_id": ..., "error"?: {"Error", "Cause"}, "task_token"?}``. Returns ``{"payment_id", "status"}``
(``process`` adds ``capture_method``; ``await_capture`` is invoked with ``.waitForTaskToken``: its answer is ignored,
the execution waits for the token).
Domain errors propagate unchanged so Step Functions sees their class names
(``PaymentRejected``, ``PaymentDeclined``, ``TransientProcessorError``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.errors import InvalidRequest
from payment_core.payments import admission, capture, refunds, workflow
from payment_core.payments.connector import connector_named
from payment_core.payments.models import Payment, PaymentStatus
from payment_core.payments.notifications import SnsStatusPublisher
from payment_core.payments.refund_models import Refund
from payment_core.payments.submission import StepFunctionsStarter
from payment_core.payments.validation import payment_id_field
from payment_core.payments.wiring import AdmittingEnvironment, PaymentsEnvironment, PaymentsRuntime
from payment_core.rules import BusinessRules
from payment_core.settings import reads, variable
from payment_core.tenancy.merchants import MerchantDirectory


@dataclass(frozen=True)
class WorkflowEnvironment(PaymentsEnvironment, AdmittingEnvironment):
    """The workflow's steps: its Validate step re-checks the rules and refuses blocked merchants
    and merchants no longer active (the merchants table); Notify publishes to the status topic."""

    rules: BusinessRules = field(metadata=reads(partial(BusinessRules.read, blocking=True)))
    status_topic_arn: str = field(metadata=variable(contract.STATUS_TOPIC_ARN))
    merchants_table: str = field(metadata=variable(contract.MERCHANTS_TABLE_NAME))
    processor_connector: str = field(
        metadata=reads(lambda env: env.one_of(contract.PROCESSOR_CONNECTOR, contract.PROCESSOR_CONNECTORS))
    )
    # Notify and AwaitCapture free the payment's start slot and start the oldest payment waiting
    # (AdmittingEnvironment: the start slots and the state machine).


runtime = PaymentsRuntime(contract.WORKFLOW, WorkflowEnvironment)
# Besides payments: the status topic the Notify step publishes to, the merchants Validate checks.
status_publisher = runtime.cached(lambda: SnsStatusPublisher(runtime.sns(), runtime.environment().status_topic_arn))
merchants = runtime.cached(lambda: MerchantDirectory(runtime.dynamodb(), runtime.environment().merchants_table))
connector = runtime.cached(lambda: connector_named(runtime.environment().processor_connector))
capture_requests = runtime.cached(
    lambda: capture.CaptureRequests(runtime.dynamodb(), runtime.environment().payment_tables.payments)
)
waker = runtime.cached(lambda: capture.StepFunctionsWaker(runtime.stepfunctions()))
refund_store = runtime.refund_store
start_slots = runtime.cached(lambda: runtime.environment().start_slots(runtime.dynamodb()))
starter = runtime.cached(lambda: StepFunctionsStarter(runtime.stepfunctions(), runtime.environment().state_machine_arn))
# After these the execution runs no step of its own for long (Notify ends a payment's execution,
# RefundNotify a refund's; AwaitCapture rests for the merchant, up to days): its start slot goes to
# the oldest payment waiting for one.
FREES_THE_SLOT = frozenset({contract.STEP_NOTIFY, contract.STEP_REFUND_NOTIFY, contract.STEP_AWAIT_CAPTURE})


def free_slot(payment_id: str) -> None:
    """Give the slot back (a failure fails the step: it is retried); then wake the waiting. A
    failed wake is only logged: the slot is free and the next freed slot or sweep wakes them."""
    start_slots().release(payment_id)
    try:
        started = admission.wake(start_slots(), starter().start)
    except ClientError as error:
        runtime.logger.warning("waking a waiting payment failed", extra={"error": error.response.get("Error", {})})
        return
    if started:
        runtime.count("WorkflowStartedFromWaiting", started)


def task_token(event: dict[str, Any]) -> str:
    token = event.get("task_token")
    if not isinstance(token, str) or not token:
        raise InvalidRequest("task_token is required", "task_token")
    return token


STEPS: dict[str, Callable[[dict[str, Any], str], Payment | Refund]] = {
    contract.STEP_VALIDATE: lambda event, payment_id: workflow.validate(
        runtime.payment_repository(), runtime.environment().rules, merchants(), payment_id
    ),
    contract.STEP_PROCESS: lambda event, payment_id: workflow.process(
        runtime.payment_repository(), connector(), payment_id
    ),
    contract.STEP_RECORD: lambda event, payment_id: workflow.record(runtime.payment_repository(), payment_id),
    contract.STEP_NOTIFY: lambda event, payment_id: workflow.notify(
        runtime.payment_repository(), status_publisher(), payment_id
    ),
    contract.STEP_AWAIT_CAPTURE: lambda event, payment_id: capture.await_capture(
        runtime.payment_repository(), capture_requests(), waker(), payment_id, task_token(event)
    ),
    contract.STEP_RELEASE: lambda event, payment_id: capture.release(
        runtime.payment_repository(), connector(), payment_id
    ),
    contract.STEP_EXPIRE: lambda event, payment_id: capture.expire(
        runtime.payment_repository(), connector(), payment_id
    ),
    contract.STEP_COMPENSATE: lambda event, payment_id: workflow.compensate(
        runtime.payment_repository(), connector(), payment_id, event.get("error")
    ),
    # A refund's execution: ``payment_id`` carries the refund's id (the starter's input for any id).
    contract.STEP_REFUND: lambda event, refund_id: refunds.run_refund(refund_store(), connector(), refund_id),
    contract.STEP_REFUND_FAIL: lambda event, refund_id: refunds.fail_refund(
        refund_store(), refund_id, event.get("error")
    ),
    contract.STEP_REFUND_NOTIFY: lambda event, refund_id: refunds.notify_refund(
        refund_store(), status_publisher(), refund_id
    ),
}


@runtime.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = event.get("step")
    if not isinstance(step, str) or step not in STEPS:
        raise InvalidRequest(f"unknown workflow step {step!r}", "step")
    payment_id = payment_id_field(event.get("payment_id"))
    runtime.logger.append_keys(step=step, payment_id=payment_id)
    payment = STEPS[step](event, payment_id)
    if step in FREES_THE_SLOT:
        free_slot(payment_id)
    runtime.logger.info("step finished", extra={"status": payment.status.value})
    runtime.count(f"Step_{step}")
    if isinstance(payment, Refund):
        return {"payment_id": payment.refund_id, "status": payment.status.value}
    # Business outcomes are dashboard metrics, never alarms (a retried step may count twice).
    if step in (contract.STEP_RECORD, contract.STEP_RELEASE) and payment.status is PaymentStatus.SETTLED:
        runtime.count(contract.PAYMENT_SETTLED_METRIC)
    elif step == contract.STEP_COMPENSATE and payment.status is PaymentStatus.FAILED:
        runtime.count(workflow.describe_failure(event.get("error"))[0])
    if step == contract.STEP_PROCESS:
        # The state machine's CaptureMethod choice: Record now, or AwaitCapture the merchant's ask.
        return workflow.state_of(payment) | {"capture_method": payment.capture_method}
    return workflow.state_of(payment)
