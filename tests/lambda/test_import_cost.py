"""What keeps the handlers' cold start down (``make bench``, cold start: a handler module's import
against ``import boto3``) that a change could undo without any other test noticing."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import payment_core

from testkit.environment import HANDLER_ENVIRONMENT
from testkit.handlers import FUNCTIONS

PACKAGE = Path(payment_core.__file__).parent


def dataclasses_without_docstring() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.ClassDef)
                and any("dataclass" in ast.unparse(decorator) for decorator in node.decorator_list)
                and ast.get_docstring(node) is None
            ):
                found.append(f"{path.relative_to(PACKAGE).as_posix()}: {node.name}")
    return found


def test_every_dataclass_has_a_docstring() -> None:
    """Without one, ``@dataclass`` writes one from ``inspect.signature(cls)`` at import: measured
    ~55 ms of the api handler's import on this loaded machine (``import boto3`` ~870 ms), for
    the 29 dataclasses it loaded without one."""
    assert dataclasses_without_docstring() == []


def modules_loaded_by(*handler_modules: str) -> set[str]:
    """The modules a fresh interpreter holds after importing ``handler_modules``, as Lambda's init does."""
    program = f"import json, sys; import {', '.join(handler_modules)}; print(json.dumps(sorted(sys.modules)))"
    completed = subprocess.run(
        [sys.executable, "-c", program],
        env={**HANDLER_ENVIRONMENT, "PYTHONDONTWRITEBYTECODE": "1"},
        check=True,
        capture_output=True,
        text=True,
    )
    return set(json.loads(completed.stdout))


ROUTE_ONLY = (
    "payment_core.payments.capture",  # capture and void
    "payment_core.payments.connector",
    "payment_core.payments.refunds",  # refund routes
    "payment_core.webhooks.endpoints",  # webhook endpoint routes
    "payment_core.api.webhook_requests",
    "payment_core.api.list_requests",  # list routes (GET /payments, GET /events) and GET /events/{id}
    "payment_core.api.page_tokens",
    "payment_core.events.models",  # event routes
    "payment_core.events.store",
    "payment_core.payments.admission",  # other functions only (the admitting ones)
)


def test_the_api_loads_what_only_some_routes_use_on_first_use() -> None:
    assert sorted(set(ROUTE_ONLY) & modules_loaded_by("payment_core.handlers.api")) == []


# The stack's and the OpenAPI document's (the route table and answer shapes, built at import); a
# handler reads the versions and limits it applies from payment_core.contract.
STACK_ONLY = ("payment_core.api_contract", "payment_core.api_answers")


def test_no_handler_builds_the_route_table() -> None:
    handlers = [f"payment_core.handlers.{function}" for function in FUNCTIONS]
    assert sorted(set(STACK_ONLY) & modules_loaded_by(*handlers)) == []


def test_functions_that_admit_no_payment_do_not_load_admission() -> None:
    assert "payment_core.payments.admission" not in modules_loaded_by("payment_core.handlers.queue_consumer")


def test_the_api_does_not_load_powertools_event_handler() -> None:
    """API Gateway has matched the route before the function runs (``payment_core.api.routing``
    says why the api dispatches on that match): the event handler package loads every resolver
    Powertools has, ~40 ms of the api handler's import."""
    loaded = modules_loaded_by("payment_core.handlers.api")
    assert sorted(name for name in loaded if name.startswith("aws_lambda_powertools.event_handler")) == []


def test_no_function_loads_asyncio_nor_every_powertools_event_class() -> None:
    """Nothing here is async. asyncio came with wrapt 2 (under the X-Ray SDK, which is why the
    layer pins wrapt 1.17) and with Powertools' event handler and batch utility, which also load
    every event data class Powertools has: ~15 and ~30 ms of a cold start (docs/lambda-runtime.md)."""
    loaded = modules_loaded_by(*(f"payment_core.handlers.{function}" for function in FUNCTIONS))
    assert "asyncio" not in loaded
    assert sorted(name for name in loaded if name.startswith("aws_lambda_powertools.utilities.data_classes")) == []
