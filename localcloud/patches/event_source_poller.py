"""What the emulator's two Lambda pollers (``sqs_event_source``, ``dynamodb_streams``) share.

Both replace moto's delivery inside the writer's request with what the Lambda service does: a
background poller that scans the enabled event source mappings of its kind, runs each mapping's
deliveries on their own threads up to the mapping's concurrency, is woken early when a record
arrives, and backs a mapping off when asked. Both read the function's ``batchItemFailures``
answer by the same rules. What each reads and how it retries stays in its own module.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

# (Lambda backend, event source mapping) pairs, as moto keeps them.
SourceMapping = tuple[Any, Any]


def enabled_mappings(is_source: Callable[[str], bool]) -> list[SourceMapping]:
    """Every enabled mapping, in every account and region, whose source ARN ``is_source``."""
    from moto.awslambda.models import lambda_backends

    found = []
    for account_backends in list(lambda_backends.values()):
        for lambda_backend in list(account_backends.values()):
            for esm in list(lambda_backend._event_source_mappings.values()):
                if esm.enabled and is_source(esm.event_source_arn):
                    found.append((lambda_backend, esm))
    return found


def reported_failures(payload: bytes, batch_ids: Collection[str]) -> set[str]:
    """The identifiers a ``ReportBatchItemFailures`` answer reports as failed (empty: all succeeded).

    As AWS reads it: an answer that is not JSON, or reports nothing, is complete success; a
    failure whose ``itemIdentifier`` is missing, empty or not in the batch fails the whole batch.
    """
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        return set()
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failures = set()
    for failure in response["batchItemFailures"]:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in batch_ids:
            return set(batch_ids)
        failures.add(identifier)
    return failures


@dataclass
class EventSourcePoller:
    """One background thread scanning the mappings whose source ARN ``is_source``.

    Every ``interval`` seconds, or at once when woken, it starts ``deliver(lambda_backend, esm)``
    on a thread of its own for each mapping that has fewer than ``concurrency(esm)`` deliveries
    running and is not backed off. A delivery's exception is printed, never raised.
    """

    label: str  # names the poller in its log lines and threads
    interval: float
    is_source: Callable[[str], bool]
    deliver: Callable[[Any, Any], None]
    concurrency: Callable[[Any], int]
    _wake: threading.Event = field(default_factory=threading.Event, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _running: dict[str, int] = field(default_factory=dict, init=False)  # mapping uuid -> deliveries running
    _backoff_until: dict[str, float] = field(default_factory=dict, init=False)  # mapping uuid -> monotonic time
    _thread: threading.Thread | None = field(default=None, init=False)

    def take_over(self, detach: Callable[[Any], None], record_owner: type, store_record: str) -> None:
        """Take delivery over from moto: after moto creates a mapping of this kind, ``detach(esm)``
        takes it off moto's own in-request delivery; ``record_owner.store_record`` (where moto
        stores a new record) wakes the poller."""
        from moto.awslambda.models import LambdaBackend

        original_create = LambdaBackend.create_event_source_mapping
        original_store = getattr(record_owner, store_record)

        def create_event_source_mapping(backend: Any, spec: dict[str, Any]) -> Any:
            esm = original_create(backend, spec)
            if self.is_source(esm.event_source_arn):
                detach(esm)
            return esm

        def stored_then_wake(owner: Any, *args: Any, **kwargs: Any) -> None:
            original_store(owner, *args, **kwargs)
            self._wake.set()

        # setattr: mypy refuses assigning a function with another signature to the method.
        setattr(LambdaBackend, "create_event_source_mapping", create_event_source_mapping)  # noqa: B010
        setattr(record_owner, store_record, stored_then_wake)

    def wake(self) -> None:
        self._wake.set()

    def back_off(self, esm: Any, seconds: float) -> None:
        """Start no delivery of ``esm`` for ``seconds``."""
        with self._lock:
            self._backoff_until[esm.uuid] = time.monotonic() + seconds

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._poll_forever, daemon=True, name=f"{self.label}-poller")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _poll_forever(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            try:
                mappings = enabled_mappings(self.is_source)
            except Exception as exc:
                print(f"localcloud: {self.label} poller scan failed: {exc!r}", file=sys.stderr)
                continue
            now = time.monotonic()
            for lambda_backend, esm in mappings:
                with self._lock:
                    running = self._running.get(esm.uuid, 0)
                    if running >= self.concurrency(esm) or self._backoff_until.get(esm.uuid, 0.0) > now:
                        continue
                    self._running[esm.uuid] = running + 1
                threading.Thread(
                    target=self._run_delivery, args=(lambda_backend, esm), daemon=True, name=f"{self.label}-esm"
                ).start()

    def _run_delivery(self, lambda_backend: Any, esm: Any) -> None:
        try:
            self.deliver(lambda_backend, esm)
        except Exception as exc:
            print(f"localcloud: {self.label} poller error for {esm.uuid}: {exc!r}", file=sys.stderr)
        finally:
            with self._lock:
                self._running[esm.uuid] -= 1
