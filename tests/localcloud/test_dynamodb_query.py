"""Query on a table's key pages as the DynamoDB API reference says (``patches/dynamodb_query.py``).

AWS (API reference, ``Query``): items of one partition in sort key order, descending with
``ScanIndexForward=false``; ``Limit`` is the number of items *evaluated* (before the filter),
and a read stopped by ``Limit`` or by the 1 MB page size returns ``LastEvaluatedKey``, also when
nothing follows ("If LastEvaluatedKey is not empty, it does not necessarily mean that there is
more data"); ``Count`` is after the filter, ``ScannedCount`` before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

PARTITION = "WAITING"
ITEMS = 1_200
# moto's size of an item: attribute names plus values (Item.size()); 1 MB is 1,000,000 bytes there.
PAGE_BYTES = 1_000_000


def _sort_key(n: int) -> str:
    return f"2026-12-03T10:{n // 60:02d}:{n % 60:02d}.{n:06d}Z#pay_{n:05d}"


def _create_keyed_table(dynamodb: Any, name: str, sort_key_type: str) -> None:
    """A table keyed (pk: S, sk: ``sort_key_type``), billed per request."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": sort_key_type},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def sorted_table(aws: Callable[[str], Any]) -> Iterator[tuple[Any, str]]:
    dynamodb = aws("dynamodb")
    name = "query-paging"
    _create_keyed_table(dynamodb, name, sort_key_type="S")
    # Written out of order, with neighbouring partitions before and after the queried one.
    items = [
        {"pk": {"S": PARTITION}, "sk": {"S": _sort_key(n)}, "n": {"N": str(n)}}
        for n in sorted(range(ITEMS), key=lambda n: (n * 7919) % ITEMS)
    ]
    items += [
        {"pk": {"S": other}, "sk": {"S": _sort_key(n)}, "n": {"N": "-1"}}
        for other in ("IN_FLIGHT", "ZZZ")
        for n in range(20)
    ]
    # In BatchWriteItem's 25-item batches, in that order: one request per item cost each xdist
    # worker that builds this module's table ~13 s of the localcloud suite.
    for start in range(0, len(items), 25):
        batch = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        unprocessed = dynamodb.batch_write_item(RequestItems={name: batch})["UnprocessedItems"]
        assert not unprocessed, unprocessed
    yield dynamodb, name
    dynamodb.delete_table(TableName=name)


