"""testkit.event_accounting's tally, the e2e chaos test's "one event per transition" check, on
hand-made trails and events: it must see a missing event, an extra one and a wrong type."""

from __future__ import annotations

from typing import Any

from payment_core.events.models import event_id_for

from testkit.event_accounting import tally

AT = "2026-12-03T10:00:00.000Z"
TRAILS = {
    "pay_1": [
        {"sequence": 1, "at": AT, "to_status": "PENDING", "merchant_id": "m", "object": "payment"},
        # An entry from before objects were named is a payment's.
        {"sequence": 2, "at": AT, "to_status": "SETTLED", "merchant_id": "m"},
    ],
    "re_1": [{"sequence": 1, "at": AT, "to_status": "SUCCEEDED", "merchant_id": "m", "object": "refund"}],
}


def _event(kind: str, object_id: str, sequence: int, event_type: str) -> dict[str, Any]:
    own_id = "refund_id" if kind == "refund" else "payment_id"
    return {
        "event_id": event_id_for(kind, object_id, sequence, AT),
        "type": event_type,
        "data": {"object": {"object": kind, own_id: object_id}},
    }


def test_one_event_per_transition_tallies_clean() -> None:
    events = [
        _event("payment", "pay_1", 1, "payment.created"),
        _event("payment", "pay_1", 2, "payment.settled"),
        _event("refund", "re_1", 1, "refund.succeeded"),
        _event("payment", "pay_other", 1, "payment.created"),  # another object: not counted
    ]
    result = tally(TRAILS, events)
    assert (result.objects, result.transitions, result.events) == (2, 3, 3)
    assert (result.duplicates, result.missing, result.mistyped, result.problems) == (0, 0, 0, [])


def test_a_missing_an_extra_and_a_mistyped_event_are_each_counted() -> None:
    events = [
        _event("payment", "pay_1", 1, "payment.created"),
        _event("payment", "pay_1", 3, "payment.settled"),  # no such transition; sequence 2 has none
        _event("refund", "re_1", 1, "refund.failed"),
    ]
    result = tally(TRAILS, events)
    assert (result.transitions, result.events) == (3, 3)
    assert (result.duplicates, result.missing, result.mistyped) == (1, 1, 1)
    assert [problem.split(":")[0] for problem in result.problems] == ["pay_1", "re_1"]
