"""DynamoDB writes of refunds: every one a transaction over the refund, its audit entry and the payment.

The payment item keeps the money: ``amount_refundable`` (captured minus pending and succeeded
refunds), ``amount_refund_pending`` and ``amount_refunded``. Accepting a refund reserves its amount
with a conditional update of the payment (SETTLED, ``amount_refundable >= amount``, fewer than
``MAX_REFUNDS_PER_PAYMENT`` refunds) in the transaction that puts the refund (conditional on its id
being new) and its first audit entry: concurrent refunds that together exceed what is left cannot
all commit, and no arithmetic is done outside DynamoDB. Success moves pending to refunded; a failure
gives the reservation back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from payment_core import contract
from payment_core.errors import InvalidTransition
from payment_core.payments.models import NO_STATUS, AuditEntry, PaymentStatus
from payment_core.payments.refund_models import Refund, RefundStatus
from payment_core.payments.repository import (
    REFUND_OBJECT,
    condition_failed,
    count_processor_attempt,
    from_attributes,
    to_attributes,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

_ZERO = Decimal(0)


class RefundExists(Exception):
    """The refund's id is taken: an earlier request with the same key stored it."""


class PaymentMoved(Exception):
    """The payment's condition failed (status, what is left, the count); read it again."""


class Contended(Exception):
    """DynamoDB cancelled the transaction for another one on the same item (TransactionConflict)."""


def _reasons(error: ClientError) -> list[str]:
    return [each.get("Code", "None") for each in error.response.get("CancellationReasons", [])]


