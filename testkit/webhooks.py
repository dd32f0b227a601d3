"""Webhooks in the demo: a merchant's endpoint on a real local receiver, signed events, retries, a redelivery.

Two merchants of their own are onboarded (the tenant section revokes and disables its merchants'
keys). Merchant A registers ``https://hooks.merchant-a.example/hooks`` (``POST
/webhook_endpoints``), merchant B ``https://hooks.merchant-b.example/hooks``; each name is a
``MerchantReceiver`` registered with the emulator's network by this entry point, so the stack's
delivery resolves a public address, connects on 443 and verifies TLS exactly as on AWS. A's
receiver fails its first ``A_FAILS_FIRST`` requests: the delivery must retry them to success.
Then ``make webhook-redeliver EVENT=<id>`` sends one event again, and B is shown to see none of
it: no request at its receiver, none of A's events in its ``GET /events``, 404 for A's event id.

A's first deliveries fail and are retried on the schedule of the demo's environment (dev: 5 s
doubling, jittered), so the section waits until every event A's receiver refused has come back
and been accepted. The stack's delivery pipeline and endpoints API are required: a missing route
or a stack without the ``DELIVERY_OUTPUT`` output is a demo failure.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from testkit.deployment import ROOT
from testkit.merchant_receiver import VERIFIED, MerchantReceiver, ReceivedRequest
from testkit.tenants import TenantApi, onboard_merchants

# The stack output of the delivery pipeline (its queue's URL, named webhook-deliveries-<suffix>).
DELIVERY_OUTPUT = "webhook_delivery_queue_url"
QUEUE_STEM = "webhook-deliveries-"
MERCHANTS = ("hooks-merchant-a", "hooks-merchant-b")
HOSTS = ("hooks.merchant-a.example", "hooks.merchant-b.example")
A_FAILS_FIRST = 2
DELIVERY_TIMEOUT_SECONDS = 240.0


@dataclass
class WebhookDemo:
    skipped: str = ""
    rows: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def expect(self, ok: bool, label: str, detail: str) -> None:
        self.rows.append(f"{label:44} {detail:44} {'ok' if ok else 'NOT OK'}")
        if not ok:
            self.problems.append(f"webhooks: {label} ({detail})")


def _event(request: ReceivedRequest) -> dict[str, Any]:
    try:
        document = json.loads(request.body)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _register(api: TenantApi, receiver: MerchantReceiver) -> tuple[int, dict[str, Any]]:
    response = api.request("POST", "/webhook_endpoints", {"url": receiver.url(), "enabled_events": ["*"]})
    return response.status_code, response.json() if response.body.startswith("{") else {}


def run_webhooks(endpoint: str, outputs: Mapping[str, Any], api_id: str, stage: str) -> WebhookDemo:
    demo = WebhookDemo()
    keys = onboard_merchants(endpoint, outputs, list(MERCHANTS))
    a, b = (TenantApi(endpoint, api_id, stage, keys[merchant]) for merchant in MERCHANTS)
    with (
        MerchantReceiver([HOSTS[0]], fail_first=A_FAILS_FIRST).start(endpoint) as receiver_a,
        MerchantReceiver([HOSTS[1]]).start(endpoint) as receiver_b,
    ):
        if DELIVERY_OUTPUT not in outputs:
            demo.expect(False, "the stack delivers webhooks", f"no {DELIVERY_OUTPUT} output")
            return demo
        suffix = str(outputs[DELIVERY_OUTPUT]).rsplit("/", 1)[-1].removeprefix(QUEUE_STEM)
        region = str(outputs["state_machine_arn"]).split(":")[3]  # the stack's region, for the ops tool
        status, created = _register(a, receiver_a)
        demo.expect(status == 201 and "secret" in created, "A registers its endpoint", f"{status} {created.get('id')}")
        receiver_a.secret = str(created.get("secret", ""))
        b_status, b_created = _register(b, receiver_b)
        receiver_b.secret = str(b_created.get("secret", ""))
        demo.expect(b_status == 201, "B registers its own endpoint", f"{b_status} {b_created.get('id')}")
        if status != 201:
            return demo
        paid = a.create(f"webhooks-{uuid.uuid4().hex[:8]}")
        payment_id = paid.json().get("payment_id", "") if paid.status_code == 202 else ""
        demo.expect(bool(payment_id), "A creates a payment", f"{paid.status_code} {payment_id}")
        _show_deliveries(demo, receiver_a, payment_id)
        _show_redelivery(demo, a, receiver_a, suffix, region)
        _show_isolation(demo, b, receiver_b, receiver_a)
    return demo


def _retried_to_success(receiver: MerchantReceiver) -> bool:
    """The receiver refused its first requests, and each event it refused came back and was accepted."""
    refused = {_event(r).get("id") for r in receiver.requests if r.status != 200}
    accepted = {_event(r).get("id") for r in receiver.requests if r.status == 200}
    return len(receiver.requests) > A_FAILS_FIRST and refused <= accepted


def _show_deliveries(demo: WebhookDemo, receiver: MerchantReceiver, payment_id: str) -> None:
    """Every request A's receiver saw: the first ones answered 500, then each event verified and
    accepted, the refused ones on a later attempt."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while not _retried_to_success(receiver) and time.monotonic() < deadline:
        time.sleep(1)
    if not _retried_to_success(receiver):
        demo.expect(False, "deliveries to A's receiver", f"{len(receiver.requests)} requests, refused ones not retried")
        return
    first = receiver.requests[0].received
    for request in receiver.requests:
        event = _event(request)
        label = f"  +{request.received - first:5.1f}s {event.get('type', '?')} {event.get('id', '?')}"
        ok = request.signature == VERIFIED and request.status in (200, 500)
        demo.expect(ok, label, f"HTTP {request.status}, signature {request.signature}")
    delivered = [_event(r) for r in receiver.requests if r.status == 200]
    merchants = {str(event.get("merchant_id")) for event in delivered}
    refused = [r for r in receiver.requests if r.status != 200]
    demo.expect(
        bool(delivered) and merchants == {MERCHANTS[0]} and len(refused) == A_FAILS_FIRST,
        f"A's events delivered, {len(refused)} refused ones retried",
        f"{len({e.get('id') for e in delivered})} events accepted (payment {payment_id})",
    )


def _show_redelivery(demo: WebhookDemo, a: TenantApi, receiver: MerchantReceiver, suffix: str, region: str) -> None:
    # A refused then accepted event: its attempts show the retry.
    refused = [_event(r) for r in receiver.requests if r.status != 200]
    delivered = [_event(r) for r in receiver.requests if r.status == 200]
    if not delivered:
        return
    event_id = str((refused or delivered)[0].get("id", ""))
    described = a.request("GET", f"/events/{event_id}")
    attempts = described.json().get("delivery_attempts", []) if described.status_code == 200 else []
    statuses = [str(attempt.get("status", attempt.get("status_code", "?"))) for attempt in attempts]
    demo.expect(bool(attempts), f"A: GET /events/{event_id}", f"attempts {', '.join(statuses) or 'none'}")
    before = len(receiver.requests)
    redeliver = subprocess.run(
        ["make", "webhook-redeliver", f"EVENT={event_id}", f"ENVIRONMENT_SUFFIX={suffix}", f"REGION={region}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    demo.expect(redeliver.returncode == 0, "make webhook-redeliver", f"exit {redeliver.returncode}")
    if redeliver.returncode != 0:
        demo.problems.append(f"webhooks: make webhook-redeliver: {redeliver.stderr.strip()[-300:]}")
        return
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        again = [r for r in receiver.requests[before:] if _event(r).get("id") == event_id]
        if again:
            ok = again[0].signature == VERIFIED and again[0].status == 200
            demo.expect(ok, "  redelivered", f"HTTP {again[0].status}, signature {again[0].signature}")
            return
        time.sleep(1)
    demo.expect(False, "  redelivered", f"{event_id} not received again in {DELIVERY_TIMEOUT_SECONDS:.0f} s")


def _show_isolation(
    demo: WebhookDemo, b: TenantApi, receiver_b: MerchantReceiver, receiver_a: MerchantReceiver
) -> None:
    a_ids = {str(_event(r).get("id")) for r in receiver_a.requests} - {"None"}
    listed = b.request("GET", "/events")
    b_ids = {str(item.get("id")) for item in listed.json().get("items", [])} if listed.status_code == 200 else set()
    demo.expect(listed.status_code == 200 and not a_ids & b_ids, "B: GET /events", f"{len(b_ids)} events, none of A's")
    if a_ids:
        foreign = b.request("GET", f"/events/{sorted(a_ids)[0]}")
        demo.expect(foreign.status_code == 404, "B: GET /events/<A's event>", str(foreign.status_code))
    demo.expect(receiver_b.requests == [], "B's receiver", f"{len(receiver_b.requests)} requests")
