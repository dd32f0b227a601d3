"""Merchants as tenants on the deployed stack (issue #11), through the API driver, the real
Lambda authorizer and `make merchant`: the same checks `make demo` prints."""

from __future__ import annotations

import pytest

from testkit.deployment import StackDeployment
from testkit.tenants import MERCHANT_A, MERCHANT_B, onboard_merchants, run_tenant_checks
from testkit.traffic import PlatformClient

pytestmark = pytest.mark.e2e


def test_two_merchants_see_only_their_own(deployment: StackDeployment, platform: PlatformClient) -> None:
    keys = onboard_merchants(deployment.endpoint, deployment.outputs, [MERCHANT_A, MERCHANT_B])

    checks = run_tenant_checks(deployment.endpoint, deployment.outputs, platform.api_id, platform.stage, keys)

    assert [(c.label, c.answer) for c in checks if not c.ok] == []
    assert [c.label for c in checks] == [
        "A creates a payment",
        "B, same Idempotency-Key",
        "  ... two payments",
        "A reads its own payment",
        "B reads A's payment",
        "A lists: only its own",
        "A names merchant B in the body",
        "card number in customer_ref",
        "B after DISABLE=1",
        "A still works",
    ]


def test_no_key_or_an_unknown_key_is_refused_in_json(deployment: StackDeployment, platform: PlatformClient) -> None:
    from localcloud.triggers import invoke_rest_api

    missing = invoke_rest_api(deployment.endpoint, platform.api_id, platform.stage, "GET", "/payments")
    unknown = invoke_rest_api(
        deployment.endpoint, platform.api_id, platform.stage, "GET", "/payments", headers={"x-api-key": "x" * 40}
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (403, "forbidden")
