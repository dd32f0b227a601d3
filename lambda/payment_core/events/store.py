"""The events table: one item per event, keyed by merchant and event id (contract.EVENTS_TABLE_KEY).

The event id starts with the event's creation time, so a merchant's events between two times are
one Query on the range key, and one event is one GetItem under the caller's merchant: another
merchant's event id simply is not found (404 like a missing one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core.events.models import Event, compact_time
from payment_core.payments.repository import condition_failed, from_attributes, to_attributes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# Range-key bounds of a time window: every id of an event created in [from, to] sorts between.
_ID_FLOOR = "evt_{}"
_ID_CEILING = "evt_{}~"


class EventStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    def put(self, event: Event) -> bool:
        """Write ``event`` unless its id is already there; True if this call wrote it."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item=to_attributes(event.to_item()),
                ConditionExpression="attribute_not_exists(event_id)",
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            raise
        return True

    def get(self, merchant_id: str, event_id: str) -> Event | None:
        response = self._client.get_item(
            TableName=self._table,
            Key=to_attributes({"merchant_id": merchant_id, "event_id": event_id}),
            ConsistentRead=True,
        )
        item = response.get("Item")
        return Event.from_item(from_attributes(item)) if item else None

    def list(
        self,
        merchant_id: str,
        created_from: str,
        created_to: str,
        event_type: str | None,
        limit: int,
        start_key: dict[str, str] | None,
    ) -> tuple[list[Event], dict[str, str] | None]:
        """One page of the merchant's events created in [from, to], oldest first, of ``event_type``
        if given (a filter: a page may hold fewer than ``limit`` and still have a next one)."""
        values: dict[str, Any] = {
            ":m": merchant_id,
            ":from": _ID_FLOOR.format(compact_time(created_from)),
            ":to": _ID_CEILING.format(compact_time(created_to)),
        }
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "merchant_id = :m AND event_id BETWEEN :from AND :to",
            "Limit": limit,
            "ScanIndexForward": True,
        }
        if event_type is not None:
            request["FilterExpression"] = "#type = :type"
            request["ExpressionAttributeNames"] = {"#type": "type"}
            values[":type"] = event_type
        request["ExpressionAttributeValues"] = to_attributes(values)
        if start_key is not None:
            request["ExclusiveStartKey"] = to_attributes(start_key)
        response = self._client.query(**request)
        events = [Event.from_item(from_attributes(item)) for item in response["Items"]]
        last = response.get("LastEvaluatedKey")
        next_key = {key: str(value) for key, value in from_attributes(last).items()} if last else None
        return events, next_key
