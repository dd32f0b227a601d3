"""DynamoDB requests isolated and atomic, as on AWS (moto 5.2.5 is neither under concurrency).

Evidence (``moto/dynamodb/models/__init__.py`` ``DynamoDBBackend.transact_write_items``):
before applying a transaction moto deep-copies every table the transaction names, applies the
operations one by one, and when any of them fails (a failed ``ConditionExpression`` is routine)
it puts the *copies* back: ``self.tables[table_name] = original_table_state[table_name]``. The
server is threaded (``werkzeug`` ``threaded=True``), so a write another request committed between
the copy and the cancel is silently undone, and a reader can see a transaction half applied.
Conditional ``PutItem``/``UpdateItem`` are check-then-write in Python with the same window.

AWS: "TransactWriteItems is a synchronous write operation that groups up to 100 action
requests ... The actions are completed atomically so that either all of them succeed, or all
of them fail" and transactions are *serializable* with every other single-item write
(PutItem, UpdateItem, DeleteItem) and with GetItem (DynamoDB developer guide, "Isolation
levels for DynamoDB transactions").

Fix: every DynamoDB and DynamoDB Streams request is handled under one server-wide lock, so a
transaction (copy, apply, maybe restore) runs with no other request in between. The restore
then only ever undoes the transaction's own writes. moto keeps everything in memory, so a
request holds the lock for microseconds to a few milliseconds; stricter-than-AWS only in
that unrelated tables are serialized too, which nothing can observe except as latency.

Note: moto invokes DynamoDB-stream event source mappings *inside* the write
(``StreamShard.add``); under this lock a handler that calls DynamoDB would deadlock, so
``dynamodb_streams`` detaches those mappings and delivers records from a poller thread.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

DYNAMODB_LOCK = threading.RLock()


def _serialized(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def call_action_serialized(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return call_action(self)

    call_action_serialized._localcloud_serialized = True  # type: ignore[attr-defined]
    return call_action_serialized


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action
        if not getattr(original, "_localcloud_serialized", False):
            handler.call_action = _serialized(original)  # type: ignore[method-assign]
