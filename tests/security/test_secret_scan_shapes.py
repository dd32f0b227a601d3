"""The secret scan (testkit.secret_scan) finds a webhook signing secret by its shape alone: one
nobody handed it, in any record, named by the record and never quoted; what only looks like one
(the bare prefix, too few digits, upper case) is no hit."""

from __future__ import annotations

import secrets

from payment_core import contract

from testkit.secret_scan import Record, scan


def test_a_webhook_secret_in_clear_is_a_hit_wherever_it_is_recorded() -> None:
    secret = contract.WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)
    records = [
        Record("logs:/aws/lambda/payment-api-e2e", f'{{"level":"INFO","body":{{"secret":"{secret}"}}}}'.encode()),
        Record("item:payment-events-e2e", b'{"signing_secrets":{"L":[{"M":{"ciphertext":{"B":"AQICAHh..."}}}]}}'),
        Record("file:server.log", f"webhook_delivery: signing with {secret[:-1]}\n".encode()),
    ]
    report = scan(records, {})
    assert report.hits == [("logs:/aws/lambda/payment-api-e2e", "webhook signing secret")]
    assert (report.records, report.scanned_bytes) == (
        {"logs": 1, "item": 1, "file": 1},
        sum(len(r.data) for r in records),
    )
    assert all(secret not in f"{source} {label}" for source, label in report.hits)


def test_what_only_looks_like_a_webhook_secret_is_no_hit() -> None:
    lookalikes = [
        b"the signing secret is shown once: whsec_...",
        b"whsec_" + b"0" * 63,
        b"whsec_" + b"A" * 64,
    ]
    assert scan([Record(f"file:{n}", data) for n, data in enumerate(lookalikes)], {}).hits == []


def test_needles_and_shapes_are_both_reported() -> None:
    secret = contract.WEBHOOK_SECRET_PREFIX + "ab" * 32
    record = Record("trace:1-abc", f"key sk_live_canary then {secret}".encode())
    assert scan([record], {"secret key #0": "sk_live_canary"}).hits == [
        ("trace:1-abc", "secret key #0"),
        ("trace:1-abc", "webhook signing secret"),
    ]
