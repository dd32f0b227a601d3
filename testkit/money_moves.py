"""Money both ways on a deployed stack, through the API as a merchant drives it (demo, e2e chaos).

A manual payment captured in part then refunded twice (part, then the rest) and a third refund
refused; a manual payment voided; a refund the processor declines (the simulator's documented
test value ``norefund``, docs/api.md). Every request goes through API Gateway's front (the
authorizer, the routes, the request models) and each scene checks what the merchant then reads
with ``GET /payments/{id}``: status, ``amount_captured``, ``amount_refunded`` and the refunds.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from payment_core import contract

from localcloud.triggers import ApiResponse
from testkit.traffic import PlatformClient

MONEY_MERCHANT: Final = "merchant-money"
# The simulator's test value whose refunds are declined (payment_core.payments.processor, docs/api.md).
REFUND_DECLINED_REF: Final = "norefund-demo"
REFUND_FINAL: Final = frozenset({"SUCCEEDED", "FAILED"})
_TRIES = 8  # a client of an idempotent API retries a 5xx with the same request, backing off


def answered(send: Callable[[], ApiResponse], tries: int = _TRIES, seen: Counter[int] | None = None) -> ApiResponse:
    """The first answer below 500 (or the last 5xx): the same request again, as clients retry.
    ``seen`` counts every answer, the retried ones included."""
    for attempt in range(tries):
        response = send()
        if seen is not None:
            seen[response.status_code] += 1
        if response.status_code < 500:
            return response
        time.sleep(min(1 + attempt, 5))
    return response


def error_code(response: ApiResponse) -> str:
    """``error.code`` of a JSON error answer ('' for any other body)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", {}).get("code", "")) if isinstance(body, dict) else ""


@dataclass(frozen=True)
class ExpiringPayment:
    """A manual payment left uncaptured (the e2e session's ``expiring_payment``)."""

    payment_id: str
    merchant_id: str
    window_ends: float  # time.monotonic() at its creation plus the window: it expires after this


