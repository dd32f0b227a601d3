"""SQS consumer: each batch row becomes exactly one payment with a running workflow.

Partial batch response: a message that fails (malformed, conflicting, or an AWS error)
is reported in ``batchItemFailures`` so SQS retries it and, after ``maxReceiveCount``,
moves it to the DLQ. Nothing is skipped silently.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from payment_core import environment as env
from payment_core.lazy import Lazy
from payment_core.models import Payment, format_timestamp, utc_now
from payment_core.queue_messages import parse_queue_message
from payment_core.repository import PaymentRepository
from payment_core.settings import BusinessRules, required
from payment_core.submission import StepFunctionsStarter, submit
from payment_core.tracing import TRACED_MODULES

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
# A whole failed batch is still a partial response (every id listed), not an exception.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)

dynamodb: Lazy[Any] = Lazy(lambda: boto3.client("dynamodb"))
stepfunctions: Lazy[Any] = Lazy(lambda: boto3.client("stepfunctions"))
rules: Lazy[BusinessRules] = Lazy(lambda: BusinessRules.from_env(os.environ))


@tracer.capture_method
def record_handler(record: SQSRecord) -> str:
    message = parse_queue_message(record.body, rules.get())
    payment = Payment.create(
        payment_id=message.payment_id,
        request=message.request,
        source="batch",
        created_at=format_timestamp(utc_now()),
        batch_job_id=message.batch_job_id,
    )
    repository = PaymentRepository(dynamodb.get(), required(env.PAYMENTS_TABLE_NAME), required(env.AUDIT_TABLE_NAME))
    starter = StepFunctionsStarter(stepfunctions.get(), required(env.STATE_MACHINE_ARN))
    stored = submit(repository, starter, payment, message.request, actor="queue_consumer")
    metrics.add_metric(name="BatchPaymentAccepted", unit=MetricUnit.Count, value=1)
    return stored.payment_id


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
