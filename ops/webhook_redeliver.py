"""Deliver an event again: re-enqueue it for its merchant's endpoints (or one of them), on a deployed stack.

``python -m ops.webhook_redeliver --event <evt_...> --suffix <environment suffix>
[--webhook-endpoint <we_...>] [--merchant <id>] [--endpoint <AWS endpoint url>] [--region <region>]``
prints one JSON line per message queued: ``{"event_id", "merchant_id", "endpoint_id", "message_id"}``.

Each message is a fresh delivery task (its horizon starts now) on the stack's delivery queue
(``webhook-deliveries-<suffix>``), which ``webhook_delivery`` attempts as any other: signed with the
secrets in force now, recorded on the event's ``delivery_attempts``. Without ``--webhook-endpoint``
it goes to every enabled endpoint of the event's merchant that subscribes to its type; with it, to
that endpoint only (it must be the event merchant's and enabled). Without ``--merchant`` the event
is found by a Scan of the events table (an ops tool's one-off read). The target is only what the
arguments say; credentials come from boto3's usual chain. Errors print ``{"error": ...}``, exit 1.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from payment_core.events.models import is_event_id
from payment_core.payments.repository import from_attributes
from payment_core.webhooks.delivery import DeliveryTask
from payment_core.webhooks.endpoints import ENABLED, EndpointStore, is_endpoint_id


class RedeliveryError(RuntimeError):
    pass


def find_event(dynamodb: Any, table: str, event_id: str, merchant_id: str | None) -> dict[str, Any]:
    """The stored event ``event_id`` (under ``merchant_id`` if given, else found by a Scan)."""
    if merchant_id is not None:
        key = {"merchant_id": {"S": merchant_id}, "event_id": {"S": event_id}}
        item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        found = [item] if item else []
    else:
        found = []
        for page in dynamodb.get_paginator("scan").paginate(
            TableName=table,
            FilterExpression="event_id = :e",
            ExpressionAttributeValues={":e": {"S": event_id}},
            ConsistentRead=True,
        ):
            found.extend(page["Items"])
    if not found:
        raise RedeliveryError(f"event {event_id} does not exist")
    return from_attributes(found[0])


def redeliver(
    dynamodb: Any, sqs: Any, table: str, queue_url: str, event: dict[str, Any], endpoint_id: str | None
) -> list[dict[str, str]]:
    merchant_id, event_id = str(event["merchant_id"]), str(event["event_id"])
    endpoints = EndpointStore(dynamodb, table).list(merchant_id)
    if endpoint_id is not None:
        chosen = [each for each in endpoints if each.endpoint_id == endpoint_id]
        if not chosen:
            raise RedeliveryError(f"webhook endpoint {endpoint_id} is not one of {merchant_id}'s")
        if chosen[0].status != ENABLED:
            raise RedeliveryError(f"webhook endpoint {endpoint_id} is {chosen[0].status}")
    else:
        chosen = [each for each in endpoints if each.wants(str(event["type"]))]
        if not chosen:
            raise RedeliveryError(f"{merchant_id} has no enabled webhook endpoint for {event['type']}")
    now, lines = time.time(), []
    for endpoint in chosen:
        task = DeliveryTask(merchant_id, event_id, endpoint.endpoint_id, now)
        # The merchant as the fair queue's tenant, as the fan-out sends it.
        sent = sqs.send_message(QueueUrl=queue_url, MessageBody=task.to_body(), MessageGroupId=merchant_id)
        lines.append(
            {
                "event_id": event_id,
                "merchant_id": merchant_id,
                "endpoint_id": endpoint.endpoint_id,
                "message_id": str(sent["MessageId"]),
            }
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.webhook_redeliver", description=__doc__.splitlines()[0])
    parser.add_argument("--event", required=True, help="the event's id (evt_...)")
    parser.add_argument("--suffix", required=True, help="the environment suffix the stack was deployed with")
    parser.add_argument("--webhook-endpoint", default=None, help="only this endpoint (we_...)")
    parser.add_argument("--merchant", default=None, help="the event's merchant (default: found by a Scan)")
    parser.add_argument("--endpoint", default=None, help="AWS-compatible endpoint URL (default: AWS)")
    parser.add_argument("--region", default=None, help="AWS region (default: boto3's)")
    args = parser.parse_args(argv)
    if not is_event_id(args.event):
        print(json.dumps({"error": f"event must be an event id (evt_...), got {args.event!r}"}))
        return 1
    if args.webhook_endpoint is not None and not is_endpoint_id(args.webhook_endpoint):
        print(json.dumps({"error": f"webhook endpoint must be an id (we_...), got {args.webhook_endpoint!r}"}))
        return 1
    session = boto3.session.Session(region_name=args.region)
    dynamodb = session.client("dynamodb", endpoint_url=args.endpoint)
    sqs = session.client("sqs", endpoint_url=args.endpoint)
    table = f"payment-events-{args.suffix}"
    try:
        queue_url = sqs.get_queue_url(QueueName=f"webhook-deliveries-{args.suffix}")["QueueUrl"]
        event = find_event(dynamodb, table, args.event, args.merchant)
        lines = redeliver(dynamodb, sqs, table, queue_url, event, args.webhook_endpoint)
    except (RedeliveryError, ClientError, BotoCoreError) as error:
        print(json.dumps({"error": str(error)}))
        return 1
    for line in lines:
        print(json.dumps(line, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
