"""The demo's traffic and what each request must come to; ``make demo`` and tests/e2e share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApiScenario:
    label: str
    body: dict[str, str] | str
    idempotency_key: str
    expected_http: int
    expected_final: str | None  # None: no payment may be created


def _body(merchant: str, amount: str, currency: str, customer_ref: str) -> dict[str, str]:
    return {"merchant_id": merchant, "amount": amount, "currency": currency, "customer_ref": customer_ref}


VALID = _body("merchant-001", "25.00", "USD", "cust-001")

API_SCENARIOS = (
    ApiScenario("approved card", VALID, "demo-key-1", 202, "SETTLED"),
    ApiScenario("same Idempotency-Key, same body", VALID, "demo-key-1", 202, "SETTLED"),
    ApiScenario(
        "same Idempotency-Key, other body", _body("merchant-001", "26.00", "USD", "cust-001"), "demo-key-1", 409, None
    ),
    ApiScenario(
        "processor declines", _body("merchant-001", "10.00", "EUR", "decline-002"), "demo-key-2", 202, "FAILED"
    ),
    ApiScenario(
        "processor times out twice", _body("merchant-002", "1500", "JPY", "flaky-003"), "demo-key-3", 202, "SETTLED"
    ),
    ApiScenario("blocked merchant", _body("merchant-blocked", "5.00", "GBP", "cust-004"), "demo-key-4", 202, "FAILED"),
    ApiScenario("too many decimals", _body("merchant-001", "1.234", "USD", "cust-005"), "demo-key-5", 400, None),
    ApiScenario("unknown currency", _body("merchant-001", "1.00", "XYZ", "cust-006"), "demo-key-6", 400, None),
    ApiScenario("not JSON", "{not json", "demo-key-7", 400, None),
)

BATCH_NAME = "demo-batch.csv"
# payment_id, merchant_id, amount, currency, customer_ref
BATCH_ROWS = (
    ("batch-0001", "merchant-010", "12.50", "USD", "cust-b1"),
    ("batch-0002", "merchant-010", "99.99", "EUR", "cust-b2"),
    ("batch-0003", "merchant-011", "7", "JPY", "decline-b3"),
    ("batch-0004", "merchant-011", "0.00", "USD", "cust-b4"),
    ("batch-0005", "merchant-012", "3.50", "ABC", "cust-b5"),
    ("batch-0001", "merchant-012", "1.00", "USD", "cust-b6"),
    ("batch-0007", "merchant-012", "1,000.00", "USD", "cust-b7"),
    ("batch-0008", "merchant-013", "250.00", "GBP", "flaky-b8"),
)
# Data rows 4-7 (CSV rows 5-8: zero amount, unknown currency, duplicate id, malformed amount) are rejected.
BATCH_EXPECTED_FINAL = {
    "batch-0001": "SETTLED",
    "batch-0002": "SETTLED",
    "batch-0003": "FAILED",
    "batch-0008": "SETTLED",
}
BATCH_EXPECTED_REJECTED = 4
