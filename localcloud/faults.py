"""Fault switch: fail a fraction of the AWS calls made by our Lambda code, as AWS does when throttled.

Read once at emulator start from ``LOCALCLOUD_FAULTS``::

    {"seed": 7, "rates": {"states:StartExecution": 0.3, "sqs:SendMessageBatch": 0.2,
                          "dynamodb:TransactWriteItems": 0.1, "lambda:Timeout:<function>": 0.05}}

* ``"<service>:<Operation>"``: ``service`` is the SigV4 signing name (``dynamodb``, ``states``,
  ``sqs``, ``s3``, ``lambda``, ``events``, ``logs``...), ``Operation`` the API name. Only requests
  signed with ``LAMBDA_ACCESS_KEY_ID`` (the key the emulator hands to function processes) are
  candidates, so Terraform, tests and the Step Functions interpreter are never faulted. A
  failed call gets the error AWS returns when that service throttles (``THROTTLE_ERRORS``), so
  botocore's own retry handler retries it as it would on AWS.
* ``"lambda:Timeout:<function name>"``: that fraction of the function's invocations end as
  ``Sandbox.Timedout`` (see ``localcloud.patches.lambda_runtime``).
* ``"lambda:InitError:<function name>"``: that fraction of the function's invocations fail as
  ``Runtime.ExitError`` before any of its code runs (the runtime crashed starting up), a function
  error the caller sees and an event source mapping counts as a failed attempt.

Deterministic for a seed: the n-th call of a given key is failed iff
``Random(f"{seed}|{key}|{n}").random() < rate``. Which request is the n-th depends on thread
scheduling, so a concurrent run is reproducible in distribution, a sequential one exactly.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

ENVIRONMENT_VARIABLE = "LOCALCLOUD_FAULTS"
# The credentials function processes get; matched in the SigV4 Authorization header.
LAMBDA_ACCESS_KEY_ID = "AKIALOCALCLOUDLAMBDA"
STATUS_PATH = "/localcloud/faults"
LAMBDA_TIMEOUT_PREFIX = "lambda:Timeout:"
LAMBDA_INIT_ERROR_PREFIX = "lambda:InitError:"

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
_LAMBDA_INVOKE = re.compile(r"^/2015-03-31/functions/[^/]+/invocations$")


@dataclass(frozen=True)
class ThrottleError:
    status: int
    code: str
    message: str


# What each service answers when it throttles; every one is retried by botocore's legacy and
# standard retry modes (botocore/data/_retry.json, botocore/retries/standard.py).
THROTTLE_ERRORS = {
    # DynamoDB data plane: ProvisionedThroughputExceededException (400), also on on-demand tables.
    "dynamodb": ThrottleError(
        400,
        "ProvisionedThroughputExceededException",
        "The level of configured provisioned throughput for the table was exceeded.",
    ),
    # Step Functions: ThrottlingException "Rate exceeded" (400).
    "states": ThrottleError(400, "ThrottlingException", "Rate exceeded"),
    # SQS: RequestThrottled; botocore's sqs retry policy matches it with HTTP 403.
    "sqs": ThrottleError(403, "RequestThrottled", "The request was denied due to request throttling."),
    "lambda": ThrottleError(429, "TooManyRequestsException", "Rate Exceeded."),
    "s3": ThrottleError(503, "SlowDown", "Please reduce your request rate."),
}
DEFAULT_THROTTLE = ThrottleError(400, "ThrottlingException", "Rate exceeded")


class FaultConfigError(ValueError):
    pass


@dataclass
class FaultPlan:
    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)
    _calls: dict[str, int] = field(default_factory=dict)
    _failed: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def should_fail(self, key: str) -> bool:
        """Count one call of ``key``; True if this one is to fail."""
        rate = self.rates.get(key)
        if not rate:
            return False
        with self._lock:
            call = self._calls.get(key, 0)
            self._calls[key] = call + 1
            failed = random.Random(f"{self.seed}|{key}|{call}").random() < rate
            if failed:
                self._failed[key] = self._failed.get(key, 0) + 1
        return failed

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seed": self.seed,
                "rates": dict(self.rates),
                "calls": dict(self._calls),
                "failed": dict(self._failed),
            }


def parse(text: str | None) -> FaultPlan:
    """The plan in ``LOCALCLOUD_FAULTS`` (empty or unset: no faults). Exact messages on bad input."""
    if not text or not text.strip():
        return FaultPlan()
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise FaultConfigError(f"{ENVIRONMENT_VARIABLE} is not JSON: {exc}") from exc
    if not isinstance(document, dict) or set(document) - {"seed", "rates"}:
        raise FaultConfigError(f'{ENVIRONMENT_VARIABLE} must be an object with keys "seed" and "rates"')
    seed = document.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise FaultConfigError(f"{ENVIRONMENT_VARIABLE}.seed must be an integer, got {seed!r}")
    rates = document.get("rates", {})
    if not isinstance(rates, dict):
        raise FaultConfigError(f"{ENVIRONMENT_VARIABLE}.rates must be an object")
    for key, rate in rates.items():
        service, _, operation = key.partition(":")
        if not service or not operation:
            raise FaultConfigError(f'{ENVIRONMENT_VARIABLE}.rates key {key!r} must be "<service>:<Operation>"')
        for prefix in (LAMBDA_TIMEOUT_PREFIX, LAMBDA_INIT_ERROR_PREFIX):
            if key == prefix:
                raise FaultConfigError(f'{ENVIRONMENT_VARIABLE}.rates key {key!r} must be "{prefix}<function>"')
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
            raise FaultConfigError(f"{ENVIRONMENT_VARIABLE}.rates[{key!r}] must be a number from 0 to 1, got {rate!r}")
    return FaultPlan(seed=seed, rates={str(k): float(v) for k, v in rates.items()})


PLAN = FaultPlan()  # the server loads LOCALCLOUD_FAULTS at start (load_from_environment)


def install(plan: FaultPlan) -> FaultPlan:
    global PLAN
    PLAN = plan
    return PLAN


def load_from_environment() -> FaultPlan:
    return install(parse(os.environ.get(ENVIRONMENT_VARIABLE)))


def signer(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(access key id, signing service) of a SigV4-signed request, else None."""
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (match.group(1), match.group(2)) if match else None


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
    return body


