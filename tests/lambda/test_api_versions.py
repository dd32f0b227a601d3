"""API versions: a merchant pins one with ``Payment-Platform-Version``; every answer names the one served."""

from __future__ import annotations

import json

from payment_core import api_contract, contract

from testkit.api import VALID_BODY
from testkit.events import api_event

HEADER = api_contract.API_VERSION_HEADER


def answer(aws, context, event):
    response = aws.handlers["api"].handler(event, context)
    return response["statusCode"], response["multiValueHeaders"][HEADER], json.loads(response["body"])


def create(headers):
    return api_event(
        "POST",
        "/payments",
        body=json.dumps(VALID_BODY),
        headers={contract.IDEMPOTENCY_KEY_HEADER: "key-v", **headers},
    )


def test_without_the_header_the_latest_version_answers_and_says_so(aws, context):
    status, served, body = answer(aws, context, create({}))
    assert (status, served, body["status"]) == (202, [api_contract.LATEST_API_VERSION], "PENDING")


def test_a_pinned_version_is_served_and_named_in_any_case_of_the_header(aws, context):
    for version in api_contract.API_VERSIONS:
        status, served, _ = answer(aws, context, create({HEADER.lower(): version}))
        assert (status, served) == (202, [version])


def test_an_unknown_version_is_400_before_anything_is_stored(aws, context):
    status, served, body = answer(aws, context, create({HEADER: "2019-01-01"}))
    supported = ", ".join(api_contract.API_VERSIONS)
    assert (status, served) == (400, [api_contract.LATEST_API_VERSION])
    assert body == {
        "error": {"code": "invalid_request", "message": f"{HEADER} must be one of: {supported}", "field": HEADER}
    }
    assert aws.payments() == []


def test_reads_and_errors_name_the_version_too(aws, context):
    missing = api_event(
        "GET",
        "/payments/pay_missing",
        path_parameters={"payment_id": "pay_missing"},
        resource="/payments/{payment_id}",
        headers={HEADER: api_contract.LATEST_API_VERSION},
    )
    status, served, body = answer(aws, context, missing)
    assert (status, served, body["error"]["code"]) == (404, [api_contract.LATEST_API_VERSION], "not_found")