class RefundStore:
    def __init__(self, client: DynamoDBClient, payments_table: str, audit_table: str) -> None:
        self._client = client
        self._payments = payments_table
        self._audit = audit_table

    def get(self, refund_id: str) -> Refund | None:
        item = self._client.get_item(
            TableName=self._payments, Key={"payment_id": {"S": refund_id}}, ConsistentRead=True
        ).get("Item")
        if not item or item.get("object", {}).get("S") != REFUND_OBJECT:
            return None
        return Refund.from_item(from_attributes(item))

    def get_many(self, refund_ids: tuple[str, ...]) -> list[Refund]:
        """The refunds in the order given (at most MAX_REFUNDS_PER_PAYMENT: one BatchGetItem, whose
        unprocessed keys are read one by one)."""
        if not refund_ids:
            return []
        keys: list[Any] = [{"payment_id": {"S": each}} for each in refund_ids]
        response = self._client.batch_get_item(RequestItems={self._payments: {"Keys": keys, "ConsistentRead": True}})
        found = {
            refund.refund_id: refund
            for refund in (Refund.from_item(from_attributes(item)) for item in response["Responses"][self._payments])
        }
        for each in refund_ids:
            if each not in found:
                refund = self.get(each)
                if refund is not None:
                    found[each] = refund
        return [found[each] for each in refund_ids if each in found]

    def _audit_put(
        self, refund: Refund, from_status: str, actor: str, detail: dict[str, Any]
    ) -> TransactWriteItemTypeDef:
        entry = AuditEntry(
            refund.refund_id, refund.version, from_status, refund.status.value, refund.updated, actor, detail
        )
        item = entry.to_item() | {
            "merchant_id": refund.merchant_id,
            "object": REFUND_OBJECT,
            "snapshot": refund.to_public(),
        }
        return {
            "Put": {
                "TableName": self._audit,
                "Item": to_attributes(item),
                "ConditionExpression": "attribute_not_exists(payment_id)",
            }
        }

    def _payment_update(
        self, payment_id: str, update: str, values: dict[str, Any], condition: str | None = None
    ) -> TransactWriteItemTypeDef:
        operation: dict[str, Any] = {
            "TableName": self._payments,
            "Key": {"payment_id": {"S": payment_id}},
            "UpdateExpression": update,
            "ExpressionAttributeValues": to_attributes(values),
        }
        if condition is not None:
            operation["ConditionExpression"] = condition
            operation["ExpressionAttributeNames"] = {"#status": "status"}
        return {"Update": operation}  # type: ignore[typeddict-item]

    def reserve(self, refund: Refund, first_refund_of_legacy: Decimal | None) -> None:
        """Accept ``refund``: reserve its amount on the payment, put it and its audit entry.

        ``first_refund_of_legacy``: for a payment settled before refunds existed (no counter yet),
        the captured amount the counter starts from. Raises RefundExists, PaymentMoved or Contended."""
        values: dict[str, Any] = {
            ":amount": refund.amount,
            ":zero": _ZERO,
            ":settled": PaymentStatus.SETTLED.value,
            ":ids": [refund.refund_id],
            ":empty": [],
            ":max": contract.MAX_REFUNDS_PER_PAYMENT,
        }
        if first_refund_of_legacy is None:
            left = "amount_refundable = amount_refundable - :amount"
            fits = "amount_refundable >= :amount"
        else:
            values[":rest"] = first_refund_of_legacy - refund.amount
            left, fits = "amount_refundable = :rest", "attribute_not_exists(amount_refundable)"
        update = (
            f"SET {left}, amount_refund_pending = if_not_exists(amount_refund_pending, :zero) + :amount, "
            "refund_ids = list_append(if_not_exists(refund_ids, :empty), :ids)"
        )
        condition = f"#status = :settled AND {fits} AND (attribute_not_exists(refund_ids) OR size(refund_ids) < :max)"
        put: TransactWriteItemTypeDef = {
            "Put": {
                "TableName": self._payments,
                "Item": to_attributes(refund.to_item()),
                "ConditionExpression": "attribute_not_exists(payment_id)",
            }
        }
        detail = {"payment_id": refund.payment_id, "amount": str(refund.amount)}
        items = [
            self._payment_update(refund.payment_id, update, values, condition),
            put,
            self._audit_put(refund, NO_STATUS, "api", detail),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = _reasons(error)
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                raise RefundExists(refund.refund_id) from error
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise PaymentMoved(refund.payment_id) from error
            if "TransactionConflict" in reasons:
                raise Contended(refund.payment_id) from error
            raise

    def record_attempt(self, refund: Refund) -> int:
        """Count a processor call durably before making it; returns this attempt's number."""
        return count_processor_attempt(
            self._client, self._payments, ("refund", refund.refund_id), RefundStatus.PENDING.value
        )

    def finish(
        self, refund: Refund, target: RefundStatus, at: str, detail: dict[str, Any], reason: str | None = None
    ) -> Refund:
        """PENDING -> SUCCEEDED (pending becomes refunded) or FAILED (the reservation is given back),
        out of the sparse open-payments index in the same write."""
        done = refund.moved(target, at, reason)
        names = {"#status": "status", "#version": "version", "#updated": "updated"}
        values: dict[str, Any] = {
            ":target": target.value,
            ":version": done.version,
            ":at": at,
            ":pending": RefundStatus.PENDING.value,
            ":read": refund.version,
        }
        update = "SET #status = :target, #version = :version, #updated = :at"
        if reason is not None:
            values[":reason"] = reason
            update += ", failure_reason = :reason"
        # Final: out of the open-payments index (the sweeper's) and the merchant's listing index.
        key = contract.OPEN_PAYMENTS_INDEX_KEY
        names |= {"#open": key.hash_key.name, "#opened": str(key.range_key_name)}
        update += " REMOVE #open, #opened"
        money = {":amount": refund.amount, ":zero": _ZERO}
        if target is RefundStatus.SUCCEEDED:
            payment_update = (
                "SET amount_refunded = if_not_exists(amount_refunded, :zero) + :amount, "
                "amount_refund_pending = amount_refund_pending - :amount"
            )
        else:
            payment_update = (
                "SET amount_refundable = amount_refundable + :amount, "
                "amount_refund_pending = amount_refund_pending - :amount"
            )
        items: list[TransactWriteItemTypeDef] = [
            {
                "Update": {
                    "TableName": self._payments,
                    "Key": {"payment_id": {"S": refund.refund_id}},
                    "UpdateExpression": update,
                    "ConditionExpression": "#status = :pending AND #version = :read",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": to_attributes(values),
                }
            },
            self._audit_put(done, refund.status.value, "workflow", detail),
            self._payment_update(
                refund.payment_id, payment_update, {k: v for k, v in money.items() if k in payment_update}
            ),
        ]
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            if condition_failed(error):
                raise InvalidTransition(f"refund {refund.refund_id} changed while moving to {target.value}") from error
            raise
        return done
