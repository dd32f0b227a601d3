"""DynamoDB ``Query`` on a table's own key reads its partition in key order and stops at ``Limit``
or 1 MB, as AWS does, instead of moto's sort of the whole table.

moto 5.2.5 (``moto/dynamodb/models/table.py`` ``Table.query``) answers every query by sorting
*every item of the table* (``all_items()``, DynamoType comparisons), keeping those of the queried
partition, sorting them again, skipping item by item up to ``ExclusiveStartKey`` and only then
applying ``Limit``. The start slots table's ``WAITING`` partition holds thousands of items and is
queried with ``Limit=5`` per wake: under the scale model that query was most of the emulator's
CPU (py-spy), serialized under ``dynamodb_isolation``'s lock, so every other DynamoDB request
waited for it.

AWS (DynamoDB API reference, ``Query``): the key condition selects one partition, read in sort
key order (``ScanIndexForward`` false: descending); ``Limit`` is "the maximum number of items to
evaluate (not necessarily the number of matching items). If DynamoDB processes the number of items
up to the limit while processing the results, it stops the operation and returns the matching
values up to that point, and a key in ``LastEvaluatedKey``"; "a single Query operation will read
up to ... a maximum of 1 MB of data and then apply any filtering"; ``Count`` is after the filter,
``ScannedCount`` before it; "If LastEvaluatedKey is not empty, it does not necessarily mean that
there is more data in the result set": a page that stops at ``Limit`` carries ``LastEvaluatedKey``
even when nothing follows (seen on AWS: clarkie/dynogels#106, aws/aws-sdk-js#1981, ``Limit`` equal
to the item count). moto only returned it when another item of the partition followed, kinder
than AWS; this patch returns it whenever ``Limit`` stopped the read.

Kept as moto computes it: item sizes (``Item.size()``) and the 1 MB rule (the item that would take
the page past 1,000,000 bytes starts the next page), the filter and projection after the read,
the deep copies returned, ``ConsumedCapacity`` (moto's constant, set by the response decorator).
Index queries, the legacy ``QueryFilter``, an ``ExclusiveStartKey`` outside the queried partition
and multi-attribute keys go to moto's own code.
"""

from __future__ import annotations

import bisect
import copy
import functools
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

# The types whose key-condition matches are one run in sort order (a prefix or range of strings or
# numbers), so the read can stop at the first item past the run; for binary keys every item of
# the partition is tested, as moto does.
_CONTIGUOUS_KEY_TYPES = frozenset({"S", "N"})


def _sort_value(item: Any) -> Any:
    """What moto orders range keys by (``DynamoType.__lt__`` compares ``cast_value``: a
    ``Decimal`` for a number, the value itself for a string or binary key), computed once per
    item and without the property's type tests (the sort's whole cost on a large partition)."""
    key = item.range_key
    return Decimal(key.value) if key.type == "N" else key.value


def _partition_in_order(
    table: Any, hash_key: Any, exclusive_start_key: dict[str, Any] | None, forward: bool
) -> Iterator[Any] | None:
    """The partition's items after ``exclusive_start_key`` in the read's order; None when moto's
    own code must answer (a start key outside this partition or without the range key)."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    partition = table.items.get(hash_key)
    if not table.range_key_attr:
        if exclusive_start_key is not None:
            return None
        return iter([partition] if partition is not None else [])
    items: list[Any] = sorted(partition.values(), key=_sort_value) if partition else []
    if exclusive_start_key is None:
        return iter(items if forward else items[::-1])
    start_hash = exclusive_start_key.get(table.hash_key_attr)
    start_range = exclusive_start_key.get(table.range_key_attr)
    if start_hash is None or start_range is None or DynamoType(start_hash) != hash_key:
        return None
    start = DynamoType(start_range)
    keys = [item.range_key for item in items]
    if any(key.type != start.type for key in keys):
        return None
    values = [_sort_value(item) for item in items]
    start_value = start.cast_value
    if forward:
        after: int = bisect.bisect_right(values, start_value)
        return iter(items[after:])
    before: int = bisect.bisect_left(values, start_value)
    return iter(items[:before][::-1])


def _paged_query(original: Any) -> Any:
    @functools.wraps(original)
    def query(
        self: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: list[list[str]] | None,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        hash_key_conditions: list[Any] | None = None,
        range_key_conditions: list[Any] | None = None,
        **filter_kwargs: Any,
    ) -> tuple[list[Any], int, dict[str, Any] | None]:
        from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

        def moto_query() -> tuple[list[Any], int, dict[str, Any] | None]:
            return original(  # type: ignore[no-any-return]
                self,
                hash_key,
                range_comparison,
                range_objs,
                limit,
                exclusive_start_key,
                scan_index_forward,
                projection_expressions,
                index_name,
                consistent_read,
                filter_expression,
                hash_key_conditions=hash_key_conditions,
                range_key_conditions=range_key_conditions,
                **filter_kwargs,
            )

        if index_name or filter_kwargs or hash_key is None or len(range_key_conditions or []) > 1:
            return moto_query()
        forward = scan_index_forward is not False
        walk = _partition_in_order(self, hash_key, exclusive_start_key, forward)
        if walk is None:
            return moto_query()

        read: list[Any] = []
        read_size = 0
        last_evaluated_key = None
        in_run = False
        for item in walk:
            if range_comparison:
                if not item.range_key.compare(range_comparison, range_objs):
                    if in_run and item.range_key.type in _CONTIGUOUS_KEY_TYPES:
                        break  # past the key condition's run: nothing further matches
                    continue
                in_run = True
            size = item.size()
            if read and read_size + size > RESULT_SIZE_LIMIT:
                last_evaluated_key = self._get_last_evaluated_key(read[-1], None)
                break
            read.append(item)
            read_size += size
            if limit is not None and len(read) == limit:
                last_evaluated_key = self._get_last_evaluated_key(item, None)
                break

        scanned_count = len(read)
        results = copy.deepcopy(read)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned_count, last_evaluated_key

    query._localcloud_paged = True  # type: ignore[attr-defined]
    return query


def apply() -> None:
    from moto.dynamodb.models.table import Table

    if not getattr(Table.query, "_localcloud_paged", False):
        Table.query = _paged_query(Table.query)  # type: ignore[method-assign]
