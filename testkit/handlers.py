"""Import the handlers as Lambda does (``payment_core.handlers.<function>``), and drive them."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from payment_core import contract
from payment_core.runtime import FunctionRuntime

from testkit.account import AwsClients
from testkit.environment import ACCOUNT_ID, REGION

FUNCTIONS = contract.FUNCTION_NAMES


def load_handler(function: str) -> ModuleType:
    """The module of ``function``'s handler string (``payment_core.handlers.<function>``), imported
    on first use as Lambda imports it: its Powertools read the environment the caller has set."""
    if function not in FUNCTIONS:
        raise ValueError(f"{function!r} is not one of the contract's functions {FUNCTIONS}")
    return importlib.import_module(f"payment_core.handlers.{function}")  # by name: the handler string's module


def runtime_of(handler: ModuleType) -> FunctionRuntime[Any]:
    runtime: FunctionRuntime[Any] = handler.runtime
    return runtime


def use_clients(handler: ModuleType, clients: AwsClients) -> None:
    """Start the handler afresh on already-built clients (building them costs ~50 ms each)."""
    runtime = runtime_of(handler)
    runtime.reset()
    runtime.dynamodb.override(clients.dynamodb)
    runtime.stepfunctions.override(clients.stepfunctions)
    runtime.sqs.override(clients.sqs)
    runtime.sns.override(clients.sns)
    runtime.s3.override(clients.s3)
    runtime.kms.override(clients.kms)


@dataclass
class FakeContext:
    function_name: str = "payment-test-fn"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:payment-test-fn"
    aws_request_id: str = "req-0000-1111"
    log_group_name: str = "/aws/lambda/payment-test-fn"
    log_stream_name: str = "stream"
    remaining_millis: int = 30_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis
