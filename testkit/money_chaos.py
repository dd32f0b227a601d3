"""Captures, voids and refunds under injected faults (tests/e2e/test_chaos.py), and their accounting.

Manual payments are captured in part or voided, automatic ones refunded in part then the rest
(a third refund refused), one refund declined by the processor (the ``norefund`` test value),
every request through the API and retried on a 5xx with the same terms, as a client does; each
payment's flow in a thread of its own, each step as soon as the one before is done. At the
end, read from the tables: every refund final as its terms say; captured <= authorized; succeeded
+ pending refunds <= captured, pending none left, and the payment's counters equal its refunds;
nothing captured or refunded on a voided payment; exactly one terminal audit entry per payment
and per refund, each naming the processor's reference once. The simulator's ledger lives in each
workflow Lambda environment's memory (payment_core.payments.processor), out of the test's reach on
a deployed stack: the audit trail is what shows each operation id carried out once there.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from payment_core import contract

from testkit.money_moves import REFUND_DECLINED_REF, REFUND_FINAL, Money, error_code
from testkit.traffic import PlatformClient

MANUAL: Final = 6  # every other one captured in part, the rest voided
AUTOMATIC: Final = 4  # the last one with the refund-declined test value
AUTHORIZED_AMOUNT: Final = Decimal("20.00")
CAPTURE_AMOUNT: Final = Decimal("12.00")
REFUND_AMOUNT: Final = Decimal("5.00")
_PAYMENT_FINAL = frozenset({"SETTLED", "VOIDED", "FAILED", "EXPIRED"})
_PROCESSOR_REFERENCE = {"SETTLED": "capture_ref", "VOIDED": "void_ref"}  # in the terminal audit entry's detail


@dataclass
class MoneyTraffic:
    """What was asked, and what each thing must end as."""

    payments: dict[str, str] = field(default_factory=dict)  # payment id -> expected final status
    refunds: dict[str, tuple[str, str]] = field(default_factory=dict)  # refund id -> (payment id, final)
    refused: Counter[str] = field(default_factory=Counter)  # refunds refused: error code -> count
    answers: Counter[int] = field(default_factory=Counter)  # every HTTP answer, the retried 5xx included
    problems: list[str] = field(default_factory=list)
    done_at: float = 0.0  # time.monotonic() of the last request's answer


def _wait(
    client: PlatformClient, ids: Sequence[str], done: Callable[[Mapping[str, Any]], bool], timeout: float
) -> dict[str, dict[str, Any]]:
    """Reads the items (one BatchGetItem per round) until ``done`` holds for each, or the timeout."""
    deadline = time.monotonic() + timeout
    while True:
        items = client.payments(ids)
        if all(item is not None and done(item) for item in items.values()) or time.monotonic() > deadline:
            return {key: item or {} for key, item in items.items()}
        time.sleep(_POLL_SECONDS)


def _accepted(traffic: MoneyTraffic, what: str, response: Any, status: int = 202) -> dict[str, Any]:
    if response.status_code != status:
        traffic.problems.append(f"{what}: HTTP {response.status_code} {response.body[:200]}")
        return {}
    body: dict[str, Any] = response.json()
    return body


def _refund(traffic: MoneyTraffic, money: Money, payment_id: str, key: str, amount: str | None, final: str) -> None:
    body = _accepted(traffic, f"refund {key}", money.refund(payment_id, key, amount))
    if body:
        traffic.refunds[str(body["refund_id"])] = (payment_id, final)


CAPTURED, VOIDED, REFUNDED, DECLINED = "captured", "voided", "refunded", "declined"
# (kind, how many): manual payments captured in part or voided; automatic ones refunded in part
# then the rest (a third refused), one with the refund-declined test value.
FLOWS: Final = ((CAPTURED, MANUAL // 2), (VOIDED, MANUAL - MANUAL // 2), (REFUNDED, AUTOMATIC - 1), (DECLINED, 1))
_POLL_SECONDS = 2.0  # each flow reads its own payment: ten readers, not one per second each


def _flow(client: PlatformClient, merchant_id: str, tag: str, kind: str, n: int, timeout: float) -> MoneyTraffic:
    """One payment's life, each step as soon as the one before it is done: money moves during the faults."""
    traffic, money = MoneyTraffic(), Money(client, merchant_id)
    manual = kind in (CAPTURED, VOIDED)
    ref = REFUND_DECLINED_REF if kind == DECLINED else f"cust-{kind}-{n}"
    method = contract.CAPTURE_MANUAL if manual else contract.CAPTURE_AUTOMATIC
    payment_id = money.create(f"money-{tag}-{kind}-{n}", str(AUTHORIZED_AMOUNT), ref, method)
    traffic.payments[payment_id] = "VOIDED" if kind == VOIDED else "SETTLED"
    try:
        if manual:
            item = _wait(client, [payment_id], lambda item: item["status"] not in ("PENDING", "VALIDATED"), timeout)
            if item[payment_id].get("status") != "AUTHORIZED":
                traffic.problems.append(f"manual payment {payment_id} is {item[payment_id].get('status')}")
                return traffic
            amount = str(CAPTURE_AMOUNT) if kind == CAPTURED else None
            action = contract.ACTION_CAPTURE if kind == CAPTURED else contract.ACTION_VOID
            _accepted(traffic, f"{action} {payment_id}", money.ask(payment_id, action, amount))
            if kind == VOIDED:
                return traffic
        item = _wait(client, [payment_id], lambda item: item["status"] in _PAYMENT_FINAL, timeout)
        if item[payment_id].get("status") != "SETTLED":
            return traffic  # the final check names it
        key = f"money-{tag}-{payment_id}"
        if kind == REFUNDED:
            _refund(traffic, money, payment_id, f"{key}-1", str(REFUND_AMOUNT), "SUCCEEDED")
            _refund(traffic, money, payment_id, f"{key}-2", None, "SUCCEEDED")
            third = money.refund(payment_id, f"{key}-3", "0.01")
            traffic.refused[error_code(third) or str(third.status_code)] += 1
        elif kind == DECLINED:
            _refund(traffic, money, payment_id, f"{key}-1", None, "FAILED")
        else:
            _refund(traffic, money, payment_id, f"{key}-1", str(REFUND_AMOUNT), "SUCCEEDED")
        return traffic
    finally:
        traffic.answers = money.answers
        traffic.done_at = time.monotonic()


def money_traffic(client: PlatformClient, merchant_id: str, tag: str, timeout: float) -> MoneyTraffic:
    """Every flow at once (a thread each); what was asked, merged."""
    flows = [(kind, n) for kind, count in FLOWS for n in range(count)]
    merged = MoneyTraffic()
    with ThreadPoolExecutor(max_workers=len(flows)) as pool:
        for part in pool.map(lambda flow: _flow(client, merchant_id, tag, flow[0], flow[1], timeout), flows):
            merged.payments |= part.payments
            merged.refunds |= part.refunds
            merged.refused += part.refused
            merged.answers += part.answers
            merged.problems += part.problems
            merged.done_at = max(merged.done_at, part.done_at)
    return merged


def _amount(item: Mapping[str, Any], name: str) -> Decimal:
    return Decimal(item.get(name) or 0)


def money_invariants(client: PlatformClient, traffic: MoneyTraffic, timeout: float) -> tuple[list[str], Counter[str]]:
    """(what does not hold, the outcome counts): every refund final first, then the money."""
    problems = list(traffic.problems)
    refunds = _wait(client, list(traffic.refunds), lambda item: item["status"] in REFUND_FINAL, timeout)
    payments = client.payments(list(traffic.payments))
    outcome: Counter[str] = Counter()
    for refund_id, (payment_id, final) in traffic.refunds.items():
        status = refunds[refund_id].get("status")
        outcome[f"refund {status}"] += 1
        if status != final:
            problems.append(f"refund {refund_id} of {payment_id} is {status}, expected {final}")
    for payment_id, final in traffic.payments.items():
        item = payments[payment_id] or {}
        outcome[f"payment {item.get('status')}"] += 1
        if item.get("status") != final:
            problems.append(f"payment {payment_id} is {item.get('status')}, expected {final}")
        captured, refunded = _amount(item, "amount_captured"), _amount(item, "amount_refunded")
        pending = _amount(item, "amount_refund_pending")
        own = [refunds[rid] for rid, (pid, _) in traffic.refunds.items() if pid == payment_id]
        succeeded = sum((_amount(each, "amount") for each in own if each.get("status") == "SUCCEEDED"), Decimal(0))
        if not captured <= _amount(item, "amount") or refunded + pending > captured or pending:
            problems.append(f"payment {payment_id}: captured {captured}, refunded {refunded}, pending {pending}")
        if refunded != succeeded:
            problems.append(f"payment {payment_id}: amount_refunded {refunded}, its succeeded refunds {succeeded}")
        if final == "VOIDED" and (captured or item.get("refund_ids")):
            problems.append(f"voided payment {payment_id} has captured {captured}, refunds {item.get('refund_ids')}")
        # A manual payment's capture or void names the processor's reference (automatic: Record, none).
        manual = item.get("capture_method") == contract.CAPTURE_MANUAL
        reference = _PROCESSOR_REFERENCE.get(final) if manual else None
        problems += _audited_once(client, payment_id, _PAYMENT_FINAL, reference)
    for refund_id in traffic.refunds:
        done = refunds[refund_id].get("status") == "SUCCEEDED"
        problems += _audited_once(client, refund_id, REFUND_FINAL, "refund_ref" if done else None)
    return problems, outcome


def _audited_once(client: PlatformClient, object_id: str, finals: frozenset[str], reference: str | None) -> list[str]:
    """One terminal audit entry, and (for an operation the processor carried out) its reference."""
    terminal = [entry for entry in client.audit_trail(object_id) if entry["to_status"] in finals]
    if len(terminal) != 1:
        return [f"{object_id}: {len(terminal)} terminal audit entries"]
    if reference is not None and reference not in (terminal[0].get("detail") or {}):
        return [f"{object_id}: its terminal audit entry names no {reference}: {terminal[0].get('detail')}"]
    return []
