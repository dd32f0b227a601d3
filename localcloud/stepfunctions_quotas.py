"""Step Functions quotas the emulator enforces, and how a test or a scale model sets them.

* ``payload_limit_bytes``: the "maximum input or output size for a task, state, or execution",
  262,144 bytes (``localcloud.patches.stepfunctions_payload``). It can only be lowered, never
  raised above AWS's value: a scale model (a few hundred chunks standing for ~19,000) shows what
  happens past the limit without a file of AWS's size, and the emulator stays as strict as AWS.
* ``start_execution`` and ``state_transition``: the account's token buckets
  (``localcloud.patches.stepfunctions_throttling``), ``{"bucket": <tokens>, "refill": <per s>}``.
  Step Functions developer guide, "Step Functions service quotas" (Standard workflows):
  ``StartExecution`` 1,300 tokens refilled at 300/s in US East (N. Virginia), US West (Oregon)
  and Europe (Ireland), 800 at 150/s in all other Regions; ``StateTransition`` 5,000 at 5,000/s
  and 800 at 800/s. "New AWS accounts have reduced state transition quotas. AWS raises these
  quotas automatically based on your usage." (the reduced values are not published: read them
  from the account's ``ProvisionedBucketSize``/``ProvisionedRefillRate`` metrics and set them).
  ``PROFILES`` holds the documented sets; the emulator starts with ``us-east-1``'s, the Region
  it emulates.

Set at start with ``LOCALCLOUD_STEPFUNCTIONS_QUOTAS`` (the same JSON document as the route), or
while running: ``GET /localcloud/stepfunctions`` answers the values and the throttle counts;
``POST`` with an object of the fields to change (``{"profile": "other-regions"}``,
``{"state_transition": {"bucket": 100, "refill": 100}}``, ``{"payload_limit_bytes": 4096}``;
``{"reset": true}`` first restores the defaults) answers the new values, or 400 with the exact
reason.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Final

ROUTE: Final = "/localcloud/stepfunctions"
ENVIRONMENT_VARIABLE: Final = "LOCALCLOUD_STEPFUNCTIONS_QUOTAS"
AWS_PAYLOAD_LIMIT_BYTES: Final = 262_144
BUCKETS: Final = ("start_execution", "state_transition")


@dataclass(frozen=True)
class BucketQuota:
    bucket: int
    refill: float  # tokens per second


# Standard workflows, per account and Region (Step Functions service quotas page).
PROFILES: Final[dict[str, dict[str, BucketQuota]]] = {
    "us-east-1": {"start_execution": BucketQuota(1300, 300), "state_transition": BucketQuota(5000, 5000)},
    "other-regions": {"start_execution": BucketQuota(800, 150), "state_transition": BucketQuota(800, 800)},
}
DEFAULT_PROFILE: Final = "us-east-1"


class QuotaConfigError(ValueError):
    pass


class TokenBucket:
    """``bucket`` tokens, refilled continuously at ``refill`` per second; starts full."""

    def __init__(self, quota: BucketQuota, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.quota = quota
        self._tokens = float(quota.bucket)
        self._stamp = clock()
        self.taken = 0
        self.throttled = 0

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.quota.bucket), self._tokens + (now - self._stamp) * self.quota.refill)
        self._stamp = now

    def try_take(self) -> bool:
        """One token if there is one (an API call: refused otherwise)."""
        with self._lock:
            self._refill()
            if self._tokens >= 1:
                self._tokens -= 1
                self.taken += 1
                return True
            self.throttled += 1
            return False

    def wait_time(self) -> float:
        """Take one token, now or in the future; the seconds the caller must wait for it (a
        throttled state transition is delayed, not failed)."""
        with self._lock:
            self._refill()
            self._tokens -= 1  # may go negative: later callers queue behind this one
            self.taken += 1
            if self._tokens >= 0:
                return 0.0
            self.throttled += 1
            return -self._tokens / self.quota.refill

    def describe(self) -> dict[str, Any]:
        quota = {"bucket": self.quota.bucket, "refill": self.quota.refill}
        return {**quota, "taken": self.taken, "throttled": self.throttled}


def _bucket_quota(name: str, value: Any) -> BucketQuota:
    if not isinstance(value, dict) or set(value) != {"bucket", "refill"}:
        raise QuotaConfigError(f'{name} must be an object with "bucket" and "refill"')
    bucket, refill = value["bucket"], value["refill"]
    if isinstance(bucket, bool) or not isinstance(bucket, int) or bucket < 1:
        raise QuotaConfigError(f"{name}.bucket must be a positive integer, got {bucket!r}")
    if isinstance(refill, bool) or not isinstance(refill, int | float) or refill <= 0:
        raise QuotaConfigError(f"{name}.refill must be a positive number of tokens per second, got {refill!r}")
    return BucketQuota(bucket, float(refill))


@dataclass
class StepFunctionsQuotas:
    payload_limit_bytes: int = AWS_PAYLOAD_LIMIT_BYTES
    buckets: dict[str, TokenBucket] = field(
        default_factory=lambda: {name: TokenBucket(quota) for name, quota in PROFILES[DEFAULT_PROFILE].items()}
    )

    def describe(self) -> dict[str, Any]:
        return {
            "payload_limit_bytes": self.payload_limit_bytes,
            **{name: bucket.describe() for name, bucket in self.buckets.items()},
        }

    def update(self, document: Any) -> None:
        """Apply a document (all checked before anything changes)."""
        allowed = {"payload_limit_bytes", "reset", "profile", *BUCKETS}
        if not isinstance(document, dict) or set(document) - allowed:
            raise QuotaConfigError(f"expected an object with some of {sorted(allowed)}")
        limit = AWS_PAYLOAD_LIMIT_BYTES if document.get("reset") is True else self.payload_limit_bytes
        quotas = {name: bucket.quota for name, bucket in self.buckets.items()}
        if document.get("reset") is True:
            quotas = dict(PROFILES[DEFAULT_PROFILE])
        if "profile" in document:
            if document["profile"] not in PROFILES:
                raise QuotaConfigError(f"profile must be one of {sorted(PROFILES)}, got {document['profile']!r}")
            quotas = dict(PROFILES[document["profile"]])
        for name in BUCKETS:
            if name in document:
                quotas[name] = _bucket_quota(name, document[name])
        if "payload_limit_bytes" in document:
            limit = document["payload_limit_bytes"]
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= AWS_PAYLOAD_LIMIT_BYTES:
                raise QuotaConfigError(
                    f"payload_limit_bytes must be an integer from 1 to {AWS_PAYLOAD_LIMIT_BYTES} "
                    f"(AWS's quota; the emulator is never more lenient), got {limit!r}"
                )
        self.payload_limit_bytes = limit
        # A bucket whose quota changed starts afresh (full); the others keep their tokens and counts.
        self.buckets = {
            name: self.buckets[name] if self.buckets[name].quota == quota else TokenBucket(quota)
            for name, quota in quotas.items()
        }


QUOTAS = StepFunctionsQuotas()


def load_from_environment() -> None:
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return
    try:
        document = json.loads(text)
    except ValueError as error:
        raise QuotaConfigError(f"{ENVIRONMENT_VARIABLE} is not JSON: {error}") from error
    QUOTAS.update(document)


def handle(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") == "POST":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        try:
            QUOTAS.update(json.loads(environ["wsgi.input"].read(length) or b"{}"))
        except ValueError as error:  # a QuotaConfigError or JSON that does not parse
            return _json(start_response, "400 Bad Request", {"message": str(error)})
    return _json(start_response, "200 OK", QUOTAS.describe())


def _json(start_response: Callable[..., Any], status: str, document: Any) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
