"""Count AWS API calls with botocore's event hooks: one ``before-call`` per API operation sent."""

from __future__ import annotations

from collections import Counter
from typing import Any

import boto3


class CallCounter:
    """AWS calls made by clients of one boto3 session, keyed ``service:Operation``.

    The hook goes on the session's event system, which every client created afterwards
    copies; clients of other sessions (the bench's own setup calls) are not counted.
    ``before-call`` fires once per operation, after parameter validation and before any
    retry, so a call that is billed once is counted once.
    """

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()

    def attach(self, session: boto3.Session) -> CallCounter:
        session.events.register("before-call", self._count, unique_id=f"bench-call-counter-{id(self)}")
        return self

    def _count(self, model: Any, **_: Any) -> None:
        # Returning None matters: a value would short-circuit the call.
        self.calls[f"{model.service_model.service_name}:{model.name}"] += 1

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    def take(self) -> Counter[str]:
        """The calls counted so far; the counter starts again from zero."""
        taken, self.calls = self.calls, Counter()
        return taken
