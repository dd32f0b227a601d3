"""The fan-out: each new event becomes one delivery task per endpoint of its merchant that wants it."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from payment_core.events.models import is_event_id
from payment_core.webhooks.delivery import DeliveryTask
from payment_core.webhooks.endpoints import EndpointStore

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

SQS_BATCH = 10  # SendMessageBatch's most entries


class DeliveryFailedToQueue(Exception):
    """SQS refused some of the event's tasks: the stream record is retried (a task sent twice is
    one delivery more, which at-least-once allows; one not sent would be lost)."""


def fan_out(
    image: Mapping[str, Any],
    store: EndpointStore,
    sqs: SQSClient,
    queue_url: str,
    clock: Callable[[], float] = time.time,
) -> list[DeliveryTask]:
    """Queue the new event ``image`` (the stream's NEW_IMAGE, deserialized) for each of its
    merchant's enabled endpoints subscribed to its type; the tasks queued."""
    event_id, merchant_id, event_type = image.get("event_id"), image.get("merchant_id"), image.get("type")
    if not is_event_id(event_id) or not isinstance(merchant_id, str) or not isinstance(event_type, str):
        return []  # a new endpoint's INSERT (the stream filter passes every INSERT)
    now = clock()
    tasks = [
        DeliveryTask(merchant_id, str(event_id), endpoint.endpoint_id, now)
        for endpoint in store.list(merchant_id)
        if endpoint.wants(event_type)
    ]
    for start in range(0, len(tasks), SQS_BATCH):
        chunk = tasks[start : start + SQS_BATCH]
        answer = sqs.send_message_batch(
            QueueUrl=queue_url,
            # The merchant is the message's tenant: SQS fair queues then serve other merchants'
            # messages first while one merchant's take a disproportionate share (docs/webhooks.md).
            Entries=[
                {"Id": str(n), "MessageBody": task.to_body(), "MessageGroupId": task.merchant_id}
                for n, task in enumerate(chunk)
            ],
        )
        if answer.get("Failed"):
            raise DeliveryFailedToQueue(f"{len(answer['Failed'])} of {len(chunk)} delivery tasks not queued")
    return tasks
