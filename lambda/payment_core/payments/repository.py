"""DynamoDB access for payments and their audit trail, through an injected client.

Every status change is one ``TransactWriteItems``: the payment update (conditional on the
status and version the caller read) and the audit entry (``sequence`` = the new version,
conditional on not existing). Either both happen or neither does.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.errors import InvalidTransition, PaymentInProgress
from payment_core.payments.models import (
    NO_STATUS,
    TERMINAL_STATUSES,
    AuditEntry,
    Payment,
    PaymentStatus,
    can_transition,
    format_timestamp,
    utc_now,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# The ``object`` attribute of a refund's item in the payments table (payment_core.payments.refunds).
REFUND_OBJECT: Final = "refund"
# DynamoDB's limit on keys in one BatchGetItem call.
MAX_BATCH_GET_KEYS: Final = 100


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _serializer.serialize(value) for key, value in item.items()}


def from_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _deserializer.deserialize(value) for key, value in item.items()}


def _cancelled_because(error: ClientError, reason: str) -> bool:
    """True when ``error`` is a cancelled transaction and any of its items failed for ``reason``."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    return any(each.get("Code") == reason for each in reasons)


def count_processor_attempt(client: DynamoDBClient, table: str, item: tuple[str, str], status: str) -> int:
    """Count a processor call for ``item`` (its kind, payment or refund, and its id in the payments
    table) durably before making it, while it is still ``status``; returns this attempt's number."""
    kind, item_id = item
    try:
        response = client.update_item(
            TableName=table,
            Key={"payment_id": {"S": item_id}},
            UpdateExpression="ADD processor_attempts :one",
            ConditionExpression="#status = :expected",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":one": {"N": "1"}, ":expected": {"S": status}},
            ReturnValues="UPDATED_NEW",
        )
    except ClientError as error:
        if condition_failed(error):
            raise InvalidTransition(f"{kind} {item_id} is no longer {status}") from error
        raise
    return int(from_attributes(response["Attributes"])["processor_attempts"])


def condition_failed(error: ClientError) -> bool:
    """True when a write (or any part of a transaction) failed only on its condition."""
    code = error.response.get("Error", {}).get("Code", "")
    return code == "ConditionalCheckFailedException" or _cancelled_because(error, "ConditionalCheckFailed")


def transaction_conflict(error: ClientError) -> bool:
    """True when a transaction was cancelled because another one was writing the same item.

    DynamoDB cancels it with reason ``TransactionConflict`` and does not wait: the other
    transaction may still commit, so the caller cannot yet say whether the item exists."""
    return _cancelled_because(error, "TransactionConflict")


