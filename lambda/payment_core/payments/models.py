"""Payment model, lifecycle and identifiers."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeGuard

from payment_core import contract
from payment_core.items import Decoder, as_stored, decode_item, optional_decimal, texts
from payment_core.payments.money import format_amount


class PaymentStatus(StrEnum):
    PENDING = "PENDING"
    VALIDATED = "VALIDATED"
    AUTHORIZED = "AUTHORIZED"
    SETTLED = "SETTLED"  # captured (all of the amount, or what a manual capture took)
    FAILED = "FAILED"
    VOIDED = "VOIDED"  # a manual payment's authorization released at the merchant's request
    EXPIRED = "EXPIRED"  # a manual payment not captured within the authorization window


# The audit entry of the creation uses this as its from_status.
NO_STATUS = "NONE"

ALLOWED_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset({PaymentStatus.VALIDATED, PaymentStatus.FAILED}),
    PaymentStatus.VALIDATED: frozenset({PaymentStatus.AUTHORIZED, PaymentStatus.FAILED}),
    PaymentStatus.AUTHORIZED: frozenset(
        {PaymentStatus.SETTLED, PaymentStatus.FAILED, PaymentStatus.VOIDED, PaymentStatus.EXPIRED}
    ),
    PaymentStatus.SETTLED: frozenset(),
    PaymentStatus.FAILED: frozenset(),
    PaymentStatus.VOIDED: frozenset(),
    PaymentStatus.EXPIRED: frozenset(),
}

TERMINAL_STATUSES = frozenset(
    {PaymentStatus.SETTLED, PaymentStatus.FAILED, PaymentStatus.VOIDED, PaymentStatus.EXPIRED}
)
# Attributes storage keeps that a merchant never sees: the sparse index's key, the execution's token.
# Refunds: the reservation counter (captured - pending - succeeded, what the conditional write of a
# new refund checks) and the refunds' ids (GET /payments/{id} shows the refunds themselves).
PRIVATE_ATTRIBUTES = (contract.OPEN_SHARD_ATTRIBUTE, "task_token", "amount_refundable", "refund_ids")

# Ids double as Step Functions execution names, so keep to a safe alphabet.
PAYMENT_ID_PATTERN = re.compile(contract.PAYMENT_ID_PATTERN)
MERCHANT_ID_PATTERN = re.compile(contract.MERCHANT_ID_PATTERN)

# Derived payment ids: one idempotency key always maps to one payment id, so a retry
# after a half-finished request converges on the same payment instead of a new one.
_PAYMENT_ID_NAMESPACE = uuid.UUID("6f1c2b0e-5d1a-4b8e-9a57-3c2d8e4f0a11")


def open_shard(payment_id: str) -> str:
    """The payment's partition of the sparse open-payments index (contract.OPEN_PAYMENTS_INDEX).

    A stable hash of the id, not the id's own characters: ids share a prefix (``pay_``)."""
    digest = hashlib.sha256(payment_id.encode()).digest()
    return str(int.from_bytes(digest[:4], "big") % contract.OPEN_SHARDS)


def can_transition(current: PaymentStatus, target: PaymentStatus) -> bool:
    return target in ALLOWED_TRANSITIONS[current]


def payment_id_for_idempotency_key(idempotency_key: str) -> str:
    return "pay_" + uuid.uuid5(_PAYMENT_ID_NAMESPACE, idempotency_key).hex


