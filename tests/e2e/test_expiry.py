"""An authorization expires by itself (#19): a manual payment never captured is voided when its
window (AwaitCapture's TimeoutSeconds) runs out, with no request from anyone.

The session deploys with AUTHORIZATION_WINDOW_SECONDS=300 (tests/e2e/conftest.py), a real
deployment setting, and creates the payment before the first test (the ``expiring_payment``
fixture); this test runs after the traffic (~10 min later), so it normally only reads. If the
window has not run out yet, it waits for it, bounded by the window plus the time the timeout and
the Expire step may take under load.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from payment_core import contract

from testkit.money_moves import ExpiringPayment, Money, error_code, status_is
from testkit.traffic import PlatformClient

pytestmark = [pytest.mark.e2e, pytest.mark.after_traffic]
# After the window: the task's timeout to fire, then the Expire step's void and transition.
EXPIRE_GRACE_SECONDS = 180


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
    # Nothing is captured after an expiry: the API refuses it as for any payment not AUTHORIZED.
    refused = money.ask(payment_id, contract.ACTION_CAPTURE)
    assert (refused.status_code, error_code(refused)) == (409, contract.NOT_CAPTURABLE), refused.body
