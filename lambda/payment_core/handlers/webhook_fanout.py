"""Webhook fan-out, on the events table's stream: each new event, one SQS message per endpoint.

The mapping's filter passes only INSERTs, not the delivery attempts appended to events nor any
endpoint change (MODIFY, REMOVE); a new endpoint's INSERT is skipped here (its range key is no
event id). A record whose messages were not all queued is
reported in ``batchItemFailures`` and retried (payment_core.webhooks.fanout).
"""

from __future__ import annotations

from payment_core import contract
from payment_core.partial_batch import STREAM_RECORDS, StreamRecord
from payment_core.runtime import Cached, FunctionRuntime
from payment_core.settings import WebhooksEnvironment
from payment_core.webhooks.endpoints import EndpointStore
from payment_core.webhooks.fanout import fan_out


class FanoutRuntime(FunctionRuntime[WebhooksEnvironment]):
    def __init__(self) -> None:
        super().__init__(contract.WEBHOOK_FANOUT, WebhooksEnvironment)
        self.endpoints: Cached[EndpointStore] = self.cached(
            lambda: EndpointStore(self.dynamodb(), self.environment().events_table)
        )


runtime = FanoutRuntime()


@runtime.tracer.capture_method(capture_response=False)
def record_handler(record: StreamRecord) -> str:
    image = dict(record.new_image)
    tasks = fan_out(image, runtime.endpoints(), runtime.sqs(), runtime.environment().queue_url)
    runtime.count("WebhookDeliveriesQueued", len(tasks))
    return str(image.get("event_id", ""))


handler = runtime.partial_batch_handler(STREAM_RECORDS, record_handler)