def _pages(dynamodb: Any, request: dict[str, Any]) -> list[dict[str, Any]]:
    pages = []
    while True:
        page = dynamodb.query(**request)
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        request = request | {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def _request(name: str, **extra: Any) -> dict[str, Any]:
    values = {":p": {"S": PARTITION}} | extra.pop("values", {})
    return {
        "TableName": name,
        "KeyConditionExpression": extra.pop("key", "pk = :p"),
        "ExpressionAttributeValues": values,
        "ConsistentRead": True,
    } | extra


@pytest.mark.parametrize("forward", [True, False])
def test_limit_pages_walk_the_partition_in_key_order(sorted_table: tuple[Any, str], forward: bool) -> None:
    dynamodb, name = sorted_table
    pages = _pages(dynamodb, _request(name, Limit=100, ScanIndexForward=forward))
    expected = [_sort_key(n) for n in range(ITEMS)]
    if not forward:
        expected.reverse()
    assert [item["sk"]["S"] for page in pages for item in page["Items"]] == expected
    # 1,200 = 12 full pages, each stopped by Limit (so each has a key, the twelfth too: AWS does
    # not look ahead), then an empty last page without one.
    assert [page["Count"] for page in pages] == [100] * 12 + [0]
    assert all(page["LastEvaluatedKey"]["sk"] == page["Items"][-1]["sk"] for page in pages[:12])
    assert set(pages[0]["LastEvaluatedKey"]) == {"pk", "sk"}


def test_limit_counts_items_before_the_filter(sorted_table: tuple[Any, str]) -> None:
    dynamodb, name = sorted_table
    page = dynamodb.query(
        **_request(name, Limit=10, FilterExpression="n >= :from", values={":from": {"N": "7"}}),
    )
    # Ten items evaluated (0..9), three kept by the filter, the key is the tenth evaluated item.
    assert [item["n"]["N"] for item in page["Items"]] == ["7", "8", "9"]
    assert (page["Count"], page["ScannedCount"]) == (3, 10)
    assert page["LastEvaluatedKey"]["sk"] == {"S": _sort_key(9)}

    nothing_kept = dynamodb.query(**_request(name, Limit=5, FilterExpression="n < :none", values={":none": {"N": "0"}}))
    assert (nothing_kept["Count"], nothing_kept["ScannedCount"], nothing_kept["Items"]) == (0, 5, [])
    assert nothing_kept["LastEvaluatedKey"]["sk"] == {"S": _sort_key(4)}


@pytest.mark.parametrize("forward", [True, False])
def test_the_key_condition_bounds_the_read(sorted_table: tuple[Any, str], forward: bool) -> None:
    dynamodb, name = sorted_table
    between = {":p": {"S": PARTITION}, ":lo": {"S": _sort_key(500)}, ":hi": {"S": _sort_key(529)}}
    pages = _pages(
        dynamodb,
        _request(name, key="pk = :p AND sk BETWEEN :lo AND :hi", values=between, Limit=10, ScanIndexForward=forward),
    )
    expected = [_sort_key(n) for n in range(500, 530)]
    if not forward:
        expected.reverse()
    assert [item["sk"]["S"] for page in pages for item in page["Items"]] == expected
    assert [page["ScannedCount"] for page in pages] == [10, 10, 10, 0]

    prefix = dynamodb.query(
        **_request(name, key="pk = :p AND begins_with(sk, :minute)", values={":minute": {"S": "2026-12-03T10:03:"}})
    )
    assert [item["n"]["N"] for item in prefix["Items"]] == [str(n) for n in range(180, 240)]
    assert "LastEvaluatedKey" not in prefix


def test_other_partitions_are_not_read(sorted_table: tuple[Any, str]) -> None:
    dynamodb, name = sorted_table
    page = dynamodb.query(**_request(name, values={":p": {"S": "IN_FLIGHT"}}))
    assert (page["Count"], page["ScannedCount"]) == (20, 20)
    assert {item["pk"]["S"] for item in page["Items"]} == {"IN_FLIGHT"}
    assert "LastEvaluatedKey" not in page
    empty = dynamodb.query(**_request(name, values={":p": {"S": "NOBODY"}}, Limit=5))
    assert (empty["Count"], empty["Items"]) == (0, [])
    assert "LastEvaluatedKey" not in empty


def test_a_page_stops_at_one_megabyte(aws: Callable[[str], Any]) -> None:
    dynamodb = aws("dynamodb")
    name = "query-one-megabyte"
    _create_keyed_table(dynamodb, name, sort_key_type="N")
    try:
        pad = "x" * 150_000  # ~150 kB an item: 6 fit in 1 MB, a 7th does not
        for n in range(15):
            dynamodb.put_item(TableName=name, Item={"pk": {"S": "big"}, "sk": {"N": str(n)}, "pad": {"S": pad}})
        request = {
            "TableName": name,
            "KeyConditionExpression": "pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "big"}},
        }
        pages = _pages(dynamodb, request)
        item_bytes = len("pk") + len("big") + len("sk") + 1 + len("pad") + len(pad)
        assert [page["Count"] for page in pages] == [6, 6, 3]
        assert all(page["Count"] * item_bytes <= PAGE_BYTES < (page["Count"] + 1) * item_bytes for page in pages[:2])
        assert [int(item["sk"]["N"]) for page in pages for item in page["Items"]] == list(range(15))
        assert pages[0]["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"N": "5"}}
        # The filter runs after the read: a filter keeping nothing still stops at 1 MB.
        nothing_kept = {":p": {"S": "big"}, ":none": {"N": "-1"}}
        filtered = dynamodb.query(
            **request | {"FilterExpression": "sk < :none", "ExpressionAttributeValues": nothing_kept}
        )
        assert (filtered["Count"], filtered["ScannedCount"]) == (0, 6)
        assert filtered["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": {"N": "5"}}
    finally:
        dynamodb.delete_table(TableName=name)
