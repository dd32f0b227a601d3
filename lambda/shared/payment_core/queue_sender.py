"""Send messages to SQS ten at a time, retrying only the entries SQS reports as failed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from payment_core.errors import BatchEnqueueError

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient

SQS_BATCH_SIZE = 10


class BatchingQueueSender:
    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        max_attempts: int = 4,
        backoff_seconds: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self._queue_url = queue_url
        self._max_attempts = max_attempts
        self._backoff_seconds = backoff_seconds
        self._sleep = sleep
        self._buffer: list[str] = []
        self.sent = 0

    def add(self, message: dict[str, Any]) -> None:
        self._buffer.append(json.dumps(message, sort_keys=True, separators=(",", ":")))
        if len(self._buffer) == SQS_BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        pending = {str(index): body for index, body in enumerate(self._buffer)}
        self._buffer = []
        total = len(pending)
        for attempt in range(1, self._max_attempts + 1):
            if not pending:
                break
            response = self._client.send_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": id_, "MessageBody": body} for id_, body in pending.items()],
            )
            pending = {failed["Id"]: pending[failed["Id"]] for failed in response.get("Failed", [])}
            if pending and attempt < self._max_attempts:
                self._sleep(self._backoff_seconds * 2 ** (attempt - 1))
        if pending:
            raise BatchEnqueueError(
                f"{len(pending)} of {total} messages could not be queued after {self._max_attempts} attempts"
            )
        self.sent += total
