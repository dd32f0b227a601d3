"""Property tests: no malformed request produces anything but a 4xx JSON error, and
money parsing round-trips exactly."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from payment_core import contract
from payment_core.api.errors import error_body, http_error_for
from payment_core.api.list_requests import parse_list_payments
from payment_core.api.page_tokens import HmacSha256, PageTokens
from payment_core.api.requests import parse_create_payment
from payment_core.errors import DomainError
from payment_core.payments.money import MINOR_UNITS, format_amount, parse_amount
from payment_core.rules import BusinessRules
from payment_core.settings import FunctionVariables

from testkit.api import VALID_BODY
from testkit.environment import HANDLER_ENVIRONMENT
from testkit.events import api_event

RULES = BusinessRules.read(FunctionVariables(contract.API, HANDLER_ENVIRONMENT))
TOKENS = PageTokens(HmacSha256(b"fuzz" * 8))
FIELDS = ["merchant_id", "amount", "currency", "customer_ref", "description"]

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)


def _broken_variant(draw_from: st.DataObject) -> dict:
    body = dict(VALID_BODY)
    how = draw_from.draw(st.sampled_from(["drop", "retype", "extra", "amount", "currency"]))
    if how == "drop":
        # merchant_id may be left out (the authorizer's merchant is the one used)
        del body[draw_from.draw(st.sampled_from(FIELDS[1:4]))]
    elif how == "retype":
        body[draw_from.draw(st.sampled_from(FIELDS))] = draw_from.draw(
            json_values.filter(lambda v: not isinstance(v, str))
        )
    elif how == "extra":
        body[draw_from.draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in FIELDS))] = 1
    elif how == "amount":
        body["amount"] = draw_from.draw(
            st.one_of(
                st.from_regex(r"-?[0-9]{1,6}\.[0-9]{3,5}", fullmatch=True),
                st.sampled_from(["0", "0.00", "-5", "+5", "1e3", " 5", "5 ", "05", "1,000", "NaN"]),
                st.decimals(min_value=Decimal("10000.01"), max_value=Decimal("1e12"), places=2).map(str),
                st.text(max_size=8).filter(lambda t: not t.replace(".", "").isdigit()),
            )
        )
    else:
        body["currency"] = draw_from.draw(st.text(max_size=5).filter(lambda c: c not in RULES.allowed_currencies))
    return body


malformed_text = st.one_of(
    st.text(max_size=200),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
    json_values.map(json.dumps),
    st.just("[" * 5000 + "]" * 5000),
    st.just('{"a":' * 3000 + "1" + "}" * 3000),
)

header_maps = st.one_of(
    st.none(),
    st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=3),
    st.builds(lambda v: {"Idempotency-Key": v}, st.text(max_size=300)),
)


def _assert_client_error(error: DomainError) -> None:
    answer = http_error_for(error)
    assert 400 <= answer.status < 500
    body = error_body(error, answer)
    json.dumps(body)
    assert set(body["error"]) <= {"code", "message", "field"}


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_parser_rejects_every_malformed_request_with_a_4xx(data):
    kind = data.draw(st.sampled_from(["body", "variant", "headers"]))
    headers = {"Idempotency-Key": "k"}
    if kind == "body":
        body = data.draw(malformed_text)
    elif kind == "variant":
        body = json.dumps(_broken_variant(data))
    else:
        headers = data.draw(header_maps)
        body = json.dumps(VALID_BODY)
    try:
        parse_create_payment(body, data.draw(st.booleans()), headers, RULES, VALID_BODY["merchant_id"])
    except DomainError as error:
        _assert_client_error(error)
    else:
        # Only a well-formed request with a usable key may get through.
        assert kind == "headers"


@settings(max_examples=1000, deadline=None)
@given(
    query=st.dictionaries(
        st.sampled_from(["merchant_id", "from", "to", "limit", "next_token", "x"]),
        st.text(max_size=40),
        max_size=5,
    )
)
def test_list_query_parser_never_fails_with_anything_but_a_4xx(query):
    try:
        parse_list_payments(query, "merchant-1", TOKENS)
    except DomainError as error:
        _assert_client_error(error)


@pytest.mark.usefixtures("aws")
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_full_handler_answers_malformed_requests_with_4xx_json(aws, context, data):
    route = data.draw(st.sampled_from(["post", "get", "list"]))
    if route == "post":
        body = data.draw(st.one_of(malformed_text, st.builds(lambda: None)))
        if data.draw(st.booleans()):
            body = json.dumps(_broken_variant(data))
        event = api_event("POST", "/payments", body=body, headers=data.draw(header_maps))
    elif route == "get":
        raw = data.draw(st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t))
        event = api_event(
            "GET", f"/payments/{raw}", path_parameters={"payment_id": raw}, resource="/payments/{payment_id}"
        )
    else:
        query = data.draw(
            st.dictionaries(
                st.sampled_from(["merchant_id", "from", "to", "limit", "next_token", "x"]),
                st.text(max_size=30),
                max_size=4,
            )
        )
        event = api_event("GET", "/payments", query=query or None)
    response = aws.handlers["api"].handler(event, context)
    answer = json.loads(response["body"])
    assert response["statusCode"] < 500, answer
    if response["statusCode"] >= 400:
        assert set(answer) == {"error"}
        assert answer["error"]["code"] and answer["error"]["message"]


amounts = st.sampled_from(sorted(RULES.allowed_currencies)).flatmap(
    lambda currency: st.tuples(
        st.just(currency),
        st.decimals(
            min_value=Decimal(1).scaleb(-MINOR_UNITS[currency]),
            max_value=RULES.amount_limits.maximum_for(currency),
            places=MINOR_UNITS[currency],
            allow_nan=False,
            allow_infinity=False,
        ),
    )
)


@settings(max_examples=1000, deadline=None)
@given(amounts)
def test_money_round_trips_exactly(case):
    currency, amount = case
    text = format_amount(amount, currency)
    parsed = parse_amount(text, currency, RULES.amount_limits.maximum_for(currency))
    assert parsed == amount
    assert format_amount(parsed, currency) == text
    assert "E" not in text and "e" not in text
    digits = MINOR_UNITS[currency]
    assert (len(text.split(".")[1]) if "." in text else 0) == digits
