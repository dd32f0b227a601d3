"""After the run's traffic, nothing the local cloud recorded holds a secret key or a card number.

Runs after every other traffic test (marker ``after_traffic``), on the session's deployment: the
secret keys are every one the harness issued during the run (``testkit.secret_scan.remember``);
the card numbers are the test PAN the tenant checks send and the forms this test sends itself.
A canary sent through the API and a secret key, a webhook signing secret and a PEM private key
planted in a log stream prove the scan reads what it claims to: all are found, and they are the
only hits (a webhook secret or a private key is found by its shape, whichever test made it:
testkit.secret_scan.SECRET_SHAPES).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from payment_core import contract
from payment_core.tenancy.secret_keys import SECRET_KEY_PREFIX

from testkit.deployment import StackDeployment
from testkit.secret_scan import (
    ISSUED_SECRET_KEYS,
    file_records,
    log_records,
    scan,
    stage_records,
    table_records,
    trace_records,
    waf_records,
)
from testkit.tenants import CARD_NUMBER
from testkit.traffic import PlatformClient

pytestmark = [pytest.mark.e2e, pytest.mark.after_traffic]

DIGITS = CARD_NUMBER.replace(" ", "")
# The forms the screen must refuse (docs/security.md): spaced, plain, dotted, full-width digits.
CARD_FORMS = {
    "card spaced": CARD_NUMBER,
    "card digits": DIGITS,
    "card dotted": ".".join(DIGITS[i : i + 4] for i in range(0, 16, 4)),
    "card full-width": "".join(chr(ord(d) - ord("0") + 0xFF10) for d in DIGITS),  # U+FF10: full-width 0
}
PLANTED_GROUP = "/localcloud/secret-scan-canary"


def test_nothing_recorded_holds_a_secret_key_or_a_card_number(
    deployment: StackDeployment, platform: PlatformClient
) -> None:
    for index, (label, card) in enumerate(CARD_FORMS.items()):
        body = {"merchant_id": "merchant-e2e", "amount": "1.00", "currency": "USD", "customer_ref": f"ref {card}"}
        response = platform.create_payment(body, f"scan-card-{index}")
        assert (label, response.status_code) == (label, 400)
    canary = f"scan-canary-{uuid.uuid4().hex}"
    body = {"merchant_id": "merchant-e2e", "amount": "1.00", "currency": "USD", "customer_ref": canary}
    assert platform.create_payment(body, f"scan-{canary}").status_code == 202
    planted = f"{SECRET_KEY_PREFIX}planted{uuid.uuid4().hex}"
    logs = platform.client("logs")
    logs.create_log_group(logGroupName=PLANTED_GROUP)
    logs.create_log_stream(logGroupName=PLANTED_GROUP, logStreamName="planted")
    planted_webhook_secret = contract.WEBHOOK_SECRET_PREFIX + uuid.uuid4().hex * 2
    planted_key = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    message = json.dumps(
        {"level": "INFO", "header": f"Bearer {planted}", "secret": planted_webhook_secret, "key": planted_key}
    )
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    logs.put_log_events(
        logGroupName=PLANTED_GROUP, logStreamName="planted", logEvents=[{"timestamp": now_ms, "message": message}]
    )
    assert len(ISSUED_SECRET_KEYS) >= 3, ISSUED_SECRET_KEYS and "the run issued too few keys to mean anything"
    needles = {f"secret key #{n}": key for n, key in enumerate(sorted(ISSUED_SECRET_KEYS))}
    needles.update(CARD_FORMS)
    needles.update({"planted secret": planted, "api canary": canary})

    now = datetime.now(UTC)
    records = [
        *log_records(logs),
        *trace_records(platform.client("xray"), now - timedelta(hours=6), now + timedelta(minutes=5)),
        *waf_records(platform.client("wafv2")),
        *stage_records(platform.client("apigateway"), platform.api_id),
        *table_records(platform.client("dynamodb")),
        *file_records(deployment.workdir.parent),
    ]
    report = scan(records, needles)
    print(f"\nsecret scan: {len(ISSUED_SECRET_KEYS)} issued keys, {len(CARD_FORMS)} card forms; {report.summary()}")

    planted_hits = {
        ("logs:" + PLANTED_GROUP, label) for label in ("planted secret", "webhook signing secret", "PEM private key")
    }
    leaks = [hit for hit in report.hits if hit not in planted_hits and hit[1] != "api canary"]
    assert leaks == []
    assert planted_hits <= set(report.hits)
    assert any(source.startswith("item:") and label == "api canary" for source, label in report.hits)
    assert report.records.get("logs", 0) >= 10 and report.records.get("item", 0) >= 10
    assert report.records.get("file", 0) > 0