def is_valid_payment_id(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and PAYMENT_ID_PATTERN.fullmatch(value) is not None


def utc_now() -> datetime:
    return datetime.now(UTC)


def format_timestamp(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds, ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (sorts as text)."""
    utc = moment.astimezone(UTC)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


@dataclass(frozen=True)
class PaymentRequest:
    """A payment as submitted, before it exists (API body or batch row)."""

    merchant_id: str
    amount: Decimal
    currency: str
    customer_ref: str
    description: str | None = None
    capture_method: str = contract.CAPTURE_AUTOMATIC

    def same_terms_as(self, payment: Payment) -> bool:
        return (
            self.capture_method == payment.capture_method
            and self.merchant_id == payment.merchant_id
            and self.amount == payment.amount
            and self.currency == payment.currency
            and self.customer_ref == payment.customer_ref
            and self.description == payment.description
        )


@dataclass(frozen=True)
class Payment:
    """A payment as stored, and what its merchant is shown of it (``to_public``)."""

    payment_id: str
    merchant_id: str
    amount: Decimal
    currency: str
    customer_ref: str
    status: PaymentStatus
    version: int
    created_at: str
    updated_at: str
    source: str
    processor_attempts: int = 0
    description: str | None = None
    batch_job_id: str | None = None
    processor_ref: str | None = None
    failure_reason: str | None = None
    capture_method: str = contract.CAPTURE_AUTOMATIC
    amount_captured: Decimal | None = None  # set by the write that makes it SETTLED
    # A manual payment: what the merchant asked (contract.ACTION_*), recorded before the execution
    # waiting on ``task_token`` is woken; the workflow carries it out (Release, or Expire).
    requested_action: str | None = None
    requested_amount: Decimal | None = None
    task_token: str | None = None
    # Refunds (payment_core.payments.refunds): set by the write that makes it SETTLED
    # (amount_refundable = amount_captured), then only by refunds' transactions.
    amount_refundable: Decimal | None = None
    amount_refund_pending: Decimal | None = None
    amount_refunded: Decimal | None = None
    refund_ids: tuple[str, ...] = ()

    @classmethod
    def create(
        cls,
        payment_id: str,
        request: PaymentRequest,
        source: str,
        created_at: str,
        batch_job_id: str | None = None,
    ) -> Payment:
        return cls(
            payment_id=payment_id,
            merchant_id=request.merchant_id,
            amount=request.amount,
            currency=request.currency,
            customer_ref=request.customer_ref,
            description=request.description,
            status=PaymentStatus.PENDING,
            version=1,
            created_at=created_at,
            updated_at=created_at,
            source=source,
            batch_job_id=batch_job_id,
            capture_method=request.capture_method,
        )

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Payment:
        return decode_item(cls, item, _PAYMENT_DECODERS)

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "payment_id": self.payment_id,
            "merchant_id": self.merchant_id,
            "amount": self.amount,
            "currency": self.currency,
            "customer_ref": self.customer_ref,
            "status": self.status.value,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "source": self.source,
            "processor_attempts": self.processor_attempts,
            "capture_method": self.capture_method,
        }
        optional = {
            "description": self.description,
            "batch_job_id": self.batch_job_id,
            "processor_ref": self.processor_ref,
            "failure_reason": self.failure_reason,
            "amount_captured": self.amount_captured,
            "requested_action": self.requested_action,
            "requested_amount": self.requested_amount,
            "task_token": self.task_token,
            "amount_refundable": self.amount_refundable,
            "amount_refund_pending": self.amount_refund_pending,
            "amount_refunded": self.amount_refunded,
            "refund_ids": list(self.refund_ids) or None,
        }
        item.update({key: value for key, value in optional.items() if value is not None})
        if self.status not in TERMINAL_STATUSES:
            # Puts it in the sparse open-payments index, which the sweeper reads; the write that
            # makes it final removes it (PaymentRepository.transition).
            item[contract.OPEN_SHARD_ATTRIBUTE] = open_shard(self.payment_id)
        return item

    def to_public(self) -> dict[str, Any]:
        """JSON-ready view for API responses and notifications (amount as a string)."""
        public = self.to_item()
        for private in PRIVATE_ATTRIBUTES:
            public.pop(private, None)
        public["amount"] = format_amount(self.amount, self.currency)
        public["amount_captured"] = format_amount(self.amount_captured or Decimal(0), self.currency)
        public["amount_refunded"] = format_amount(self.amount_refunded or Decimal(0), self.currency)
        public["amount_refund_pending"] = format_amount(self.amount_refund_pending or Decimal(0), self.currency)
        if self.requested_amount is not None:
            public["requested_amount"] = format_amount(self.requested_amount, self.currency)
        return public


# How each stored attribute of a payment that is not text becomes its field (decode_item).
_PAYMENT_DECODERS: dict[str, Decoder] = {
    "amount": Decimal,
    "status": PaymentStatus,
    "version": int,
    "processor_attempts": int,
    "amount_captured": optional_decimal,
    "requested_amount": optional_decimal,
    "amount_refundable": optional_decimal,
    "amount_refund_pending": optional_decimal,
    "amount_refunded": optional_decimal,
    "refund_ids": texts,
}


@dataclass(frozen=True)
class AuditEntry:
    """One status change of a payment, in its audit trail."""

    payment_id: str
    sequence: int
    from_status: str
    to_status: str
    at: str
    actor: str
    detail: dict[str, Any] | None = None

    def to_item(self) -> dict[str, Any]:
        """Every field as stored (the field names are the attribute names); no empty ``detail``."""
        item = asdict(self)
        if not self.detail:
            del item["detail"]
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> AuditEntry:
        # ``detail`` is stored as written: a map of whatever the transition recorded.
        return decode_item(cls, item, {"sequence": int, "detail": as_stored})

    def to_public(self) -> dict[str, Any]:
        public = self.to_item()
        del public["payment_id"]
        return public
