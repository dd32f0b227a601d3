"""Capture and refund latency: ``POST /payments/{id}/capture`` and ``POST /payments/{id}/refunds``
through the api handler, on the moto server of ``bench.api_latency``, against a bare call.

Each request gets a payment of its own, written before the timing starts: a manual payment
resting AUTHORIZED (no execution waits on it here, so the capture's wake-up ``SendTaskSuccess``
is not part of the figure: the ask is recorded and answered) and a payment SETTLED with its
amount captured, to refund part of. The bare call is the one write each route exists for, made
directly on the same server: the capture's conditional UpdateItem (the recorded ask), the
refund's TransactWriteItems (the reservation on the payment, the refund and its audit entry).
The route's own calls made bare in a row give the handler's overhead beside them.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
from payment_core import contract
from payment_core.payments.capture import CaptureRequests
from payment_core.payments.models import Payment, PaymentStatus
from payment_core.payments.refund_models import Refund, refund_id_for
from payment_core.payments.refund_store import RefundStore
from payment_core.payments.repository import PaymentRepository, to_attributes

from bench.counter import CallCounter
from testkit.environment import TABLES
from testkit.events import api_event
from testkit.handlers import FakeContext

MERCHANT = "merchant-1"  # testkit.events.api_event's verified merchant, active in the bench account
AMOUNT = Decimal("125.50")
REFUND_AMOUNT = "20.00"
CAPTURE_AMOUNT = "100.00"
NAMES = ("capture", "refund", "update_item", "transact_write", "capture_calls", "refund_calls")
_AT = "2026-01-01T00:00:00.000Z"


def _payment(payment_id: str, status: PaymentStatus) -> Payment:
    captured = AMOUNT if status is PaymentStatus.SETTLED else None
    return Payment(
        payment_id=payment_id,
        merchant_id=MERCHANT,
        amount=AMOUNT,
        currency="USD",
        customer_ref="cust-42",
        status=status,
        version=3,
        created_at=_AT,
        updated_at=_AT,
        source="api",
        processor_ref=f"auth_{payment_id}",
        capture_method=contract.CAPTURE_MANUAL,
        amount_captured=captured,
        amount_refundable=captured,
    )


class MoneyBareCalls:
    """The same server called directly, through the domain's own write (no handler, no reads)."""

    def __init__(self, session: boto3.Session, endpoint: str) -> None:
        self.dynamodb = session.client("dynamodb", endpoint_url=endpoint)
        self.payments = TABLES[contract.PAYMENTS_TABLE_NAME]
        self.repository = PaymentRepository(self.dynamodb, self.payments, TABLES[contract.AUDIT_TABLE_NAME])
        self.requests = CaptureRequests(self.dynamodb, self.payments)
        self.refunds = RefundStore(self.dynamodb, self.payments, TABLES[contract.AUDIT_TABLE_NAME])

    def seed(self, payment_id: str, status: PaymentStatus) -> Payment:
        payment = _payment(payment_id, status)
        self.dynamodb.put_item(TableName=self.payments, Item=to_attributes(payment.to_item()))
        return payment

    def update_item(self, payment: Payment) -> None:
        """The capture's one write: the ask, if the payment rests AUTHORIZED without one."""
        if self.requests.record_ask(payment, contract.ACTION_CAPTURE, Decimal(CAPTURE_AMOUNT)) is None:
            raise RuntimeError(f"bare capture of {payment.payment_id} refused")

    def transact_write(self, payment: Payment) -> None:
        """The refund's one write: the reservation, the refund and its first audit entry."""
        self.refunds.reserve(_refund(payment, f"bare-{payment.payment_id}"), None)

    def capture_calls(self, payment: Payment) -> None:
        """What the capture route sends: the payment, then the ask."""
        self.repository.get(payment.payment_id)
        self.update_item(payment)

    def refund_calls(self, payment: Payment) -> None:
        """What the refund route sends: the payment, the refund's id (a replay?), then the reservation."""
        self.repository.get(payment.payment_id)
        self.refunds.get(refund_id_for(payment.payment_id, f"calls-{payment.payment_id}"))
        self.refunds.reserve(_refund(payment, f"calls-{payment.payment_id}"), None)


def _refund(payment: Payment, key: str) -> Refund:
    amount = Decimal(REFUND_AMOUNT)
    return Refund.pending(refund_id_for(payment.payment_id, key), payment, amount, _AT, requested=amount, reason=None)


def _answer(api: Any, event: dict[str, Any], route: str) -> None:
    response = api.handler(event, FakeContext())
    if response["statusCode"] != 202:
        raise RuntimeError(f"{route} answered {response['statusCode']}: {response['body']}")


def run_routes(
    api: Any, bare: MoneyBareCalls, counter: CallCounter, requests: int, warmup: int, timed: Any
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Latency samples (ms) per subject, and the AWS calls each route made per request."""
    samples: dict[str, list[float]] = {name: [] for name in NAMES}
    warm: dict[str, list[float]] = {name: [] for name in NAMES}
    calls = {"capture": 0, "refund": 0}
    capture_body = json.dumps({"amount": CAPTURE_AMOUNT})
    refund_body = json.dumps({"amount": REFUND_AMOUNT, "reason": "returned goods"})
    for index in range(warmup + requests):
        into = samples if index >= warmup else warm
        seeded = {
            name: bare.seed(f"pay_{name}{index:05d}", status)
            for name, status in (
                ("capture", PaymentStatus.AUTHORIZED),
                ("refund", PaymentStatus.SETTLED),
                ("update_item", PaymentStatus.AUTHORIZED),
                ("transact_write", PaymentStatus.SETTLED),
                ("capture_calls", PaymentStatus.AUTHORIZED),
                ("refund_calls", PaymentStatus.SETTLED),
            )
        }
        capture_path = f"/payments/{seeded['capture'].payment_id}/{contract.CAPTURE_PATH_PART}"
        refund_path = f"/payments/{seeded['refund'].payment_id}/{contract.REFUNDS_PATH_PART}"
        routes = (
            ("capture", api_event("POST", capture_path, body=capture_body)),
            ("refund", api_event("POST", refund_path, body=refund_body, headers={"Idempotency-Key": f"r-{index}"})),
        )
        for route, event in routes:
            counted = counter.total
            timed(into[route], _answer, api, event, route)
            calls[route] += (counter.total - counted) * (index >= warmup)
        for name in NAMES[2:]:
            timed(into[name], getattr(bare, name), seeded[name])
    return samples, {route: count / requests for route, count in calls.items()}
