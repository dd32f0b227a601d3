"""API versions: a request pins one with ``Payment-Platform-Version``, else gets its merchant's
default (from the authorizer's context), else the latest; every answer names the one served."""

from __future__ import annotations

import json

import pytest
from payment_core import contract

from testkit.api import VALID_BODY
from testkit.events import api_event

HEADER = contract.API_VERSION_HEADER


def answer(aws, context, event):
    response = aws.handlers["api"].handler(event, context)
    return response["statusCode"], response["multiValueHeaders"][HEADER], json.loads(response["body"])


def create(headers, merchant_default=None):
    event = api_event(
        "POST",
        "/payments",
        body=json.dumps(VALID_BODY),
        headers={contract.IDEMPOTENCY_KEY_HEADER: "key-v", **headers},
    )
    if merchant_default is not None:  # what the authorizer hands over from the merchant's record
        event["requestContext"]["authorizer"][contract.MERCHANT_API_VERSION_CONTEXT] = merchant_default
    return event


@pytest.fixture
def two_versions(monkeypatch):
    """An older version besides today's only one, as after the next breaking change."""
    monkeypatch.setattr(contract, "API_VERSIONS", ("2026-06-01", "2026-12-01"))


def test_without_the_header_the_latest_version_answers_and_says_so(aws, context):
    status, served, body = answer(aws, context, create({}))
    assert (status, served, body["status"]) == (202, [contract.LATEST_API_VERSION], "PENDING")


def test_a_pinned_version_is_served_and_named_in_any_case_of_the_header(aws, context):
    for version in contract.API_VERSIONS:
        status, served, _ = answer(aws, context, create({HEADER.lower(): version}))
        assert (status, served) == (202, [version])


def test_an_unknown_version_is_400_before_anything_is_stored(aws, context):
    status, served, body = answer(aws, context, create({HEADER: "2019-01-01"}))
    supported = ", ".join(contract.API_VERSIONS)
    assert (status, served) == (400, [contract.LATEST_API_VERSION])
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
        headers={HEADER: contract.LATEST_API_VERSION},
    )
    status, served, body = answer(aws, context, missing)
    assert (status, served, body["error"]["code"]) == (404, [contract.LATEST_API_VERSION], "not_found")


def test_without_the_header_the_merchants_default_version_answers(aws, context, two_versions):
    status, served, body = answer(aws, context, create({}, merchant_default="2026-06-01"))
    assert (status, served, body["status"]) == (202, ["2026-06-01"], "PENDING")


def test_the_header_wins_over_the_merchants_default(aws, context, two_versions):
    status, served, _ = answer(aws, context, create({HEADER: "2026-12-01"}, merchant_default="2026-06-01"))
    assert (status, served) == (202, ["2026-12-01"])


def test_a_default_no_longer_served_falls_back_to_the_latest(aws, context):
    """A merchant pinned to a version since retired is served the latest, not refused: it sent no header."""
    status, served, body = answer(aws, context, create({}, merchant_default="2026-06-01"))
    assert (status, served, body["status"]) == (202, ["2026-12-01"], "PENDING")


def test_an_unknown_header_is_400_whatever_the_merchants_default(aws, context, two_versions):
    status, served, body = answer(aws, context, create({HEADER: "2019-01-01"}, merchant_default="2026-06-01"))
    assert (status, served) == (400, [contract.LATEST_API_VERSION])
    assert body == {
        "error": {
            "code": "invalid_request",
            "message": f"{HEADER} must be one of: 2026-06-01, 2026-12-01",
            "field": HEADER,
        }
    }
