"""SQS consumer: each batch row becomes exactly one payment (its stream record starts the workflow).

Partial batch response: a message that fails (malformed, conflicting, or an AWS error)
is reported in ``batchItemFailures`` so SQS retries it and, after ``maxReceiveCount``,
moves it to the DLQ. Nothing is skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from payment_core import contract
from payment_core.partial_batch import QUEUE_MESSAGES, QueueMessage
from payment_core.payments.models import Payment, format_timestamp, utc_now
from payment_core.payments.queue_messages import parse_queue_message
from payment_core.payments.submission import submit
from payment_core.payments.wiring import PaymentsEnvironment, PaymentsRuntime
from payment_core.rules import BusinessRules
from payment_core.settings import reads


@dataclass(frozen=True)
class QueueConsumerEnvironment(PaymentsEnvironment):
    """Stores each batch row's payment (its stream record starts the workflow), re-checked against the rules."""

    rules: BusinessRules = field(metadata=reads(BusinessRules.read))


runtime = PaymentsRuntime(contract.QUEUE_CONSUMER, QueueConsumerEnvironment)


@runtime.tracer.capture_method
def record_handler(record: QueueMessage) -> str:
    message = parse_queue_message(record.body, runtime.environment().rules)
    payment = Payment.create(
        payment_id=message.payment_id,
        request=message.request,
        source="batch",
        created_at=format_timestamp(utc_now()),
        batch_job_id=message.batch_job_id,
    )
    submit(runtime.payment_repository(), payment, message.request, actor="queue_consumer")
    runtime.count("BatchPaymentAccepted")
    return payment.payment_id


handler = runtime.partial_batch_handler(QUEUE_MESSAGES, record_handler)
