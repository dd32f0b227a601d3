"""The api's dispatch on the route API Gateway matched (``payment_core.api.routing``)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from payment_core.api.routing import ApiRequest, NoSuchRoute, ProxyAnswer, Routes, json_answer

from testkit.events import api_event, matched_resource


def request_for(event: dict[str, object]) -> ApiRequest:
    return ApiRequest.from_event(event, "request-1")


def test_a_route_is_found_by_the_resource_and_method_api_gateway_matched() -> None:
    routes = Routes()

    @routes.get("/payments/{payment_id}")
    def read(request: ApiRequest) -> ProxyAnswer:
        return json_answer(200, {"id": request.path_parameter("payment_id")}, {})

    event = api_event("GET", "/payments/pay_1")
    assert (event["resource"], event["pathParameters"]) == ("/payments/{payment_id}", {"payment_id": "pay_1"})
    request = request_for(event)
    assert routes.find(request)(request) == {
        "statusCode": 200,
        "body": '{"id":"pay_1"}',
        "isBase64Encoded": False,
        "multiValueHeaders": {"Content-Type": ["application/json"]},
    }
    with pytest.raises(NoSuchRoute, match=r"^no such resource$"):
        routes.find(request_for(api_event("DELETE", "/payments/pay_1")))


def test_a_route_registered_twice_is_refused_at_import() -> None:
    routes = Routes()
    routes.post("/payments")(lambda request: json_answer(202, {}, {}))
    with pytest.raises(ValueError, match=r"^route POST /payments is registered twice$"):
        routes.post("/payments")(lambda request: json_answer(202, {}, {}))


def test_a_missing_path_parameter_is_no_such_route() -> None:
    event = api_event("GET", "/payments/pay_1", resource="/payments/{payment_id}")
    event["pathParameters"] = None
    with pytest.raises(NoSuchRoute, match=r"^GET /payments/\{payment_id\} has no path parameter payment_id$"):
        request_for(event).path_parameter("payment_id")


def test_test_events_match_resources_as_api_gateway_does() -> None:
    assert matched_resource("/payments") == ("/payments", {})
    assert matched_resource("/payments/pay_1/capture") == ("/payments/{payment_id}/capture", {"payment_id": "pay_1"})
    assert matched_resource("/payments/pay_1/refunds/re_2") == (
        "/payments/{payment_id}/refunds/{refund_id}",
        {"payment_id": "pay_1", "refund_id": "re_2"},
    )
    assert matched_resource("/nowhere/x") == ("/nowhere/x", {})


def test_headers_values_are_sent_one_each() -> None:
    answer = json_answer(201, {"amount": "1.00"}, {"Payment-Platform-Version": "2026-11-01"})
    assert answer["multiValueHeaders"] == {
        "Content-Type": ["application/json"],
        "Payment-Platform-Version": ["2026-11-01"],
    }
    assert json.loads(answer["body"]) == {"amount": "1.00"}


def test_a_dynamodb_number_is_written_exactly_and_anything_else_json_cannot_hold_is_refused() -> None:
    assert json_answer(200, {"n": Decimal("10.50")}, {})["body"] == '{"n":"10.50"}'
    with pytest.raises(TypeError, match=r"^object is not JSON serializable$"):
        json_answer(200, {"n": object()}, {})
