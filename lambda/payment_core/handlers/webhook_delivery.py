"""Webhook delivery, on the delivery queue: one attempt per message (payment_core.webhooks.delivery).

A failed attempt makes its message invisible for the backoff (``ChangeMessageVisibility``) and is
reported in ``batchItemFailures``, so SQS hands it back then and counts the receive; a delivered,
dropped or disabling attempt lets the mapping delete it. The message's ``ApproximateReceiveCount``
is the attempt's number (the backoff's exponent).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from payment_core import contract
from payment_core.partial_batch import QUEUE_MESSAGES, QueueMessage
from payment_core.runtime import Cached, FunctionRuntime
from payment_core.settings import FunctionVariables, WebhooksEnvironment, reads, variable
from payment_core.webhooks.delivery import Delivery, DeliveryRecords, DeliveryTask, Outcome, Schedule
from payment_core.webhooks.endpoints import SecretBox
from payment_core.webhooks.sending import HttpsSender


def _schedule(variables: FunctionVariables) -> Schedule:
    """The retries' schedule (lib/config/webhooks.py): how long an endpoint is retried, the backoff."""
    return Schedule(
        horizon_seconds=variables.positive_int(contract.WEBHOOK_HORIZON_SECONDS),
        backoff_base_seconds=variables.positive_int(contract.WEBHOOK_BACKOFF_BASE_SECONDS),
        backoff_cap_seconds=variables.positive_int(contract.WEBHOOK_BACKOFF_CAP_SECONDS),
    )


@dataclass(frozen=True)
class DeliveryEnvironment(WebhooksEnvironment):
    """The endpoints and the queue; the audit table (an endpoint's disabling), the secrets' key."""

    audit_table: str = field(metadata=variable(contract.AUDIT_TABLE_NAME))
    secret_key_id: str = field(metadata=variable(contract.WEBHOOK_SECRET_KEY_ID))
    schedule: Schedule = field(metadata=reads(_schedule))


class DeliveryRuntime(FunctionRuntime[DeliveryEnvironment]):
    def __init__(self) -> None:
        super().__init__(contract.WEBHOOK_DELIVERY, DeliveryEnvironment)
        # The one network piece: tests of the HTTPS exchange override it (a typed sender whose
        # resolution points at a local receiver); nothing in the stack does.
        self.sender: Cached[HttpsSender] = self.cached(HttpsSender)
        self.delivery: Cached[Delivery] = self.cached(self._delivery)

    def _delivery(self) -> Delivery:
        env = self.environment()
        return Delivery(
            DeliveryRecords(self.dynamodb(), env.events_table, env.audit_table),
            SecretBox(self.kms(), env.secret_key_id),
            env.schedule,
            self.sender(),
        )


runtime = DeliveryRuntime()


class DeliveryRetry(Exception):
    """The attempt failed: the message comes back after its backoff (reported as a batch item failure)."""


@runtime.tracer.capture_method(capture_response=False)
def record_handler(record: QueueMessage) -> str:
    task = DeliveryTask.from_body(record.body)
    runtime.logger.append_keys(merchant_id=task.merchant_id, event_id=task.event_id, endpoint_id=task.endpoint_id)
    result = runtime.delivery().attempt(task, record.receive_count)
    runtime.count(f"Webhook{result.outcome.value.title()}")
    if result.outcome is Outcome.DISABLED:
        runtime.logger.warning("webhook endpoint disabled past the horizon")
        runtime.count(contract.WEBHOOK_ENDPOINT_DISABLED_METRIC)
    if result.outcome is Outcome.RETRY:
        runtime.sqs().change_message_visibility(
            QueueUrl=runtime.environment().queue_url,
            ReceiptHandle=record.receipt_handle,
            VisibilityTimeout=result.retry_after_seconds,
        )
        error = result.attempt["error"] if result.attempt else ""
        raise DeliveryRetry(f"attempt failed ({error}); retried in {result.retry_after_seconds} s")
    return task.event_id


handler = runtime.partial_batch_handler(QUEUE_MESSAGES, record_handler)
