"""The emulator's item size (``patches/dynamodb_item_size.py``) is moto's, number for number.

moto's ``DynamoType.size`` decides where a ``Query``/``Scan`` page (1 MB) and a ``BatchGetItem``
(16 MB) stop; the patch computes it without rebuilding the value. Here both size the same values
(this process never applies the patch: moto's own method is the reference).
"""

from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import DynamoType, Item

from localcloud.patches.dynamodb_item_size import size

VALUES: list[dict[str, Any]] = [
    {"S": ""},
    {"S": "plain"},
    {"S": "é€😀 multi-byte"},
    {"N": "0"},
    {"N": "-12.50"},
    {"N": "1E+10"},
    {"B": "AP9yYXc="},
    {"B": b"\x00\xffraw"},
    {"BOOL": True},
    {"BOOL": False},
    {"NULL": True},
    {"SS": ["a", "é", "longer string"]},
    {"NS": ["1", "2.5", "-300"]},
    {"BS": ["AQ==", b"\x02\x03"]},
    {"L": []},
    {"M": {}},
    {"L": [{"S": "one"}, {"N": "2"}, {"L": [{"BOOL": False}, {"NULL": True}]}, {"SS": ["z"]}]},
    {
        "M": {
            "inner": {"B": b"\x10"},
            "deep": {"M": {"l": {"L": [{"N": "3"}, {"M": {"é": {"S": "x" * 300}}}]}}},
            "history": {"L": [{"M": {"at": {"S": "2026-12-03T10:00:00Z"}, "n": {"N": str(i)}}} for i in range(12)]},
        }
    },
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: next(iter(value)))
def test_each_value_is_sized_as_moto_sizes_it(value: dict[str, Any]) -> None:
    assert size(DynamoType(value)) == DynamoType(value).size()


def test_a_whole_item_is_sized_as_moto_sizes_it() -> None:
    attributes = {f"attribute_{n}": value for n, value in enumerate(VALUES)}
    item = Item(DynamoType({"S": "key"}), None, attributes)
    expected = item.size()
    assert sum(len(name.encode()) + size(value) for name, value in item.attrs.items()) == expected
    assert expected > 300  # the 300-character string is counted, at its depth