@dataclass
class Money:
    """One merchant's requests for capture, void and refunds."""

    client: PlatformClient
    merchant_id: str = MONEY_MERCHANT
    answers: Counter[int] = field(default_factory=Counter)  # every HTTP status answered, retries included

    def create(self, key: str, amount: str, customer_ref: str, capture: str) -> str:
        body = {
            "merchant_id": self.merchant_id,
            "amount": amount,
            "currency": "USD",
            "customer_ref": customer_ref,
            "capture": capture,
        }
        response = answered(lambda: self.client.create_payment(body, key), seen=self.answers)
        if response.status_code != 202:
            raise RuntimeError(f"POST /payments answered {response.status_code}: {response.body}")
        return str(response.json()["payment_id"])

    def ask(self, payment_id: str, action: str, amount: str | None = None) -> ApiResponse:
        """``POST /payments/{id}/capture`` (optionally of ``amount``) or ``/void``."""
        body = None if amount is None else {"amount": amount}
        headers = {"Content-Type": "application/json"}
        return answered(
            lambda: self.client.request(
                "POST", f"/payments/{payment_id}/{action}", body=body, headers=headers, merchant_id=self.merchant_id
            ),
            seen=self.answers,
        )

    def refund(self, payment_id: str, key: str, amount: str | None = None) -> ApiResponse:
        """``POST /payments/{id}/refunds`` (no amount: all that is left) under Idempotency-Key ``key``."""
        body: dict[str, Any] = {"reason": "returned goods"} | ({} if amount is None else {"amount": amount})
        headers = {"Content-Type": "application/json", contract.IDEMPOTENCY_KEY_HEADER: key}
        path = f"/payments/{payment_id}/{contract.REFUNDS_PATH_PART}"
        return answered(
            lambda: self.client.request("POST", path, body=body, headers=headers, merchant_id=self.merchant_id),
            seen=self.answers,
        )

    def read(self, payment_id: str) -> dict[str, Any]:
        """``GET /payments/{id}``: the payment as the merchant sees it, its refunds included."""
        response = answered(lambda: self.client.request("GET", f"/payments/{payment_id}", merchant_id=self.merchant_id))
        if response.status_code != 200:
            raise RuntimeError(f"GET /payments/{payment_id} answered {response.status_code}: {response.body}")
        body: dict[str, Any] = response.json()
        return body

    def wait(
        self, payment_id: str, done: Callable[[Mapping[str, Any]], bool], what: str, timeout: float = 180.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            payment = self.read(payment_id)
            if done(payment):
                return payment
            if time.monotonic() > deadline:
                raise TimeoutError(f"payment {payment_id} not {what} within {timeout:.0f}s: {payment['status']}")
            time.sleep(1.0)


def status_is(status: str) -> Callable[[Mapping[str, Any]], bool]:
    return lambda payment: payment.get("status") == status


def refunds_final(payment: Mapping[str, Any]) -> bool:
    return all(each["status"] in REFUND_FINAL for each in payment.get("refunds", []))


@dataclass(frozen=True)
class Step:
    scene: str
    request: str
    answer: str  # HTTP status and the answer's status or error code
    expected: str
    ok: bool


@dataclass
class MoneyMoves:
    steps: list[Step] = field(default_factory=list)
    finals: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (scene, GET /payments/{id})
    problems: list[str] = field(default_factory=list)

    def check(self, scene: str, request: str, response: ApiResponse, status: int, expected: str) -> None:
        body = response.json() if response.body.startswith("{") else {}
        said = error_code(response) or str(body.get("status", ""))
        answer = f"{response.status_code} {said}".strip()
        ok = answer == f"{status} {expected}".strip()
        self.steps.append(Step(scene, request, answer, f"{status} {expected}".strip(), ok))
        if not ok:
            self.problems.append(f"{scene}: {request} answered {answer}, expected {status} {expected}")

    def expect(self, scene: str, payment: dict[str, Any], wanted: Mapping[str, str]) -> None:
        self.finals.append((scene, payment))
        for name, value in wanted.items():
            if str(payment.get(name)) != value:
                self.problems.append(f"{scene}: {name} {payment.get(name)!r}, expected {value!r}")

    def table(self) -> list[str]:
        lines = [f"  {'scene':26} {'request':36} {'answer':32} {'expected':32} ok"]
        lines += [
            f"  {s.scene:26} {s.request:36} {s.answer:32} {s.expected:32} {'ok' if s.ok else 'NOT OK'}"
            for s in self.steps
        ]
        lines.append(f"\n  {'scene':26} {'payment_id':38} {'status':9} {'captured':>9} {'refunded':>9}  refunds")
        for scene, payment in self.finals:
            refunds = ", ".join(_refund_text(each) for each in payment.get("refunds", []))
            lines.append(
                f"  {scene:26} {payment['payment_id']:38} {payment['status']:9} "
                f"{payment['amount_captured']:>9} {payment['amount_refunded']:>9}  {refunds or '-'}"
            )
        return lines


def _refund_text(refund: Mapping[str, Any]) -> str:
    failure = f" ({refund['failure_reason']})" if "failure_reason" in refund else ""
    return f"{refund['amount']} {refund['status']}{failure}"


def _captured_then_refunded(money: Money, moves: MoneyMoves, tag: str) -> None:
    scene = "capture part, refund twice"
    payment_id = money.create(f"money-{tag}-capture", "100.00", "cust-money", contract.CAPTURE_MANUAL)
    money.wait(payment_id, status_is("AUTHORIZED"), "AUTHORIZED")
    captured = money.ask(payment_id, contract.ACTION_CAPTURE, "60.00")
    moves.check(scene, "capture 60.00 of 100.00", captured, 202, "AUTHORIZED")
    money.wait(payment_id, status_is("SETTLED"), "SETTLED")
    first = money.refund(payment_id, f"money-{tag}-refund-1", "25.00")
    moves.check(scene, "refund 25.00", first, 202, "PENDING")
    rest = money.refund(payment_id, f"money-{tag}-refund-2")
    moves.check(scene, "refund the rest (no amount)", rest, 202, "PENDING")
    third = money.refund(payment_id, f"money-{tag}-refund-3", "1.00")
    moves.check(scene, "a third refund, 1.00", third, 409, contract.REFUND_EXCEEDS_CAPTURED)
    payment = money.wait(payment_id, refunds_final, "with its refunds final")
    moves.expect(scene, payment, {"status": "SETTLED", "amount_captured": "60.00", "amount_refunded": "60.00"})
    refunds = [(each["amount"], each["status"]) for each in payment.get("refunds", [])]
    if refunds != [("25.00", "SUCCEEDED"), ("35.00", "SUCCEEDED")]:
        moves.problems.append(f"{scene}: refunds {refunds}, expected 25.00 and 35.00 SUCCEEDED")


def _voided(money: Money, moves: MoneyMoves, tag: str) -> None:
    scene = "void"
    payment_id = money.create(f"money-{tag}-void", "40.00", "cust-money", contract.CAPTURE_MANUAL)
    money.wait(payment_id, status_is("AUTHORIZED"), "AUTHORIZED")
    moves.check(scene, "void", money.ask(payment_id, contract.ACTION_VOID), 202, "AUTHORIZED")
    payment = money.wait(payment_id, status_is("VOIDED"), "VOIDED")
    refused = money.refund(payment_id, f"money-{tag}-void-refund")
    moves.check(scene, "refund after the void", refused, 409, contract.NOT_REFUNDABLE)
    moves.expect(scene, payment, {"status": "VOIDED", "amount_captured": "0.00", "amount_refunded": "0.00"})


def _refund_declined(money: Money, moves: MoneyMoves, tag: str) -> None:
    scene = "refund declined"
    payment_id = money.create(f"money-{tag}-declined", "30.00", REFUND_DECLINED_REF, contract.CAPTURE_AUTOMATIC)
    money.wait(payment_id, status_is("SETTLED"), "SETTLED")
    moves.check(scene, "refund all (norefund test value)", money.refund(payment_id, f"money-{tag}-d"), 202, "PENDING")
    payment = money.wait(payment_id, refunds_final, "with its refund final")
    moves.expect(scene, payment, {"status": "SETTLED", "amount_captured": "30.00", "amount_refunded": "0.00"})
    refunds = [(each["status"], each.get("failure_reason")) for each in payment.get("refunds", [])]
    if refunds != [("FAILED", "PaymentDeclined: insufficient_funds")]:
        moves.problems.append(f"{scene}: refunds {refunds}, expected one FAILED for insufficient_funds")


def run_money_moves(client: PlatformClient) -> MoneyMoves:
    """The three scenes, each checked; what went otherwise is in ``problems``."""
    client.onboard(MONEY_MERCHANT)
    money, moves, tag = Money(client), MoneyMoves(), uuid.uuid4().hex[:6]
    for scene in (_captured_then_refunded, _voided, _refund_declined):
        try:
            scene(money, moves, tag)
        except (RuntimeError, TimeoutError) as error:
            moves.problems.append(f"{scene.__name__.strip('_')}: {error}")
    return moves
