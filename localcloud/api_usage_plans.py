"""API keys, usage-plan throttling and quotas of a REST API stage, as API Gateway enforces them.

Evidence: API Gateway developer guide, "Usage plans and API keys for REST APIs" and
"Throttle requests to your REST APIs": a usage plan's throttle (``rateLimit`` requests per
second, ``burstLimit`` the token-bucket size) and quota (``limit`` requests per ``DAY``,
``WEEK`` or ``MONTH``) apply per API key; a request over the throttle answers 429
``THROTTLED`` "Too Many Requests" and over the quota 429 ``QUOTA_EXCEEDED`` "Limit Exceeded"
(gateway response types of the API reference). The key comes from the ``x-api-key`` header
(``apiKeySource`` ``HEADER``) or the authorizer's ``usageIdentifierKey`` (``AUTHORIZER``); a
missing, unknown or disabled key, or one not in a usage plan of the stage, answers 403
``INVALID_API_KEY`` "Forbidden".

Counters live in the process that drives the API (the emulator server for the HTTP route).
Not modelled: per-method throttle overrides inside a plan's ``apiStages``, the quota
``offset``, and a plan's period boundaries other than UTC calendar day, ISO week and month.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from localcloud.gateway_responses import GatewayError

INVALID_API_KEY = GatewayError("INVALID_API_KEY", 403, "Forbidden")
THROTTLED = GatewayError("THROTTLED", 429, "Too Many Requests")
QUOTA_EXCEEDED = GatewayError("QUOTA_EXCEEDED", 429, "Limit Exceeded")


@dataclass
class _Bucket:
    tokens: float
    updated: float


_BUCKETS: dict[tuple[str, str, str], _Bucket] = {}
_QUOTA_USED: dict[tuple[str, str, str, str], int] = {}
_LOCK = threading.Lock()


def reset_counters() -> None:
    with _LOCK:
        _BUCKETS.clear()
        _QUOTA_USED.clear()


@dataclass(frozen=True)
class ApiKeyUse:
    key_id: str
    plan_id: str


def _period(period: str, now: datetime) -> str:
    if period == "DAY":
        return now.strftime("%Y-%m-%d")
    if period == "WEEK":
        year, week, _ = now.isocalendar()
        return f"{year}-W{week}"
    return now.strftime("%Y-%m")


def _take_token(scope: tuple[str, str, str], throttle: dict[str, Any]) -> bool:
    rate = float(throttle.get("rateLimit") or 0)
    burst = float(throttle.get("burstLimit") or 0)
    if rate <= 0 and burst <= 0:
        return True  # no throttle configured on the plan
    capacity = max(burst, 1.0)
    now = time.monotonic()
    bucket = _BUCKETS.setdefault(scope, _Bucket(tokens=capacity, updated=now))
    bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate)
    bucket.updated = now
    if bucket.tokens < 1.0:
        return False
    bucket.tokens -= 1.0
    return True


def admit(apigw: Any, endpoint: str, api_id: str, stage: str, key_value: str | None) -> ApiKeyUse | GatewayError:
    """Check the key against the stage's usage plans, then consume throttle and quota."""
    if not key_value:
        return INVALID_API_KEY
    keys = apigw.get_api_keys(includeValues=True)["items"]
    key = next((k for k in keys if k.get("value") == key_value and k.get("enabled")), None)
    if key is None:
        return INVALID_API_KEY
    plan = next(
        (
            p
            for p in apigw.get_usage_plans(keyId=key["id"])["items"]
            if any(s.get("apiId") == api_id and s.get("stage") == stage for s in p.get("apiStages", []))
        ),
        None,
    )
    if plan is None:
        return INVALID_API_KEY
    scope = (endpoint, plan["id"], key["id"])
    with _LOCK:
        if not _take_token(scope, plan.get("throttle") or {}):
            return THROTTLED
        quota = plan.get("quota") or {}
        limit = int(quota.get("limit") or 0)
        if limit > 0:
            window = (*scope, _period(str(quota.get("period", "DAY")), datetime.now(UTC)))
            used = _QUOTA_USED.get(window, 0)
            if used >= limit:
                return QUOTA_EXCEEDED
            _QUOTA_USED[window] = used + 1
    return ApiKeyUse(key_id=key["id"], plan_id=plan["id"])
