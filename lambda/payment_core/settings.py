"""Each function's environment, typed: read once per execution environment, checked as it is read.

Which variables a function reads is ``contract.FUNCTION_ENVIRONMENT`` (the stack sets exactly
those): ``FunctionVariables`` refuses a variable the contract does not give the function, so
the dataclasses below cannot drift from it, and names a missing or malformed one in its error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import partial
from typing import TypeVar

from payment_core import contract
from payment_core.payments.currency_limits import CurrencyLimits
from payment_core.payments.money import parse_currencies


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

    def names(self, name: str) -> frozenset[str]:
        """A comma-separated list, which may be empty."""
        return frozenset(item.strip() for item in self._get(name).split(",") if item.strip())

    def positive_int(self, name: str) -> int:
        raw = self.required(name)
        if not (raw.isascii() and raw.isdigit() and int(raw) > 0):
            raise ValueError(f"{name} must be a positive integer, got {raw!r}")
        return int(raw)


@dataclass(frozen=True)
class BusinessRules:
    amount_limits: CurrencyLimits  # the largest amount per currency (MAX_PAYMENT_AMOUNT: CUR=AMOUNT,...)
    allowed_currencies: frozenset[str]
    blocked_merchant_ids: frozenset[str] = frozenset()

    @classmethod
    def read(cls, variables: FunctionVariables, *, blocking: bool = False) -> BusinessRules:
        """Amount and currency limits; with ``blocking``, also the blocked merchants (the workflow's)."""
        allowed = parse_currencies(variables.required(contract.ALLOWED_CURRENCIES))
        try:
            limits = CurrencyLimits.parse(variables.required(contract.MAX_PAYMENT_AMOUNT), allowed)
        except ValueError as exc:
            raise ValueError(f"{contract.MAX_PAYMENT_AMOUNT}: {exc}") from exc
        return cls(
            amount_limits=limits,
            allowed_currencies=allowed,
            blocked_merchant_ids=variables.names(contract.BLOCKED_MERCHANT_IDS) if blocking else frozenset(),
        )


@dataclass(frozen=True)
class PaymentTables:
    payments: str
    audit: str

    @classmethod
    def read(cls, variables: FunctionVariables) -> PaymentTables:
        return cls(
            payments=variables.required(contract.PAYMENTS_TABLE_NAME),
            audit=variables.required(contract.AUDIT_TABLE_NAME),
        )


# Each function's environment is a frozen dataclass whose fields say how they are read; a
# function that reads what another does plus more extends that one's class.


_READ = "read"


def _reads(read: Callable[[FunctionVariables], object]) -> dict[str, object]:
    """A field's metadata: how ``read_environment`` reads it."""
    return {_READ: read}


def _variable(name: str) -> dict[str, object]:
    return _reads(lambda variables: variables.required(name))


def _positive_int(name: str) -> dict[str, object]:
    return _reads(lambda variables: variables.positive_int(name))


@dataclass(frozen=True)
class FunctionEnvironment:
    """What every function reads: the business rules it checks payments against."""

    rules: BusinessRules = field(metadata=_reads(BusinessRules.read))


@dataclass(frozen=True)
class PaymentsEnvironment(FunctionEnvironment):
    """A function that reads and writes payments and their audit trail."""

    payment_tables: PaymentTables = field(metadata=_reads(PaymentTables.read))


@dataclass(frozen=True)
class IntakeEnvironment(PaymentsEnvironment):
    """A function that stores new payments (their stream records start the workflows)."""


@dataclass(frozen=True)
class ApiEnvironment(IntakeEnvironment):
    """The intake function behind API Gateway: also the key that signs list page tokens."""

    page_token_key_id: str = field(metadata=_variable(contract.PAGE_TOKEN_KEY_ID))


@dataclass(frozen=True)
class QueueConsumerEnvironment(IntakeEnvironment):
    """Reads what every intake function reads, and nothing else."""


@dataclass(frozen=True)
class WorkflowEnvironment(PaymentsEnvironment):
    """The workflow's steps: its Validate step also refuses blocked merchants; Notify publishes."""

    rules: BusinessRules = field(metadata=_reads(partial(BusinessRules.read, blocking=True)))
    status_topic_arn: str = field(metadata=_variable(contract.STATUS_TOPIC_ARN))


@dataclass(frozen=True)
class WorkflowStarterEnvironment(FunctionEnvironment):
    """Starts the workflow of each new payment from the payments table's stream (the outbox)."""

    state_machine_arn: str = field(metadata=_variable(contract.STATE_MACHINE_ARN))


@dataclass(frozen=True)
class BatchIngestEnvironment(FunctionEnvironment):
    """Starts each batch file's execution; plans it, queues its chunks' rows once, reports."""

    batch_jobs_table: str = field(metadata=_variable(contract.BATCH_JOBS_TABLE_NAME))
    batch_claims_table: str = field(metadata=_variable(contract.BATCH_CLAIMS_TABLE_NAME))
    batch_state_machine_arn: str = field(metadata=_variable(contract.BATCH_STATE_MACHINE_ARN))
    records_per_chunk: int = field(metadata=_positive_int(contract.BATCH_RECORDS_PER_CHUNK))
    time_reserve_ms: int = field(metadata=_positive_int(contract.BATCH_TIME_RESERVE_MS))
    payment_queue_url: str = field(metadata=_variable(contract.PAYMENT_QUEUE_URL))
    merchants_table: str = field(metadata=_variable(contract.MERCHANTS_TABLE_NAME))


@dataclass(frozen=True)
class AuthorizerEnvironment(FunctionEnvironment):
    """The API's Lambda authorizer: resolves API keys in the merchants table."""

    merchants_table: str = field(metadata=_variable(contract.MERCHANTS_TABLE_NAME))


Environment = TypeVar("Environment", bound=FunctionEnvironment)


def read_environment(kind: type[Environment], variables: FunctionVariables) -> Environment:
    """``kind`` with every field read from ``variables`` as the field says."""
    return kind(**{each.name: each.metadata[_READ](variables) for each in fields(kind)})