class PaymentRepository:
    def __init__(self, client: DynamoDBClient, payments_table: str, audit_table: str) -> None:
        self._client = client
        self._payments_table = payments_table
        self._audit_table = audit_table

    def create(self, payment: Payment, actor: str) -> bool:
        """Store a new PENDING payment and its first audit entry in one call; False if the id exists.

        Raises ``PaymentInProgress`` while another request's transaction is storing the same id."""
        audit = AuditEntry(
            payment_id=payment.payment_id,
            sequence=payment.version,
            from_status=NO_STATUS,
            to_status=payment.status.value,
            at=payment.created_at,
            actor=actor,
            detail={"source": payment.source},
        )
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self._payments_table,
                            "Item": to_attributes(payment.to_item()),
                            "ConditionExpression": "attribute_not_exists(payment_id)",
                        }
                    },
                    self._append_audit(audit, payment),
                ]
            )
        except ClientError as error:
            if condition_failed(error):
                return False
            if transaction_conflict(error):
                raise PaymentInProgress(f"payment {payment.payment_id} is being stored by another request") from error
            raise
        return True

    def _append_audit(self, audit: AuditEntry, after: Payment) -> TransactWriteItemTypeDef:
        """The audit entry's half of a status change; a sequence is written once, never replaced.

        It also carries the merchant and the payment as it is after the change (``after``): the
        audit table's stream turns each entry into the merchant's event (payment_core.events),
        which then shows the payment as of this transition, whenever the stream is read."""
        item = audit.to_item() | {"merchant_id": after.merchant_id, "object": "payment", "snapshot": after.to_public()}
        return {
            "Put": {
                "TableName": self._audit_table,
                "Item": to_attributes(item),
                "ConditionExpression": "attribute_not_exists(payment_id)",
            }
        }

    def get(self, payment_id: str) -> Payment | None:
        response = self._client.get_item(
            TableName=self._payments_table,
            Key={"payment_id": {"S": payment_id}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        # A refund shares the table (its stream record starts its execution): it is not a payment.
        if not item or item.get("object", {}).get("S") == REFUND_OBJECT:
            return None
        return Payment.from_item(from_attributes(item))

    def history(self, payment_id: str) -> list[AuditEntry]:
        entries: list[AuditEntry] = []
        paginator = self._client.get_paginator("query")
        pages = paginator.paginate(
            TableName=self._audit_table,
            KeyConditionExpression="payment_id = :id",
            ExpressionAttributeValues={":id": {"S": payment_id}},
            ConsistentRead=True,
            ScanIndexForward=True,
        )
        for page in pages:
            entries.extend(AuditEntry.from_item(from_attributes(item)) for item in page["Items"])
        return entries

    def list_by_merchant(
        self,
        merchant_id: str,
        created_from: str,
        created_to: str,
        limit: int,
        start_key: dict[str, str] | None,
    ) -> tuple[list[Payment], dict[str, str] | None]:
        request: dict[str, Any] = {
            "TableName": self._payments_table,
            "IndexName": contract.MERCHANT_TIME_INDEX,
            "KeyConditionExpression": "merchant_id = :m AND created_at BETWEEN :from AND :to",
            "ExpressionAttributeValues": to_attributes({":m": merchant_id, ":from": created_from, ":to": created_to}),
            "Limit": limit,
            "ScanIndexForward": True,
        }
        if start_key is not None:
            request["ExclusiveStartKey"] = to_attributes(start_key)
        response = self._client.query(**request)
        # The index holds the keys only (a status change then rewrites nothing in it): the
        # payments themselves are read from the table, in the index's order.
        ids = [str(from_attributes(item)["payment_id"]) for item in response["Items"]]
        found = self._get_many(ids)
        payments = [found[payment_id] for payment_id in ids if payment_id in found]
        last = response.get("LastEvaluatedKey")
        next_key = {key: str(value) for key, value in from_attributes(last).items()} if last else None
        return payments, next_key

    def _get_many(self, payment_ids: list[str]) -> dict[str, Payment]:
        """The payments by id (BatchGetItem, strongly consistent), retrying what DynamoDB leaves
        unprocessed (throttling) until all are read."""
        found: dict[str, Payment] = {}
        for start in range(0, len(payment_ids), MAX_BATCH_GET_KEYS):
            keys: list[Any] = [{"payment_id": {"S": i}} for i in payment_ids[start : start + MAX_BATCH_GET_KEYS]]
            pending: dict[str, Any] = {self._payments_table: {"Keys": keys, "ConsistentRead": True}}
            for attempt in itertools.count():
                if not pending:
                    break
                if attempt:  # what DynamoDB left unprocessed, after a growing pause (as AWS advises)
                    time.sleep(min(1.0, 0.05 * 2**attempt))
                response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self._payments_table, []):
                    if item.get("object", {}).get("S") == REFUND_OBJECT:
                        continue  # a PENDING refund is in the merchant index too (refund_models.py)
                    payment = Payment.from_item(from_attributes(item))
                    found[payment.payment_id] = payment
                pending = dict(response.get("UnprocessedKeys") or {})
        return found

    def record_processor_attempt(self, payment: Payment) -> int:
        """Count a processor call durably before making it; returns this attempt's number."""
        return count_processor_attempt(
            self._client, self._payments_table, ("payment", payment.payment_id), payment.status.value
        )

    def transition(
        self,
        payment: Payment,
        target: PaymentStatus,
        actor: str,
        detail: dict[str, Any] | None = None,
        updates: Mapping[str, Any] | None = None,
        *,
        without_request: bool = False,
    ) -> Payment:
        """Move ``payment`` to ``target`` if it is still exactly as read; audit it atomically.

        ``without_request``: also only while no merchant's ask is recorded on it (an expiry must
        not overtake a capture asked at the last moment; the ask does not bump the version)."""
        if not can_transition(payment.status, target):
            raise InvalidTransition(
                f"payment {payment.payment_id} cannot go from {payment.status.value} to {target.value}"
            )
        now = format_timestamp(utc_now())
        version = payment.version + 1
        fields: dict[str, Any] = {"status": target.value, "version": version, "updated_at": now}
        fields.update(updates or {})
        names = {f"#f{index}": name for index, name in enumerate(fields)}
        values = {f":v{index}": value for index, value in enumerate(fields.values())}
        assignments = ", ".join(f"#f{index} = :v{index}" for index in range(len(fields)))
        update = f"SET {assignments}"
        if target in TERMINAL_STATUSES:
            # Out of the sparse open-payments index in the same write that makes it final: the
            # sweeper never sees a final payment, and never misses an open one.
            names["#open"] = contract.OPEN_SHARD_ATTRIBUTE
            update += " REMOVE #open"
        names["#status"] = "status"
        names["#version"] = "version"
        values[":expected_status"] = payment.status.value
        values[":expected_version"] = payment.version
        audit = AuditEntry(
            payment_id=payment.payment_id,
            sequence=version,
            from_status=payment.status.value,
            to_status=target.value,
            at=now,
            actor=actor,
            detail=detail,
        )
        changed = Payment.from_item(payment.to_item() | fields)
        try:
            self._client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self._payments_table,
                            "Key": {"payment_id": {"S": payment.payment_id}},
                            "UpdateExpression": update,
                            "ConditionExpression": "#status = :expected_status AND #version = :expected_version"
                            + (" AND attribute_not_exists(requested_action)" if without_request else ""),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_attributes(values),
                        }
                    },
                    self._append_audit(audit, changed),
                ]
            )
        except ClientError as error:
            if condition_failed(error):
                raise InvalidTransition(
                    f"payment {payment.payment_id} changed while moving to {target.value}"
                ) from error
            raise
        return changed
