"""What the api and authorizer handlers leave in their X-Ray segments: no response, so no key,
no payment and no merchant's data (issue #21). The Tracer records a handler's (and a traced
method's) return value as segment metadata unless told not to; the recording provider below
stands in for X-Ray and keeps every metadata and annotation a segment receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from payment_core import contract
from payment_core.tenancy.merchants import MerchantDirectory

from testkit.api import VALID_BODY, call, post
from testkit.events import get_payment_event
from testkit.handlers import runtime_of

API_KEY = "key-of-merchant-traced-00000"
MERCHANT = "merchant-1"  # the testkit account's merchant, for the api
TRACED = "merchant-traced"  # onboarded here, for the authorizer


class RecordingSubsegment:
    def __init__(self, name: str, recorded: list[tuple[str, str, Any]]) -> None:
        self.name, self._recorded = name, recorded

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        self._recorded.append((self.name, key, value))

    def put_annotation(self, key: str, value: Any) -> None:
        self._recorded.append((self.name, key, value))

    def add_exception(self, exception: BaseException, stack: Any = None, remote: bool = False) -> None:
        self._recorded.append((self.name, "exception", str(exception)))


class RecordingProvider:
    """X-Ray as the Tracer sees it (``in_subsegment``): every segment's metadata, recorded."""

    def __init__(self) -> None:
        self.recorded: list[tuple[str, str, Any]] = []

    @contextmanager
    def in_subsegment(self, name: str, **_: Any) -> Iterator[RecordingSubsegment]:
        yield RecordingSubsegment(name, self.recorded)

    def text(self) -> str:
        return json.dumps(self.recorded, default=str)


@pytest.fixture
def traces(aws: Any, monkeypatch: pytest.MonkeyPatch) -> RecordingProvider:
    provider = RecordingProvider()
    for function in (contract.API, contract.AUTHORIZER):
        monkeypatch.setattr(runtime_of(aws.handlers[function]).tracer, "provider", provider)
    return provider


def test_the_recording_provider_sees_what_the_tracer_records_by_default(aws: Any, traces: RecordingProvider) -> None:
    """The control: a handler traced with the defaults does leave its response in the segment."""
    tracer = runtime_of(aws.handlers[contract.API]).tracer

    @tracer.capture_lambda_handler
    def answer(event: dict[str, Any], context: Any) -> dict[str, str]:
        return {"secret": "visible-by-default"}

    answer({}, None)
    assert "visible-by-default" in traces.text()


def test_the_authorizer_traces_neither_the_key_nor_its_answer(
    aws: Any, context: Any, traces: RecordingProvider
) -> None:
    MerchantDirectory(aws.dynamodb, aws.table(contract.MERCHANTS_TABLE_NAME)).onboard(
        TRACED, "premium", API_KEY, "kid-traced"
    )
    event = {"type": "REQUEST", "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/GET/payments", "headers": {}}
    response = aws.handlers[contract.AUTHORIZER].handler(event | {"headers": {"x-api-key": API_KEY}}, context)

    assert response["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert "usageIdentifierKey" not in response and API_KEY not in json.dumps(response)
    assert traces.recorded, "the handler ran inside a traced segment"
    assert API_KEY not in traces.text()
    assert "premium" not in traces.text() and TRACED not in traces.text()


def test_the_api_traces_no_payment_it_answers(aws: Any, context: Any, traces: RecordingProvider) -> None:
    status, created = post(aws, context, VALID_BODY, key="idem-1", merchant_id=MERCHANT)
    assert status == 202
    status, payment = call(aws, context, get_payment_event(created["payment_id"], merchant_id=MERCHANT))
    assert status == 200 and payment["customer_ref"] == VALID_BODY["customer_ref"]

    recorded = traces.text()
    assert traces.recorded, "the handler ran inside a traced segment"
    for customer_data in (VALID_BODY["customer_ref"], VALID_BODY["description"], created["payment_id"]):
        assert customer_data not in recorded
