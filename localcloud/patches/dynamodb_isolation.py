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
transaction (apply, maybe undo) runs with no other request in between, and a cancelled
transaction restores only the items it touched (and drops the stream records it added)
instead of whole-table copies, which also removes moto's O(table size) copy per transaction.
moto keeps everything in memory, so a request holds the lock for microseconds to a few
milliseconds; stricter-than-AWS only in that unrelated tables are serialized too, which
nothing can observe except as latency.

Note: moto invokes DynamoDB-stream event source mappings *inside* the write
(``StreamShard.add``); under this lock a handler that calls DynamoDB would deadlock, so
``dynamodb_streams`` detaches those mappings and delivers records from a poller thread.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

DYNAMODB_LOCK = threading.RLock()
# The request threads inside call_action_serialized below, with how deep they hold the lock.
_holding = threading.local()


def _serialized(call_action: Any) -> Any:
    @functools.wraps(call_action)
    def call_action_serialized(self: Any) -> Any:
        with DYNAMODB_LOCK:
            _holding.depth = getattr(_holding, "depth", 0) + 1
            try:
                return call_action(self)
            finally:
                _holding.depth -= 1

    call_action_serialized._localcloud_serialized = True  # type: ignore[attr-defined]
    return call_action_serialized


def _detached_results_serialized_unlocked(serialized: Any) -> Any:
    """Item reads answer a ``DynamoResult``, which moto builds by copying the items into plain
    dicts, lists, strings and bytes (``dynamo_to_dict``) while the action runs, under the lock:
    turning that copy into the response body reads nothing a write can change, so it runs
    without the lock. It is moto's generic, model-driven serializer, the largest part of a large
    read (py-spy, scale model: ~30% of the emulator's CPU, clients polling pending payments with
    BatchGetItem), and meanwhile every other DynamoDB request, the stream poller's included,
    waited for it (issue #18: a client polling each pending payment starved the stream poller)."""

    @functools.wraps(serialized)
    def serialize(self: Any, action_result: Any) -> Any:
        from moto.dynamodb.responses import DynamoResult

        if not isinstance(action_result, DynamoResult) or getattr(_holding, "depth", 0) != 1:
            return serialized(self, action_result)
        DYNAMODB_LOCK.release()
        try:
            return serialized(self, action_result)
        finally:
            DYNAMODB_LOCK.acquire()

    serialize._localcloud_unlocked = True  # type: ignore[attr-defined]
    return serialize


def apply() -> None:
    from moto.dynamodb.responses import DynamoHandler
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    for handler in (DynamoHandler, DynamoDBStreamsHandler):
        original = handler.call_action
        if not getattr(original, "_localcloud_serialized", False):
            handler.call_action = _serialized(original)  # type: ignore[method-assign]
    if not getattr(DynamoHandler.serialized, "_localcloud_unlocked", False):
        DynamoHandler.serialized = _detached_results_serialized_unlocked(  # type: ignore[method-assign]
            DynamoHandler.serialized
        )
    apply_item_rollback()


class _TablesNotCopied:
    """Stands in for the ``copy`` module inside moto's DynamoDB backend: a Table is not copied.

    moto deep-copies every table a transaction names (O(table size) per transaction, under our
    lock: with a few hundred payments it became the emulator's bottleneck). The rollback below
    restores only the items the transaction touched, so the whole-table copy is not needed.
    """

    def __init__(self, real: Any) -> None:
        self._real = real

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        return value if isinstance(value, Table) else self._real.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def _item_key(table: Any, op_type: str, op: dict[str, Any]) -> tuple[Any, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    attributes = op.get("Item", {}) if op_type == "Put" else op.get("Key", {})
    if table.hash_key_attr not in attributes:
        return None  # moto refuses it with a validation error; nothing to restore
    hash_value = DynamoType(attributes[table.hash_key_attr])
    range_attr = table.range_key_attr
    range_value = DynamoType(attributes[range_attr]) if range_attr and range_attr in attributes else None
    return hash_value, range_value


def _restore(table: Any, hash_value: Any, range_value: Any, before: Any) -> None:
    if range_value is not None:
        if before is None:
            table.items.get(hash_value, {}).pop(range_value, None)
        else:
            table.items[hash_value][range_value] = before
    elif before is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = before


def _transact_with_item_rollback(original: Any) -> Any:
    @functools.wraps(original)
    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
        import copy

        saved: list[tuple[Any, Any, Any, Any]] = []
        streams: dict[int, tuple[Any, int]] = {}
        for entry in transact_items:
            if len(entry) != 1:
                continue
            op_type, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            key = _item_key(table, op_type, op) if table is not None else None
            if table is None or key is None:
                continue
            before = table.get_item(*key) if (key[1] is not None or not table.has_range_key) else None
            saved.append((table, key[0], key[1], copy.deepcopy(before)))
            if table.stream_shard is not None:
                streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        try:
            return original(self, transact_items)
        except Exception:
            # Undo this transaction's own writes, newest first, and the stream records they added.
            for table, hash_value, range_value, before in reversed(saved):
                _restore(table, hash_value, range_value, before)
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    return transact_write_items


def apply_item_rollback() -> None:
    """Transactions roll back their own items instead of restoring whole-table copies."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend

    # moto.dynamodb.models uses ``copy`` without exporting it: the patch is exactly that module global.
    if not isinstance(models.copy, _TablesNotCopied):  # type: ignore[attr-defined]
        models.copy = _TablesNotCopied(copy)  # type: ignore[assignment,attr-defined]
        DynamoDBBackend.transact_write_items = _transact_with_item_rollback(  # type: ignore[method-assign]
            DynamoDBBackend.transact_write_items
        )
