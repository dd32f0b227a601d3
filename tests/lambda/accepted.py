"""A payment accepted through the api handler, as the handler suites that need one start it."""

from __future__ import annotations

import json
from typing import Any

from testkit.events import api_event


def accept(
    aws: Any, context: Any, key: str, customer_ref: str = "cust-1", merchant_id: str | None = "merchant-1"
) -> str:
    """POST /payments (10.00 USD) with Idempotency-Key ``key``; asserts 202, returns the payment id.
    ``merchant_id`` None sends none in the body (the caller's own merchant, from the authorizer)."""
    body = {"amount": "10.00", "currency": "USD", "customer_ref": customer_ref}
    if merchant_id is not None:
        body["merchant_id"] = merchant_id
    event = api_event("POST", "/payments", body=json.dumps(body), headers={"Idempotency-Key": key})
    response = aws.handlers["api"].handler(event, context)
    assert response["statusCode"] == 202
    return str(json.loads(response["body"])["payment_id"])
