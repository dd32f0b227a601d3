"""Merchants as tenants in the demo: onboard two merchants, show what each may see, rotate and
revoke a secret key, and show that nothing API Gateway holds authenticates.

Every check is one real request through the API driver with the merchant's own secret key
(``Authorization: Bearer sk_...``), as ``make merchant`` issued it. ``make demo`` prints the
table; tests/e2e asserts the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from payment_core import contract
from payment_core.tenancy.merchants import Merchant

from localcloud.triggers import ApiResponse, invoke_rest_api
from ops.merchant import disable, onboard, revoke, rotate
from ops.stack_target import Target
from testkit.secret_scan import remember
from testkit.traffic import PINNED_VERSION, bearer, emulator_target

MERCHANT_A = "tenant-a"
MERCHANT_B = "tenant-b"
CARD_NUMBER = "4111 1111 1111 1111"  # a network test PAN: Luhn-valid


@dataclass(frozen=True)
class TenantCheck:
    label: str
    answer: str
    ok: bool


class TenantApi:
    """Requests as one merchant: one of its secret keys on every call."""

    def __init__(self, endpoint: str, api_id: str, stage: str, secret_key: str) -> None:
        self._endpoint, self._api_id, self._stage, self._secret_key = endpoint, api_id, stage, secret_key

    def request(
        self, method: str, path: str, body: Any = None, headers: Mapping[str, str] | None = None
    ) -> ApiResponse:
        all_headers = {**PINNED_VERSION, **bearer(self._secret_key), **(headers or {})}
        return invoke_rest_api(self._endpoint, self._api_id, self._stage, method, path, body=body, headers=all_headers)

    def create(self, idempotency_key: str, **fields: str) -> ApiResponse:
        body = {"amount": "12.00", "currency": "USD", "customer_ref": "cust-t1", **fields}
        return self.request("POST", "/payments", body, {contract.IDEMPOTENCY_KEY_HEADER: idempotency_key})


def onboard_merchants(endpoint: str, outputs: Mapping[str, Any], merchant_ids: list[str]) -> dict[str, str]:
    """``make merchant`` for each id (the demo's own stack): merchant id → its first secret key."""
    target = emulator_target(endpoint, outputs)
    return {merchant_id: remember(onboard(target, merchant_id))["secret_key"] for merchant_id in merchant_ids}


def _answer(response: ApiResponse) -> str:
    body = response.json() if response.body.startswith("{") else {}
    code = (body.get("error") or {}).get("code") or body.get("status") or body.get("message") or ""
    return f"{response.status_code} {code}".strip()


def run_tenant_checks(
    endpoint: str, outputs: Mapping[str, Any], api_id: str, stage: str, keys: Mapping[str, str]
) -> list[TenantCheck]:
    a = TenantApi(endpoint, api_id, stage, keys[MERCHANT_A])
    b = TenantApi(endpoint, api_id, stage, keys[MERCHANT_B])
    checks: list[TenantCheck] = []

    def check(label: str, response: ApiResponse, ok: Callable[[ApiResponse], bool]) -> ApiResponse:
        checks.append(TenantCheck(label, _answer(response), ok(response)))
        return response

    a_created = check("A creates a payment", a.create("tenant-key-1"), lambda r: r.status_code == 202)
    b_created = check("B, same Idempotency-Key", b.create("tenant-key-1"), lambda r: r.status_code == 202)
    a_id = a_created.json().get("payment_id", "") if a_created.status_code == 202 else ""
    b_id = b_created.json().get("payment_id", "") if b_created.status_code == 202 else ""
    checks.append(
        TenantCheck("  ... two payments", f"{a_id[:12]}… / {b_id[:12]}…", bool(a_id and b_id and a_id != b_id))
    )
    check(
        "A reads its own payment",
        a.request("GET", f"/payments/{a_id}"),
        lambda r: r.status_code == 200 and r.json().get("merchant_id") == MERCHANT_A,
    )
    foreign = b.request("GET", f"/payments/{a_id}")
    missing_id = "pay_" + "0" * 32
    missing = b.request("GET", f"/payments/{missing_id}")
    check(
        "B reads A's payment",
        foreign,
        lambda r: r.status_code == 404 and r.body.replace(a_id, "<id>") == missing.body.replace(missing_id, "<id>"),
    )
    check(
        "A lists: only its own",
        a.request("GET", "/payments"),
        lambda r: r.status_code == 200 and {p["merchant_id"] for p in r.json()["items"]} == {MERCHANT_A},
    )
    check(
        "A names merchant B in the body",
        a.create("tenant-key-2", merchant_id=MERCHANT_B),
        lambda r: r.status_code == 403,
    )
    check(
        "card number in customer_ref",
        a.create("tenant-key-3", customer_ref=f"card {CARD_NUMBER}"),
        lambda r: r.status_code == 400 and "4111 1111" not in r.body,
    )
    target = emulator_target(endpoint, outputs)
    disable(target, MERCHANT_B)
    check("B after DISABLE=1", b.request("GET", f"/payments/{b_id}"), lambda r: r.status_code == 403)
    check("A still works", a.request("GET", f"/payments/{a_id}"), lambda r: r.status_code == 200)

    # Rotation: the new key works at once, the previous one until its overlap ends or it is revoked.
    old_key_id = _live_key_ids(target, MERCHANT_A)[0]
    a_new = TenantApi(endpoint, api_id, stage, remember(rotate(target, MERCHANT_A))["secret_key"])
    check("A, new key after ROTATE=1", a_new.request("GET", f"/payments/{a_id}"), lambda r: r.status_code == 200)
    check("A, old key in the overlap", a.request("GET", f"/payments/{a_id}"), lambda r: r.status_code == 200)
    revoke(target, MERCHANT_A, old_key_id)
    check("A, old key after REVOKE", a.request("GET", f"/payments/{a_id}"), lambda r: r.status_code == 403)
    check("A, new key still works", a_new.request("GET", f"/payments/{a_id}"), lambda r: r.status_code == 200)

    # What API Gateway holds (an operator's get-api-keys --include-values) authenticates nothing.
    usage_key = _api_gateway_key_value(target, MERCHANT_A)
    as_header = TenantApi(endpoint, api_id, stage, "").request(
        "GET", f"/payments/{a_id}", headers={"x-api-key": usage_key}
    )
    check("API Gateway's key as x-api-key", as_header, lambda r: r.status_code == 401)
    as_bearer = invoke_rest_api(
        endpoint, api_id, stage, "GET", f"/payments/{a_id}", headers={contract.CREDENTIAL_HEADER: f"Bearer {usage_key}"}
    )
    check("API Gateway's key as bearer", as_bearer, lambda r: r.status_code == 403)
    return checks


def _merchant(target: Target, merchant_id: str) -> Merchant:
    merchant = target.directory().get(merchant_id)
    if merchant is None:
        raise RuntimeError(f"merchant {merchant_id} was not onboarded")
    return merchant


def _live_key_ids(target: Target, merchant_id: str) -> list[str]:
    return [key.key_id for key in _merchant(target, merchant_id).secret_keys if key.revoked_at is None]


def _api_gateway_key_value(target: Target, merchant_id: str) -> str:
    merchant = _merchant(target, merchant_id)
    return str(target.client("apigateway").get_api_key(apiKey=merchant.api_key_id, includeValue=True)["value"])
