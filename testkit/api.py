"""Calling the api handler as API Gateway does, and reading its answer."""

from __future__ import annotations

import json
from typing import Any

from payment_core import contract

from testkit.account import Account
from testkit.events import api_event
from testkit.handlers import FakeContext

VALID_BODY = {
    "merchant_id": "merchant-1",
    "amount": "125.50",
    "currency": "USD",
    "customer_ref": "cust-42",
    "description": "order 1001",
}


def call(account: Account, context: FakeContext, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """The api handler's status and JSON body for ``event`` (always JSON, whatever the status)."""
    response = account.handlers["api"].handler(event, context)
    assert response["multiValueHeaders"]["Content-Type"] == ["application/json"]
    return response["statusCode"], json.loads(response["body"])


def post(
    account: Account,
    context: FakeContext,
    body: dict[str, Any] | str,
    key: str | None = "key-1",
    **kwargs: Any,
) -> tuple[int, dict[str, Any]]:
    """``POST /payments`` with ``body`` (a dict is sent as JSON) and an Idempotency-Key unless ``key`` is None."""
    headers = {contract.IDEMPOTENCY_KEY_HEADER: key} if key is not None else {}
    text = body if isinstance(body, str) else json.dumps(body)
    return call(account, context, api_event("POST", "/payments", body=text, headers=headers, **kwargs))


def accepted(account: Account, context: FakeContext, key: str, **overrides: str) -> str:
    """POST a valid payment (with ``overrides``) and return its id; it must be accepted."""
    status, body = post(account, context, VALID_BODY | overrides, key=key)
    assert status == 202, body
    return str(body["payment_id"])


def workflow_step(account: Account, context: FakeContext, name: str, payment_id: str, **extra: Any) -> Any:
    """Run one workflow step as the state machine's Task does."""
    return account.handlers["workflow"].handler({"step": name, "payment_id": payment_id, **extra}, context)


def stored_payment(account: Account, payment_id: str) -> dict[str, Any]:
    [item] = [p for p in account.payments() if p["payment_id"] == payment_id]
    return item
