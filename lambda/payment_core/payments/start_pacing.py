"""Starting executions at a pace, and riding out Step Functions' throttling within the invocation.

``PacedStarts`` wraps a ``WorkflowStarter`` for one starter invocation: the k-th start of the
batch is made no earlier than ``k / pace`` seconds after the invocation began, and the invocation
returns no earlier than ``n / pace`` after it began, so a starter reading one stream shard never
starts more than ``pace`` executions a second, whatever its batch size (the stack derives the pace
from the account's quotas: lib/config/pacing.py; how many run at once is admission's). A
``ThrottlingException`` (or a 5xx) is retried with full jitter, the wait doubling from ``base``
up to ``cap``, for as long as the invocation has time: only when the next wait would pass the
deadline is the record given back (``StartDeferred``, reported in ``batchItemFailures``), and
every later record of the batch with it, without a call.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from payment_core.payments.submission import WorkflowStarter

# Worth another try: the throttle, and Step Functions' own transient faults.
RETRIED_CODES = frozenset({"ThrottlingException", "ServiceUnavailable", "InternalFailure", "InternalServerError"})


class StartDeferred(RuntimeError):
    """No time left in this invocation to start the payment: the mapping retries the record."""


@dataclass(frozen=True)
class PacingSettings:
    """How fast executions are started, and how a refused start is retried."""

    starts_per_second: float
    retry_base_seconds: float
    retry_cap_seconds: float
    reserve_seconds: float  # no call is made closer than this to the invocation's timeout


def _retried(error: ClientError) -> bool:
    code = error.response.get("Error", {}).get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    return code in RETRIED_CODES or status >= 500


@dataclass
class PacedStarts:
    """One invocation's starts. ``remaining_seconds`` is the Lambda context's time left."""

    starter: WorkflowStarter
    settings: PacingSettings
    remaining_seconds: float
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    jitter: Callable[[], float] = random.random
    retries: int = field(default=0, init=False)  # throttled or failed calls retried, for the metric
    _began: float = field(init=False)
    _deadline: float = field(init=False)
    _started: int = field(default=0, init=False)
    _out_of_time: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._began = self.clock()
        self._deadline = self._began + self.remaining_seconds - self.settings.reserve_seconds

    def _wait_until(self, moment: float) -> None:
        delay = moment - self.clock()
        if delay > 0:
            self.sleep(delay)

    def start(self, payment_id: str) -> bool:
        """As ``WorkflowStarter.start`` (False: an execution of that name has ended), paced."""
        slot = self._began + self._started / self.settings.starts_per_second
        if self._out_of_time or slot > self._deadline:
            self._out_of_time = True
            raise StartDeferred(f"no time left in this invocation to start {payment_id}")
        self._wait_until(slot)
        attempt = 0
        while True:
            try:
                started = self.starter.start(payment_id)
                break
            except ClientError as error:
                if not _retried(error):
                    raise
                wait = self.jitter() * min(
                    self.settings.retry_cap_seconds, self.settings.retry_base_seconds * 2**attempt
                )
                if self.clock() + wait > self._deadline:
                    self._out_of_time = True  # the rest of the batch goes back with this record
                    raise StartDeferred(
                        f"start of {payment_id} still throttled at the invocation's deadline"
                    ) from error
                self.retries += 1
                attempt += 1
                self.sleep(wait)
        self._started += 1
        return started

    def finish(self) -> None:
        """Hold the invocation until its last start's slot has passed (the pace spans batches), or
        its deadline: a record given back is retried no sooner than its slot either."""
        self._wait_until(min(self._deadline, self._began + self._started / self.settings.starts_per_second))
