"""Signing a webhook delivery: ``<contract.WEBHOOK_SIGNATURE_HEADER>: t=<unix>,v1=<hex>[,v1=<hex>...]``.

Each ``v1`` is the hex HMAC-SHA256, keyed with one of the endpoint's signing secrets (its UTF-8
bytes), of ``"<t>." + body``: one ``v1`` per secret in force, so during a rotation's overlap a
merchant verifying with either the old or the new secret accepts the delivery. Merchants check
it with ``payment_core.events.verifier.verify_signature`` (dependency-free, in docs/webhooks.md).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()


def signature_header(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header's value: ``t`` once, then one ``v1`` per secret, in the order given."""
    if not secrets:
        raise ValueError("a delivery is signed with at least one secret")
    return ",".join([f"t={timestamp}", *(f"v1={signature(secret, timestamp, body)}" for secret in secrets)])
