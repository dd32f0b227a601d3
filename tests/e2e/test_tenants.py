"""Merchants as tenants on the deployed stack, through the API driver, the real Lambda authorizer
and `make merchant`: isolation, secret-key rotation and revocation, and API Gateway's key values
authenticating nothing: the same checks `make demo` prints."""

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
        "A, new key after ROTATE=1",
        "A, old key in the overlap",
        "A, old key after REVOKE",
        "A, new key still works",
        "API Gateway's key as x-api-key",
        "API Gateway's key as bearer",
    ]


def test_no_key_or_an_unknown_key_is_refused_in_json(deployment: StackDeployment, platform: PlatformClient) -> None:
    from payment_core.tenancy.secret_keys import new_secret_key

    from localcloud.triggers import invoke_rest_api
    from testkit.traffic import bearer

    missing = invoke_rest_api(deployment.endpoint, platform.api_id, platform.stage, "GET", "/payments")
    unknown = invoke_rest_api(
        deployment.endpoint, platform.api_id, platform.stage, "GET", "/payments", headers=bearer(new_secret_key())
    )

    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "unauthorized")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (403, "forbidden")