def operation(service: str, environ: dict[str, Any]) -> str | None:
    """The API operation of a request: JSON target, query Action, or the few REST calls we know."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rpartition(".")[2]
    method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
    if service == "lambda" and method == "POST" and _LAMBDA_INVOKE.match(path):
        return "Invoke"
    if service == "s3" and method in ("GET", "PUT") and path.strip("/").count("/") >= 1:
        return "GetObject" if method == "GET" else "PutObject"
    if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        action = parse_qs(_read_body(environ).decode("utf-8", "replace")).get("Action")
        return action[0] if action else None
    return None


def _throttle_response(service: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
    error = THROTTLE_ERRORS.get(service, DEFAULT_THROTTLE)
    headers = [("x-amzn-ErrorType", error.code), ("x-amzn-RequestId", "localcloud-fault")]
    if service == "s3":
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{error.code}</Code>"
            f"<Message>{error.message}</Message><RequestId>localcloud-fault</RequestId></Error>"
        ).encode()
        headers.append(("Content-Type", "application/xml"))
    else:
        body = json.dumps({"__type": error.code, "message": error.message}).encode()
        headers.append(("Content-Type", "application/x-amz-json-1.0"))
        if service == "sqs":  # awsQueryCompatible: botocore takes the code from this header
            headers.append(("x-amzn-query-error", f"{error.code};Sender"))
    headers.append(("Content-Length", str(len(body))))
    start_response(f"{error.status} {HTTPStatus(error.status).phrase}", headers)
    return [body]


class FaultMiddleware:
    """WSGI layer in front of moto: fails the planned calls of Lambda code."""

    def __init__(self, app: Callable[..., Any], plan: Callable[[], FaultPlan] = lambda: PLAN) -> None:
        self.app = app
        self.plan = plan

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        plan = self.plan()
        if plan.rates:
            signed = signer(environ)
            if signed is not None and signed[0] == LAMBDA_ACCESS_KEY_ID:
                service = signed[1]
                name = operation(service, environ)
                if name is not None and plan.should_fail(f"{service}:{name}"):
                    return _throttle_response(service, start_response)
        response: Iterable[bytes] = self.app(environ, start_response)
        return response
