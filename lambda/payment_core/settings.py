"""Reading a function's environment, typed: once per execution environment, checked as it is read.

Which variables a function reads is ``contract.FUNCTION_ENVIRONMENT`` (the stack sets exactly
those): ``FunctionVariables`` refuses a variable the contract does not give the function, so
the environment classes (one per handler module, in ``payment_core.handlers``) cannot drift
from it, and names a missing or malformed one in its error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Final, TypeVar

from payment_core import contract


class FunctionVariables:
    """One function's view of ``os.environ``: only the variables the contract gives it."""

    def __init__(self, function: str, environ: Mapping[str, str]) -> None:
        self.function = function
        self._declared = frozenset(contract.FUNCTION_ENVIRONMENT[function])
        self._environ = environ
        self.names_read: list[str] = []

    def _get(self, name: str) -> str:
        if name not in self._declared:
            raise LookupError(f"{name} is not in contract.FUNCTION_ENVIRONMENT[{self.function!r}]")
        self.names_read.append(name)
        return self._environ.get(name, "")

    def required(self, name: str) -> str:
        """A variable the stack must set; a missing one is a deployment bug."""
        value = self._get(name)
        if not value:
            raise RuntimeError(f"environment variable {name} is not set")
        return value

    def optional(self, name: str) -> str:
        """A variable the stack may leave empty."""
        return self._get(name)

    def names(self, name: str) -> frozenset[str]:
        """A comma-separated list, which may be empty."""
        return frozenset(item.strip() for item in self._get(name).split(",") if item.strip())

    def one_of(self, name: str, allowed: tuple[str, ...]) -> str:
        raw = self.required(name)
        if raw not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {raw!r}")
        return raw

    def positive_int(self, name: str) -> int:
        raw = self.required(name)
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValueError(f"{name} must be a positive integer, got {raw!r}")
        return int(raw)


# Each function's environment is a frozen dataclass whose fields say how they are read
# (``field(metadata=reads(...))``); a function that reads what another does plus more extends
# that one's class.


_READ = "read"


def reads(read: Callable[[FunctionVariables], object]) -> dict[str, object]:
    """A field's metadata: how ``read_environment`` reads it."""
    return {_READ: read}


def variable(name: str) -> dict[str, object]:
    """A field's metadata: the variable ``name``, which must be set."""
    return reads(lambda variables: variables.required(name))


def positive_int(name: str) -> dict[str, object]:
    """A field's metadata: the variable ``name``, a positive integer."""
    return reads(lambda variables: variables.positive_int(name))


def duration(name: str, unit: timedelta) -> dict[str, object]:
    """A field's metadata: the variable ``name``, a positive whole number of ``unit`` (the unit its
    name ends with: ``..._SECONDS``, ``..._DAYS``), as a ``timedelta``."""
    return reads(lambda variables: variables.positive_int(name) * unit)


SECOND: Final = timedelta(seconds=1)
DAY: Final = timedelta(days=1)


@dataclass(frozen=True)
class FunctionEnvironment:
    """The base of every function's environment (each handler module declares its own)."""


# Variables several functions read, each declared once here (as payments.wiring declares the
# payments tables and the start slots); a function's class extends the ones it reads.


@dataclass(frozen=True)
class EventsEnvironment(FunctionEnvironment):
    """Reads or writes the events table: the events, and the webhook endpoints beside them."""

    events_table: str = field(metadata=variable(contract.EVENTS_TABLE_NAME))


@dataclass(frozen=True)
class WebhooksEnvironment(EventsEnvironment):
    """Fans events out to webhook endpoints or delivers them: the endpoints, the delivery queue."""

    queue_url: str = field(metadata=variable(contract.WEBHOOK_QUEUE_URL))


Environment = TypeVar("Environment", bound=FunctionEnvironment)


def read_environment(kind: type[Environment], variables: FunctionVariables) -> Environment:
    """``kind`` with every field read from ``variables`` as the field says."""
    return kind(**{each.name: each.metadata[_READ](variables) for each in fields(kind)})
