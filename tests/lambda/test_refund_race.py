"""The concurrent-refund race against the real api handler on moto: five refunds of 30.00 at once
on 125.50 captured, each from its own api handler instance (as separate Lambda environments):
exactly the four that fit are accepted, the fifth is 409 with its JSON reason, and the payment's
reservation counters show exactly the four."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest

from testkit.api import stored_payment
from testkit.refunds import api_instance, refund_call, serialize_dynamodb


@pytest.fixture(scope="module", autouse=True)
def serialized_dynamodb() -> None:
    serialize_dynamodb()


def test_concurrent_refunds_beyond_the_capture_exactly_those_that_fit_are_accepted(aws, context, moto_clients):
    from testkit.refunds import settled

    payment_id = settled(aws, context, "race")  # 125.50 captured
    instances = [api_instance(moto_clients) for _ in range(5)]
    calls = [(module, f"race-{index}") for index, module in enumerate(instances)]
    with ThreadPoolExecutor(len(calls)) as pool:
        answers = list(pool.map(lambda c: refund_call(c[0], context, payment_id, c[1], "30.00"), calls))
    assert sorted(status for status, _body in answers) == [202, 202, 202, 202, 409]
    # Four distinct refunds: not a replay of another thread's (each request its own key and body).
    assert len({body["refund_id"] for status, body in answers if status == 202}) == 4
    [(_status, refused)] = [answer for answer in answers if answer[0] == 409]
    assert refused == {
        "error": {
            "code": "refund_exceeds_captured",
            "message": "refund of 30.00 exceeds what is left to refund: 5.50 USD",
            "field": "amount",
        }
    }
    item = stored_payment(aws, payment_id)
    assert (item["amount_refundable"], item["amount_refund_pending"]) == (Decimal("5.50"), Decimal("120.00"))
    assert len(item["refund_ids"]) == 4
