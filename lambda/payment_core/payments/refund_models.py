"""The refund object: what ``POST /payments/{id}/refunds`` creates and the workflow runs to an end.

A refund is an item of the payments table (``object`` = ``refund``; its key is the refund id), so
storing it writes the payments table's stream, the outbox whose ``workflow_starter`` starts the
execution named after it, exactly as for a payment. While PENDING it carries the open-payments
index's keys (``OPEN_SHARD_ATTRIBUTE`` and ``created_at``, the refund's ``created``), so the sweeper
finds it if its start was given up on or its execution failed, as it finds a payment; the write that
makes it final removes both (``RefundStore.finish``). ``created_at`` and ``merchant_id`` also put a
PENDING refund in the merchant's listing index, whose reader skips refunds
(``PaymentRepository.list_by_merchant``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import StrEnum
from typing import Any

from payment_core import contract
from payment_core.items import decode_item, optional_decimal, present
from payment_core.payments.models import Payment, open_shard
from payment_core.payments.money import format_amount
from payment_core.payments.repository import REFUND_OBJECT

_REFUND_ID_NAMESPACE = uuid.UUID("0b6f3e52-9c4d-4d0e-8f3a-6a1d2c7e9b40")


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


FINAL_REFUND_STATUSES = frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED})


def refund_id_for(payment_id: str, idempotency_key: str) -> str:
    """One refund per payment and Idempotency-Key: a retried request converges on the same refund."""
    return contract.REFUND_ID_PREFIX + uuid.uuid5(_REFUND_ID_NAMESPACE, f"{payment_id}\n{idempotency_key}").hex


def is_refund_id(value: str) -> bool:
    return value.startswith(contract.REFUND_ID_PREFIX)


@dataclass(frozen=True)
class Refund:
    """A refund as stored, and what its merchant is shown of it (``to_public``)."""

    refund_id: str
    payment_id: str
    merchant_id: str
    amount: Decimal
    currency: str
    status: RefundStatus
    version: int
    created: str
    updated: str
    # For the processor call (the simulator's outcomes follow it) and the capture it refunds.
    customer_ref: str
    processor_ref: str
    # The request's terms, to tell a replay (same key, same terms) from a conflict: the amount as
    # asked (None: what was left), and the reason.
    requested_amount: Decimal | None = None
    reason: str | None = None
    processor_attempts: int = 0
    failure_reason: str | None = None

    @classmethod
    def pending(
        cls,
        refund_id: str,
        payment: Payment,
        amount: Decimal,
        at: str,
        *,
        requested: Decimal | None,
        reason: str | None,
    ) -> Refund:
        """A new refund of ``amount`` of ``payment`` (its merchant, currency, customer and capture), as
        a request accepts it: PENDING, version 1, created ``at``; ``requested`` (the amount as asked,
        None: all that was left) and ``reason`` are the request's terms."""
        return cls(
            refund_id=refund_id,
            payment_id=payment.payment_id,
            merchant_id=payment.merchant_id,
            amount=amount,
            currency=payment.currency,
            status=RefundStatus.PENDING,
            version=1,
            created=at,
            updated=at,
            customer_ref=payment.customer_ref,
            processor_ref=payment.processor_ref or "",
            requested_amount=requested,
            reason=reason,
        )

    def moved(self, status: RefundStatus, at: str, failure_reason: str | None = None) -> Refund:
        return replace(self, status=status, version=self.version + 1, updated=at, failure_reason=failure_reason)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "payment_id": self.refund_id,  # the payments table's key
            "object": REFUND_OBJECT,
            "refund_id": self.refund_id,
            "refunded_payment_id": self.payment_id,
            "merchant_id": self.merchant_id,
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status.value,
            "version": self.version,
            "created": self.created,
            "updated": self.updated,
            "customer_ref": self.customer_ref,
            "processor_ref": self.processor_ref,
            "processor_attempts": self.processor_attempts,
        }
        item |= present(requested_amount=self.requested_amount, reason=self.reason, failure_reason=self.failure_reason)
        if self.status is RefundStatus.PENDING:
            # The sparse open-payments index's keys (contract.OPEN_PAYMENTS_INDEX_KEY): the sweeper
            # re-drives a refund stuck PENDING; RefundStore.finish removes them.
            key = contract.OPEN_PAYMENTS_INDEX_KEY
            item[key.hash_key.name] = open_shard(self.refund_id)
            item[str(key.range_key_name)] = self.created
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Refund:
        return decode_item(
            cls,
            item,
            {
                "amount": Decimal,
                "status": RefundStatus,
                "version": int,
                "requested_amount": optional_decimal,
                "processor_attempts": int,
            },
            # The payments table's key is the refund's id; the refunded payment's is stored beside it.
            attributes={"payment_id": "refunded_payment_id"},
        )

    def to_public(self) -> dict[str, Any]:
        """What the API answers, events carry and the status topic publishes (no customer_ref)."""
        public: dict[str, Any] = {
            "refund_id": self.refund_id,
            "object": REFUND_OBJECT,
            "payment_id": self.payment_id,
            "amount": format_amount(self.amount, self.currency),
            "currency": self.currency,
            "status": self.status.value,
            "created": self.created,
            "updated": self.updated,
        }
        if self.reason is not None:
            public["reason"] = self.reason
        if self.failure_reason is not None:
            public["failure_reason"] = self.failure_reason
        return public
