"""Each function's environment, typed: read once per execution environment, checked as it is read.

Which variables a function reads is ``contract.FUNCTION_ENVIRONMENT`` (the stack sets exactly
those): ``FunctionVariables`` refuses a variable the contract does not give the function, so
the dataclasses below cannot drift from it, and names a missing or malformed one in its error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from payment_core import contract
from payment_core.money import parse_currencies


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
    max_payment_amount: Decimal
    allowed_currencies: frozenset[str]
    blocked_merchant_ids: frozenset[str] = frozenset()

    @classmethod
    def read(cls, variables: FunctionVariables, *, blocking: bool = False) -> BusinessRules:
        """Amount and currency limits; with ``blocking``, also the blocked merchants (the workflow's)."""
        raw_max = variables.required(contract.MAX_PAYMENT_AMOUNT)
        try:
            maximum = Decimal(raw_max)
        except InvalidOperation as exc:
            raise ValueError(f"{contract.MAX_PAYMENT_AMOUNT} is not a number: {raw_max!r}") from exc
        if not maximum.is_finite() or maximum <= 0:
            raise ValueError(f"{contract.MAX_PAYMENT_AMOUNT} must be a positive number")
        return cls(
            max_payment_amount=maximum,
            allowed_currencies=parse_currencies(variables.required(contract.ALLOWED_CURRENCIES)),
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


@dataclass(frozen=True)
class ApiEnvironment:
    payment_tables: PaymentTables
    state_machine_arn: str
    idempotency_table: str
    idempotency_ttl_seconds: int
    rules: BusinessRules

    @classmethod
    def read(cls, variables: FunctionVariables) -> ApiEnvironment:
        return cls(
            payment_tables=PaymentTables.read(variables),
            state_machine_arn=variables.required(contract.STATE_MACHINE_ARN),
            idempotency_table=variables.required(contract.IDEMPOTENCY_TABLE_NAME),
            idempotency_ttl_seconds=variables.positive_int(contract.IDEMPOTENCY_TTL_SECONDS),
            rules=BusinessRules.read(variables),
        )


@dataclass(frozen=True)
class WorkflowEnvironment:
    payment_tables: PaymentTables
    status_topic_arn: str
    rules: BusinessRules

    @classmethod
    def read(cls, variables: FunctionVariables) -> WorkflowEnvironment:
        return cls(
            payment_tables=PaymentTables.read(variables),
            status_topic_arn=variables.required(contract.STATUS_TOPIC_ARN),
            rules=BusinessRules.read(variables, blocking=True),
        )


@dataclass(frozen=True)
class BatchIngestEnvironment:
    batch_jobs_table: str
    payment_queue_url: str
    rules: BusinessRules

    @classmethod
    def read(cls, variables: FunctionVariables) -> BatchIngestEnvironment:
        return cls(
            batch_jobs_table=variables.required(contract.BATCH_JOBS_TABLE_NAME),
            payment_queue_url=variables.required(contract.PAYMENT_QUEUE_URL),
            rules=BusinessRules.read(variables),
        )


@dataclass(frozen=True)
class QueueConsumerEnvironment:
    payment_tables: PaymentTables
    state_machine_arn: str
    rules: BusinessRules

    @classmethod
    def read(cls, variables: FunctionVariables) -> QueueConsumerEnvironment:
        return cls(
            payment_tables=PaymentTables.read(variables),
            state_machine_arn=variables.required(contract.STATE_MACHINE_ARN),
            rules=BusinessRules.read(variables),
        )
