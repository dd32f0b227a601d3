"""Checking a webhook's signature: the function merchants copy (docs/webhooks.md holds it verbatim).

Standard library only, so it can be pasted into any Python 3.8+ service as it is. A delivery
carries ``Tap-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`` where each ``v1`` is the
HMAC-SHA256, under one of the endpoint's signing secrets, of ``"<t>." + raw body`` (several
during a secret rotation: one per secret). A delivery is genuine when one ``v1`` matches the
merchant's secret and ``t`` is within the tolerance of the merchant's clock (a replay of an old
delivery is refused).
"""

import hashlib
import hmac
import time
from typing import List, Optional  # noqa: UP035 (Python 3.8 and up, as merchants run it)

DEFAULT_TOLERANCE_SECONDS = 300


class InvalidSignature(Exception):
    """The delivery is not one the platform signed with this secret, or not recently."""


def verify_signature(
    payload: bytes,
    header: str,
    secret: str,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
    now: Optional[float] = None,  # noqa: UP045
) -> int:
    """Return the signature's timestamp if ``header`` signs ``payload`` (the raw body, bytes) with
    ``secret`` (the endpoint's ``whsec_...`` string) within ``tolerance`` seconds; else raise."""
    timestamp: Optional[int] = None  # noqa: UP045
    signatures: List[str] = []  # noqa: UP006
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t":
            if timestamp is not None or not value.isdigit():
                raise InvalidSignature("the header's t is missing, repeated or not a number")
            timestamp = int(value)
        elif name == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature("the header has no t or no v1")
    signed = str(timestamp).encode("ascii") + b"." + payload
    expected = hmac.new(secret.encode("utf-8"), signed, hashlib.sha256).hexdigest()
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("no v1 matches this secret")
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise InvalidSignature("the timestamp is outside the tolerance")
    return timestamp
