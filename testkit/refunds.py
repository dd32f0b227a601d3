"""Driving refunds through the api and workflow handlers (tests, demo): request, read, run."""

from __future__ import annotations

import importlib.util
import json
from types import ModuleType
from typing import Any

from payment_core import contract

from testkit.account import Account
from testkit.api import VALID_BODY, call, post, workflow_step
from testkit.events import api_event
from testkit.handlers import FakeContext, use_clients


def settled(account: Account, context: FakeContext, key: str, **overrides: str) -> str:
    """An automatic payment taken to SETTLED step by step, as its execution would."""
    status, body = post(account, context, VALID_BODY | overrides, key=key)
    assert status == 202, body
    payment_id = str(body["payment_id"])
    for step in (contract.STEP_VALIDATE, contract.STEP_PROCESS, contract.STEP_RECORD):
        workflow_step(account, context, step, payment_id)
    return payment_id


def refund(
    account: Account,
    context: FakeContext,
    payment_id: str,
    key: str,
    body: dict[str, Any] | None = None,
    merchant_id: str = "merchant-1",
) -> tuple[int, dict[str, Any]]:
    """``POST /payments/{id}/refunds`` with ``body`` (None: no body) under Idempotency-Key ``key``."""
    path = f"/payments/{payment_id}/{contract.REFUNDS_PATH_PART}"
    text = None if body is None else json.dumps(body)
    headers = {contract.IDEMPOTENCY_KEY_HEADER: key}
    return call(account, context, api_event("POST", path, body=text, headers=headers, merchant_id=merchant_id))


def read(account: Account, context: FakeContext, path: str, merchant_id: str = "merchant-1") -> tuple[int, Any]:
    return call(account, context, api_event("GET", path, merchant_id=merchant_id))


def run_refund(account: Account, context: FakeContext, refund_id: str) -> dict[str, Any]:
    """The refund's execution as the state machine runs it: Refund (its declines to RefundFail), RefundNotify."""
    from payment_core.errors import PaymentDeclined, TransientProcessorError

    try:
        result: dict[str, Any] = workflow_step(account, context, contract.STEP_REFUND, refund_id)
    except (PaymentDeclined, TransientProcessorError) as error:
        cause = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__})
        failure = {"Error": type(error).__name__, "Cause": cause}
        result = workflow_step(account, context, contract.STEP_REFUND_FAIL, refund_id, error=failure)
    workflow_step(account, context, contract.STEP_REFUND_NOTIFY, refund_id)
    return result


def serialize_dynamodb() -> None:
    """moto applies a conditional write or a transaction in several Python steps; the local cloud's
    lock makes each request atomic and isolated, as DynamoDB's are (localcloud/README.md)."""
    from localcloud.patches import dynamodb_isolation

    dynamodb_isolation.apply()


def api_instance(moto_clients: Any) -> ModuleType:
    """Another execution environment of the api function: a fresh module, as each Lambda environment
    (its own process) has. Each request travels as an argument (``payment_core.api.routing``), so
    instances resolving at once in one process's threads share no request state."""
    spec = importlib.util.find_spec("payment_core.handlers.api")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    use_clients(module, moto_clients)
    return module


def refund_call(
    module: ModuleType, context: FakeContext, payment_id: str, key: str, amount: str
) -> tuple[int, dict[str, Any]]:
    path = f"/payments/{payment_id}/{contract.REFUNDS_PATH_PART}"
    event = api_event("POST", path, body=json.dumps({"amount": amount}), headers={contract.IDEMPOTENCY_KEY_HEADER: key})
    response = module.handler(event, context)
    body: dict[str, Any] = json.loads(response["body"])
    return int(response["statusCode"]), body
