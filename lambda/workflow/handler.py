"""Step Functions task: run one workflow step, named by the event's ``step``.

Event: ``{"step": "validate"|"process"|"record"|"notify"|"compensate",
"payment_id": ..., "error"?: {"Error", "Cause"}}``. Returns ``{"payment_id", "status"}``.
Domain errors propagate unchanged so Step Functions sees their class names
(``PaymentRejected``, ``PaymentDeclined``, ``TransientProcessorError``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core import environment as env
from payment_core import workflow
from payment_core.errors import InvalidRequest
from payment_core.lazy import Lazy
from payment_core.models import Payment
from payment_core.notifications import SnsStatusPublisher
from payment_core.repository import PaymentRepository
from payment_core.settings import BusinessRules, required
from payment_core.tracing import TRACED_MODULES
from payment_core.validation import payment_id_field

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()

dynamodb: Lazy[Any] = Lazy(lambda: boto3.client("dynamodb"))
sns: Lazy[Any] = Lazy(lambda: boto3.client("sns"))
rules: Lazy[BusinessRules] = Lazy(lambda: BusinessRules.from_env(os.environ))


def repository() -> PaymentRepository:
    return PaymentRepository(dynamodb.get(), required(env.PAYMENTS_TABLE_NAME), required(env.AUDIT_TABLE_NAME))


STEPS: dict[str, Callable[[dict[str, Any], str], Payment]] = {
    "validate": lambda event, payment_id: workflow.validate(repository(), rules.get(), payment_id),
    "process": lambda event, payment_id: workflow.process(repository(), payment_id),
    "record": lambda event, payment_id: workflow.record(repository(), payment_id),
    "notify": lambda event, payment_id: workflow.notify(
        repository(), SnsStatusPublisher(sns.get(), required(env.STATUS_TOPIC_ARN)), payment_id
    ),
    "compensate": lambda event, payment_id: workflow.compensate(repository(), payment_id, event.get("error")),
}


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    step = event.get("step")
    if not isinstance(step, str) or step not in STEPS:
        raise InvalidRequest(f"unknown workflow step {step!r}", "step")
    payment_id = payment_id_field(event.get("payment_id"))
    logger.append_keys(step=step, payment_id=payment_id)
    payment = STEPS[step](event, payment_id)
    logger.info("step finished", extra={"status": payment.status.value})
    metrics.add_metric(name=f"Step_{step}", unit=MetricUnit.Count, value=1)
    return workflow.state_of(payment)
