"""An authorization expires by itself (#19): a manual payment never captured is voided when its
window (AwaitCapture's TimeoutSeconds) runs out, with no request from anyone.

The session deploys with AUTHORIZATION_WINDOW_SECONDS=240 (tests/e2e/conftest.py), a real
deployment setting, and creates the payment before the first test (the ``expiring_payment``
fixture); this test runs after the traffic (~4-8 min later), so it normally only reads. If the
window has not run out yet (this file run alone), it waits for it, bounded by the window plus the
time the timeout and the Expire step may take under load.

It failed in its first whole-suite run (the payment still AUTHORIZED 15 min after its creation):
AwaitCapture's catcher had lost its ResultPath in the synthesized definition, so Expire got the
timeout error instead of the payment and failed. tests/unit/test_workflow_synth.py now checks the
synthesized catchers; this test checks the whole path on a deployment.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from payment_core import contract

from testkit.event_accounting import one_event_per_transition
from testkit.money_moves import ExpiringPayment, Money, status_is
from testkit.traffic import PlatformClient

pytestmark = [pytest.mark.e2e, pytest.mark.after_traffic]
# After the window: the task's timeout to fire, then the Expire step's void and transition.
EXPIRE_GRACE_SECONDS = 180
# The event writer drains the audit stream on its own pace: after the traffic it has caught up.
EVENTS_WAIT_SECONDS = 60


def test_an_authorization_not_captured_expires_by_itself(
    platform: PlatformClient, expiring_payment: ExpiringPayment, report: Callable[[str], None]
) -> None:
    payment_id, money = expiring_payment.payment_id, Money(platform, expiring_payment.merchant_id)
    window_left = expiring_payment.window_ends - time.monotonic()
    payment = money.wait(payment_id, status_is("EXPIRED"), "expired", max(window_left, 0) + EXPIRE_GRACE_SECONDS)
    report(f"expiry: {payment_id} EXPIRED, read {-window_left:.0f} s after its window ended")
    assert payment["capture_method"] == contract.CAPTURE_MANUAL
    assert (payment["amount"], payment["amount_captured"], payment["amount_refunded"]) == ("9.00", "0.00", "0.00")

    trail = platform.audit_trail(payment_id)
    assert [entry["to_status"] for entry in trail] == ["PENDING", "VALIDATED", "AUTHORIZED", "EXPIRED"]
    assert trail[-1]["detail"]["action"] == "expire" and trail[-1]["detail"]["void_ref"]
    # The expiry is published like any transition: one event each, of its derived type (the
    # last one payment.expired), none missing, none twice.
    events, _ = one_event_per_transition(platform, {payment_id: trail}, EVENTS_WAIT_SECONDS)
    assert (events.transitions, events.events, events.missing, events.mistyped) == (4, 4, 0, 0), events.problems

    # Nothing is captured after an expiry: the API refuses it as for any payment not AUTHORIZED.
    refused = money.ask(payment_id, contract.ACTION_CAPTURE)
    assert refused.status_code == 409, refused.body
    assert refused.json() == {
        "error": {"code": contract.NOT_CAPTURABLE, "message": f"payment {payment_id} is EXPIRED, not AUTHORIZED"}
    }
    assert money.read(payment_id)["amount_captured"] == "0.00"
