"""Webhooks in the demo: a merchant's endpoint on a real local receiver, signed events, retries, a redelivery.

Two merchants of their own are onboarded (the tenant section revokes and disables its merchants'
keys). Merchant A registers ``https://hooks.merchant-a.example/hooks`` (``POST
/webhook_endpoints``), merchant B ``https://hooks.merchant-b.example/hooks``; each name is a
``MerchantReceiver`` registered with the emulator's network by this entry point, so the stack's
delivery resolves a public address, connects on 443 and verifies TLS exactly as on AWS. A's
receiver fails its first ``A_FAILS_FIRST`` requests: the delivery must retry them to success.
Then ``make webhook-redeliver EVENT=<id>`` sends one event again, and B is shown to see none of
it: no request at its receiver, none of A's events in its ``GET /events``, 404 for A's event id.

Until the webhooks API is deployed the section is skipped with its reason (the route answers 404
or API Gateway's 403 for an unknown path); ``REQUIRE_WEBHOOKS_API = True`` makes that a failure.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from testkit.deployment import ROOT
from testkit.merchant_receiver import VERIFIED, MerchantReceiver, ReceivedRequest
from testkit.tenants import TenantApi, onboard_merchants

# Switch on at merge with the webhooks API: a missing route is then a demo failure, not a skip.
REQUIRE_WEBHOOKS_API = False
# The stack output the delivery pipeline exposes once deployed (its queue's URL).
DELIVERY_OUTPUT = "webhook_delivery_queue_url"
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
        status, created = _register(a, receiver_a)
        if status in (403, 404):
            demo.skipped = f"POST /webhook_endpoints answered {status}: the webhooks API is not deployed"
            if REQUIRE_WEBHOOKS_API:
                demo.problems.append(f"webhooks: {demo.skipped}")
            return demo
        demo.expect(status == 201 and "secret" in created, "A registers its endpoint", f"{status} {created.get('id')}")
        receiver_a.secret = str(created.get("secret", ""))
        b_status, b_created = _register(b, receiver_b)
        receiver_b.secret = str(b_created.get("secret", ""))
        demo.expect(b_status == 201, "B registers its own endpoint", f"{b_status} {b_created.get('id')}")
        if DELIVERY_OUTPUT not in outputs:
            # The endpoints API is deployed, the delivery pipeline (fan-out, queue, delivery
            # function) not yet: nothing would arrive, so the deliveries are skipped with why.
            demo.skipped = f"deliveries: the stack has no {DELIVERY_OUTPUT} output (webhook delivery is not deployed)"
            if REQUIRE_WEBHOOKS_API:
                demo.problems.append(f"webhooks: {demo.skipped}")
            return demo

        paid = a.create(f"webhooks-{uuid.uuid4().hex[:8]}")
        payment_id = paid.json().get("payment_id", "") if paid.status_code == 202 else ""
        demo.expect(bool(payment_id), "A creates a payment", f"{paid.status_code} {payment_id}")
        _show_deliveries(demo, receiver_a, payment_id)
        _show_redelivery(demo, a, receiver_a)
        _show_isolation(demo, b, receiver_b, receiver_a)
    return demo


def _show_deliveries(demo: WebhookDemo, receiver: MerchantReceiver, payment_id: str) -> None:
    """Every request A's receiver saw: the first ones answered 500, then each event verified once."""
    try:
        receiver.wait_for(A_FAILS_FIRST + 1, timeout=DELIVERY_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        demo.expect(False, "deliveries to A's receiver", str(exc))
        return
    for request in receiver.requests:
        event = _event(request)
        label = f"  {event.get('type', '?')} {event.get('id', '?')}"
        ok = request.signature == VERIFIED and request.status in (200, 500)
        demo.expect(ok, label, f"HTTP {request.status}, signature {request.signature}")
    delivered = [_event(r) for r in receiver.requests if r.status == 200]
    merchants = {str(event.get("merchant_id")) for event in delivered}
    demo.expect(
        bool(delivered) and merchants == {MERCHANTS[0]},
        f"A's events delivered after {A_FAILS_FIRST} failures",
        f"{len(delivered)} delivered (payment {payment_id})",
    )


def _show_redelivery(demo: WebhookDemo, a: TenantApi, receiver: MerchantReceiver) -> None:
    delivered = [_event(r) for r in receiver.requests if r.status == 200]
    if not delivered:
        return
    event_id = str(delivered[0].get("id", ""))
    described = a.request("GET", f"/events/{event_id}")
    attempts = described.json().get("delivery_attempts", []) if described.status_code == 200 else []
    statuses = [str(attempt.get("status", attempt.get("status_code", "?"))) for attempt in attempts]
    demo.expect(bool(attempts), f"A: GET /events/{event_id}", f"attempts {', '.join(statuses) or 'none'}")
    before = len(receiver.requests)
    redeliver = subprocess.run(
        ["make", "webhook-redeliver", f"EVENT={event_id}"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    demo.expect(redeliver.returncode == 0, "make webhook-redeliver", f"exit {redeliver.returncode}")
    try:
        again = receiver.wait_for(before + 1, timeout=DELIVERY_TIMEOUT_SECONDS)[-1]
    except TimeoutError as exc:
        demo.expect(False, "  redelivered", str(exc))
        return
    same = _event(again).get("id") == event_id
    demo.expect(same and again.signature == VERIFIED, "  redelivered", f"HTTP {again.status}, {again.signature}")


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
