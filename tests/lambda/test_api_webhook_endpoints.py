"""POST/GET/DELETE /webhook_endpoints and rotate_secret: exact bodies, SSRF refusals at
registration, secrets sealed with KMS and bound to their endpoint, another merchant's endpoint 404."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from payment_core import contract
from payment_core.payments.repository import from_attributes

from testkit.api import call
from testkit.events import api_event

URL = "https://hooks.merchant.example/payments"
PRIVATE = "url must not point to a private, loopback, link-local or metadata address"
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def request(aws: Any, context: Any, method: str, path: str, body: Any = None, merchant_id: str = "merchant-1"):
    resource = re.sub(r"/we_[0-9a-f]+", "/{endpoint_id}", path)
    parameters = {"endpoint_id": path.split("/")[2]} if resource != path else None
    text = body if body is None or isinstance(body, str) else json.dumps(body)
    event = api_event(method, path, body=text, resource=resource, path_parameters=parameters, merchant_id=merchant_id)
    return call(aws, context, event)


def create(aws: Any, context: Any, merchant_id: str = "merchant-1", events: list[str] | None = None) -> dict[str, Any]:
    body = {"url": URL, "enabled_events": events or ["payment.settled", "payment.failed"]}
    status, answer = request(aws, context, "POST", "/webhook_endpoints", body, merchant_id)
    assert status == 201, answer
    return answer


def stored_item(aws: Any, merchant_id: str, endpoint_id: str) -> dict[str, Any]:
    item = aws.dynamodb.get_item(
        TableName=aws.table(contract.EVENTS_TABLE_NAME),
        Key={"merchant_id": {"S": merchant_id}, "event_id": {"S": endpoint_id}},
    )["Item"]
    return from_attributes(item)


def test_create_answers_the_endpoint_with_its_secret_once(aws, context):
    answer = create(aws, context)
    assert set(answer) == {"id", "object", "url", "enabled_events", "status", "created", "secret"}
    assert re.fullmatch(contract.WEBHOOK_ENDPOINT_ID_PATTERN, answer["id"])
    assert re.fullmatch(contract.WEBHOOK_SECRET_PATTERN, answer["secret"])
    assert ISO.fullmatch(answer["created"])
    assert answer | {"id": "X", "created": "T", "secret": "S"} == {
        "id": "X",
        "object": "webhook_endpoint",
        "url": URL,
        "enabled_events": ["payment.settled", "payment.failed"],
        "status": "enabled",
        "created": "T",
        "secret": "S",
    }
    public = {key: value for key, value in answer.items() if key != "secret"}
    assert request(aws, context, "GET", f"/webhook_endpoints/{answer['id']}") == (200, public)
    assert request(aws, context, "GET", "/webhook_endpoints") == (200, {"items": [public]})


def test_the_secret_is_stored_only_as_kms_ciphertext_bound_to_merchant_and_endpoint(aws, context):
    answer = create(aws, context)
    item = stored_item(aws, "merchant-1", answer["id"])
    [sealed] = item["secrets"]
    assert answer["secret"].encode() not in json.dumps(item, default=repr).encode()
    blob = bytes(sealed["ciphertext"])
    bound = {"merchant_id": "merchant-1", "endpoint_id": answer["id"]}
    opened = aws.kms.decrypt(CiphertextBlob=blob, EncryptionContext=bound)["Plaintext"]
    assert opened.decode() == answer["secret"]
    with pytest.raises(aws.kms.exceptions.InvalidCiphertextException):
        aws.kms.decrypt(CiphertextBlob=blob, EncryptionContext=bound | {"merchant_id": "merchant-2"})


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.merchant.example/", "url must use https"),
        ("https://127.0.0.1/hook", PRIVATE),
        (
            "https://169.254.169.254/latest/meta-data",
            "url must not point to a private, loopback, link-local or metadata address",
        ),
        ("https://[::ffff:10.0.0.1]/", PRIVATE),
        ("https://localhost/hook", "url must name a public host"),
        ("https://intranet/hook", "url must name a public host"),
        ("https://user:pw@hooks.merchant.example/", "url must not carry credentials"),
    ],
)
def test_an_unsafe_url_is_refused_400_with_its_reason(aws, context, url, message):
    status, body = request(aws, context, "POST", "/webhook_endpoints", {"url": url, "enabled_events": ["*"]})
    assert (status, body) == (400, {"error": {"code": "invalid_request", "message": message, "field": "url"}})
    assert request(aws, context, "GET", "/webhook_endpoints") == (200, {"items": []})


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": URL, "enabled_events": []}, "enabled_events"),
        ({"url": URL, "enabled_events": ["payment.nope"]}, "enabled_events"),
        ({"url": URL, "enabled_events": ["*", "payment.settled"]}, "enabled_events"),
        ({"url": URL, "enabled_events": ["payment.settled", "payment.settled"]}, "enabled_events"),
        ({"url": URL}, "enabled_events"),
        ({"url": 7, "enabled_events": ["*"]}, "url"),
        ({"url": URL, "enabled_events": ["*"], "secret": "mine"}, "secret"),
    ],
)
def test_a_malformed_body_is_400_naming_the_field(aws, context, body, field):
    status, answer = request(aws, context, "POST", "/webhook_endpoints", body)
    assert (status, answer["error"]["code"], answer["error"]["field"]) == (400, "invalid_request", field)


def test_another_merchants_endpoint_is_404_like_a_missing_one(aws, context):
    theirs = create(aws, context, merchant_id="merchant-2")["id"]
    missing = "we_" + "0" * 24
    for method, suffix in (("GET", ""), ("DELETE", ""), ("POST", "/rotate_secret")):
        for endpoint_id in (theirs, missing):
            status, body = request(aws, context, method, f"/webhook_endpoints/{endpoint_id}{suffix}")
            assert (status, body) == (
                404,
                {"error": {"code": "not_found", "message": f"webhook endpoint {endpoint_id} does not exist"}},
            )
    assert request(aws, context, "GET", "/webhook_endpoints") == (200, {"items": []})
    assert stored_item(aws, "merchant-2", theirs)["status"] == "enabled"  # untouched by merchant-1's calls


def test_delete_removes_the_endpoint(aws, context):
    endpoint_id = create(aws, context)["id"]
    assert request(aws, context, "DELETE", f"/webhook_endpoints/{endpoint_id}") == (
        200,
        {"id": endpoint_id, "object": "webhook_endpoint", "deleted": True},
    )
    assert request(aws, context, "GET", f"/webhook_endpoints/{endpoint_id}")[0] == 404
    assert request(aws, context, "DELETE", f"/webhook_endpoints/{endpoint_id}")[0] == 404


def test_rotation_answers_a_new_secret_and_when_the_previous_stops_signing(aws, context):
    first = create(aws, context)
    status, rotated = request(aws, context, "POST", f"/webhook_endpoints/{first['id']}/rotate_secret")
    assert status == 200
    assert set(rotated) == {*first, "previous_secret_expires_at"}
    assert rotated["secret"] != first["secret"] and ISO.fullmatch(rotated["previous_secret_expires_at"])
    item = stored_item(aws, "merchant-1", first["id"])
    current, previous = item["secrets"]
    assert "expires_at" not in current
    # The overlap is the environment's (3600 s in the tests).
    expires = int(previous["expires_at"])
    assert rotated["previous_secret_expires_at"] == datetime.fromtimestamp(expires, UTC).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )
    assert 3590 <= expires - datetime.fromisoformat(rotated["created"]).timestamp() <= 3600 + 60
    # A second rotation keeps only the two newest: the first secret stops signing at once.
    request(aws, context, "POST", f"/webhook_endpoints/{first['id']}/rotate_secret")
    assert len(stored_item(aws, "merchant-1", first["id"])["secrets"]) == 2


def test_a_merchant_may_register_at_most_the_contracts_number_of_endpoints(aws, context):
    for _ in range(contract.MAX_WEBHOOK_ENDPOINTS):
        create(aws, context, events=["*"])
    status, body = request(aws, context, "POST", "/webhook_endpoints", {"url": URL, "enabled_events": ["*"]})
    assert (status, body["error"]["field"]) == (400, "url")
    assert body["error"]["message"] == "a merchant may register at most 16 webhook endpoints"


def test_endpoints_never_show_up_as_events(aws, context):
    create(aws, context, events=["*"])
    status, body = call(aws, context, api_event("GET", "/events"))
    assert (status, body["items"]) == (200, [])


def test_a_malformed_endpoint_id_is_400(aws, context):
    status, body = call(
        aws,
        context,
        api_event(
            "GET",
            "/webhook_endpoints/evt_1",
            resource="/webhook_endpoints/{endpoint_id}",
            path_parameters={"endpoint_id": "evt_1"},
        ),
    )
    assert (status, body["error"]["field"]) == (400, "endpoint_id")
