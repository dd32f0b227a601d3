"""Merchants as tenants through the handlers (issue #11): identity from the authorizer,
isolation of payments, idempotency keys and ids per merchant, no cardholder data, the
authorizer's decisions, and log context that does not outlive an invocation."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_core import contract
from payment_core.tenancy.merchants import MerchantDirectory, MerchantStatus
from payment_core.tenancy.secret_keys import SecretKey, bearer_secret, new_secret_key, secret_digest

from testkit.api import VALID_BODY, call, post
from testkit.events import api_event, get_payment_event

A, B = "merchant-a", "merchant-b"
BODY = {k: v for k, v in VALID_BODY.items() if k != "merchant_id"}  # the authorizer names the merchant


# Full-width forms (U+FF01-FF5E) are ASCII + 0xFEE0: written so, the source stays ASCII.
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def create(aws, context, merchant: str, key: str, **fields: Any) -> tuple[int, dict[str, Any]]:
    return post(aws, context, BODY | fields, key=key, merchant_id=merchant)


def test_the_same_idempotency_key_for_two_merchants_is_two_payments(aws, context):
    status_a, body_a = create(aws, context, A, "shared-key")
    status_b, body_b = create(aws, context, B, "shared-key")

    assert (status_a, status_b) == (202, 202)
    assert body_a["payment_id"] != body_b["payment_id"]
    assert sorted(p["merchant_id"] for p in aws.payments()) == [A, B]


def test_another_merchants_payment_is_404_exactly_like_a_missing_one(aws, context):
    _, created = create(aws, context, A, "k1")
    payment_id = created["payment_id"]

    foreign = call(aws, context, get_payment_event(payment_id, merchant_id=B))
    own = call(aws, context, get_payment_event(payment_id, merchant_id=A))
    missing_id = "pay_" + "0" * 32
    missing = call(aws, context, get_payment_event(missing_id, merchant_id=B))

    assert own[0] == 200 and own[1]["merchant_id"] == A
    assert foreign[0] == missing[0] == 404
    assert json.dumps(foreign[1]).replace(payment_id, "<id>") == json.dumps(missing[1]).replace(missing_id, "<id>")


def test_a_body_naming_another_merchant_is_403(aws, context):
    status, body = create(aws, context, A, "k1", merchant_id=B)

    assert (status, body["error"]["code"], body["error"]["field"]) == (403, "merchant_mismatch", "merchant_id")
    assert aws.payments() == []


@pytest.mark.parametrize("field", ["customer_ref", "description"])
@pytest.mark.parametrize("card", ["4111111111111111", "4111 1111 1111 1111", "ref 3782-822463-10005"])
def test_a_card_number_in_free_text_is_400_and_never_logged(aws, context, capsys, field, card):
    status, body = create(aws, context, A, "k1", **{field: card})

    assert (status, body["error"]["code"], body["error"]["field"]) == (400, "cardholder_data", field)
    digits = card.replace(" ", "").replace("-", "").removeprefix("ref")
    assert digits[:6] not in json.dumps(body)
    assert digits[:6] not in capsys.readouterr().out.replace(" ", "").replace("-", "")
    assert aws.payments() == []


@pytest.mark.parametrize(
    "card",
    [
        "4111111111111111".translate(FULL_WIDTH),  # full-width digits
        "card " + "4111-1111-1111-1111".translate(FULL_WIDTH),
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111 . 1111 / 1111 _ 1111",
    ],
)
def test_a_card_number_written_to_dodge_the_screen_is_refused_all_the_same(aws, context, card):
    status, body = create(aws, context, A, "k1", customer_ref=card)

    assert (status, body) == (
        400,
        {
            "error": {
                "code": "cardholder_data",
                "message": "customer_ref looks like a card number (ending 1111); send a tokenized reference instead",
                "field": "customer_ref",
            }
        },
    )
    assert aws.payments() == []


def test_text_with_digits_that_are_no_card_number_is_accepted(aws, context):
    fields = {"customer_ref": "invoice 2024/118", "description": "order 55, 3 items, ref A4111B1111C1111"}

    status, _ = create(aws, context, A, "k1", **fields)

    assert status == 202
    [payment] = aws.payments()
    assert {name: payment[name] for name in fields} == fields


def test_no_verified_merchant_is_a_500_not_a_guess(aws, context):
    event = api_event("POST", "/payments", body=json.dumps(VALID_BODY), headers={"Idempotency-Key": "k"})
    event["requestContext"].pop("authorizer")

    status, body = call(aws, context, event)

    assert (status, body["error"]["code"]) == (500, "internal_error")
    assert aws.payments() == []


def test_log_keys_of_one_invocation_do_not_reach_the_next(aws, context):
    create(aws, context, A, "secret-idempotency-key")
    runtime = aws.handlers["api"].runtime

    call(aws, context, get_payment_event("pay_" + "1" * 32, merchant_id=A))

    keys = runtime.logger.get_current_keys()
    assert "idempotency_key" not in keys
    assert keys.get("merchant_id") == A


# --- the authorizer -----------------------------------------------------------------------

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:api123/prod/GET/payments/p1"


def authorize(aws, context, authorization: str | None) -> dict[str, Any]:
    headers = {contract.CREDENTIAL_HEADER: authorization} if authorization is not None else {}
    event = {"type": "REQUEST", "methodArn": METHOD_ARN, "headers": headers}
    return aws.handlers["authorizer"].handler(event, context)


def effect(response: dict[str, Any]) -> str:
    return response["policyDocument"]["Statement"][0]["Effect"]


def test_the_authorizer_allows_a_live_secret_key_and_denies_the_rest(aws, context):
    directory = MerchantDirectory(aws.dynamodb, aws.table(contract.MERCHANTS_TABLE_NAME))
    now = datetime.now(UTC)
    live, expired, revoked, retired, disabled = (new_secret_key() for _ in range(5))

    def key(secret: str, key_id: str, days: int = 30) -> SecretKey:
        return SecretKey(key_id, secret_digest(secret), now - timedelta(days=1), now + timedelta(days=days))

    directory.onboard(A, "standard", "usage-key-of-merchant-a-0000", "kid-a", key(expired, "key_expired", days=0))
    directory.rotate(A, key(retired, "key_retired"), timedelta(0))  # ends the overlap of nothing live
    directory.rotate(A, key(revoked, "key_revoked"), timedelta(0))  # retires key_retired at once
    directory.rotate(A, key(live, "key_live"), timedelta(days=1))  # key_revoked stays live a day...
    directory.revoke(A, "key_revoked", now)  # ...but is revoked
    directory.onboard(B, "standard", "usage-key-of-merchant-b-0000", "kid-b", key(disabled, "key_b"))
    directory.set_status(B, MerchantStatus.DISABLED)

    allowed = authorize(aws, context, f"Bearer {live}")
    lower_case_scheme = authorize(aws, context, f"bearer {live}")
    refused = {
        "expired": authorize(aws, context, f"Bearer {expired}"),
        "overlap ended": authorize(aws, context, f"Bearer {retired}"),
        "revoked": authorize(aws, context, f"Bearer {revoked}"),
        "merchant disabled": authorize(aws, context, f"Bearer {disabled}"),
        "unknown": authorize(aws, context, f"Bearer {new_secret_key()}"),
        "no scheme": authorize(aws, context, live),
        "basic scheme": authorize(aws, context, f"Basic {live}"),
        "not a secret key": authorize(aws, context, "Bearer usage-key-of-merchant-a-0000"),
        "truncated": authorize(aws, context, f"Bearer {live[:-1]}"),
        "missing": authorize(aws, context, None),
    }

    assert (effect(allowed), effect(lower_case_scheme)) == ("Allow", "Allow")
    assert allowed["context"] == {"merchant_id": A, "tier": "standard", "api_version": "2026-12-01"}
    assert allowed["usageIdentifierKey"] == "usage-key-of-merchant-a-0000"
    assert {reason: effect(r) for reason, r in refused.items()} == dict.fromkeys(refused, "Deny")
    assert all("context" not in r and "usageIdentifierKey" not in r for r in refused.values())
    assert not any(secret[3:] in json.dumps(refused) for secret in (live, expired, revoked, retired, disabled))


# --- isolation, property-based --------------------------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["create", "get", "list"]),
        st.booleans(),  # which of the two merchants calls
        st.sampled_from(["k1", "k2", "k3"]),
        st.integers(min_value=0, max_value=10),
    ),
    min_size=1,
    max_size=8,
)
_examples = iter(range(10**6))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=operations)
def test_no_response_to_one_merchant_carries_the_others_data(aws, context, steps):
    """Random create/get/list for two merchants: every answer names only its caller's payments.

    Each example has two fresh merchants (the account is shared by the examples of one test).
    """
    n = next(_examples)
    pair = (f"merchant-a{n}", f"merchant-b{n}")
    owner: dict[str, str] = {}  # payment id -> merchant
    for action, first, key, pick in steps:
        merchant, other = pair if first else pair[::-1]
        asked = None
        if action == "create":
            status, body = create(aws, context, merchant, key, customer_ref=f"ref-{merchant}")
            assert status == 202
            owner[body["payment_id"]] = merchant
        elif action == "get":
            known = sorted(owner)
            asked = known[pick % len(known)] if known else "pay_" + "2" * 32
            status, body = call(aws, context, get_payment_event(asked, merchant_id=merchant))
            if owner.get(asked) == merchant:
                assert status == 200
            else:  # the id the caller sent comes back in the message, nothing else
                assert body == {"error": {"code": "not_found", "message": f"payment {asked} does not exist"}}
                continue
        else:
            status, body = call(aws, context, api_event("GET", "/payments", merchant_id=merchant))
            assert status == 200
            assert {item["payment_id"] for item in body["items"]} == {p for p, m in owner.items() if m == merchant}
        text = json.dumps(body)
        assert other not in text and f"ref-{other}" not in text
        assert not any(payment_id in text for payment_id, m in owner.items() if m == other)


@given(
    st.one_of(
        st.text(max_size=80),
        st.builds(
            lambda scheme, gap, key: f"{scheme}{gap}{key}",
            st.sampled_from(["Bearer", "bearer", "BEARER", "BeArEr", "Basic", "Bearer:"]),
            st.sampled_from([" ", "  ", "\t", ""]),
            st.one_of(
                st.from_regex(r"sk_[A-Za-z0-9]{48}", fullmatch=True),
                st.from_regex(r"sk_[A-Za-z0-9]{47,49}", fullmatch=True),
                st.from_regex(r"sk_[A-Za-z0-9_\-\uff41-\uff5a]{48}\n?", fullmatch=True),  # full-width a-z too
            ),
        ),
    )
)
def test_the_waf_pattern_passes_exactly_what_the_authorizer_reads_as_a_secret_key(value: str) -> None:
    """contract.CREDENTIAL_HEADER_PATTERN (the WAF rule) and bearer_secret agree on every value
    (WAF's ``$`` also matches before a final newline: such a value passes WAF, then the authorizer
    refuses it, which only costs what it costs today)."""
    waf_passes = re.fullmatch(contract.CREDENTIAL_HEADER_PATTERN, value) is not None
    assert waf_passes == (bearer_secret({"Authorization": value}) is not None)
