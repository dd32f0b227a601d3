"""What every function that reads and writes payments adds to its runtime: the tables, the repository
(and the start slots and state machine, for the functions that admit payments).

``api`` and ``queue_consumer`` store new payments (their stream records start the workflows
through the outbox), ``workflow`` moves them through their lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from payment_core import contract
from payment_core.payments.refund_store import RefundStore
from payment_core.payments.repository import PaymentRepository
from payment_core.runtime import Cached, FunctionRuntime
from payment_core.settings import FunctionEnvironment, FunctionVariables, positive_int, reads, variable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from payment_core.payments.admission import StartSlots


@dataclass(frozen=True)
class PaymentTables:
    """The payments table and the audit table."""

    payments: str
    audit: str

    @classmethod
    def read(cls, variables: FunctionVariables) -> PaymentTables:
        return cls(
            payments=variables.required(contract.PAYMENTS_TABLE_NAME),
            audit=variables.required(contract.AUDIT_TABLE_NAME),
        )


@dataclass(frozen=True)
class AdmittingEnvironment(FunctionEnvironment):
    """A function that takes, frees or reclaims start slots and starts the payments' executions
    (the workflow starter, the workflow, the sweeper): the stack's StartSlots variables."""

    state_machine_arn: str = field(metadata=variable(contract.STATE_MACHINE_ARN))
    start_slots_table: str = field(metadata=variable(contract.START_SLOTS_TABLE_NAME))
    in_flight_limit: int = field(metadata=positive_int(contract.IN_FLIGHT_LIMIT))

    def start_slots(self, client: DynamoDBClient) -> StartSlots:
        # Imported here: api and queue_consumer import this module too, and their cold start need
        # not load admission (make bench, cold start).
        from payment_core.payments.admission import StartSlots

        return StartSlots(client, self.start_slots_table, self.in_flight_limit)


@dataclass(frozen=True)
class PaymentsEnvironment(FunctionEnvironment):
    """A function that reads and writes payments and their audit trail."""

    payment_tables: PaymentTables = field(metadata=reads(PaymentTables.read))


Payments = TypeVar("Payments", bound=PaymentsEnvironment)


class PaymentsRuntime(FunctionRuntime[Payments]):
    """A function that reads and writes payments."""

    def __init__(self, function: str, environment: type[Payments]) -> None:
        super().__init__(function, environment)
        self.payment_repository: Cached[PaymentRepository] = self.cached(self._payment_repository)
        # Refunds share the payments table and the audit table (payment_core.payments.refund_store).
        self.refund_store: Cached[RefundStore] = self.cached(self._refund_store)

    def _payment_repository(self) -> PaymentRepository:
        tables = self.environment().payment_tables
        return PaymentRepository(self.dynamodb(), tables.payments, tables.audit)

    def _refund_store(self) -> RefundStore:
        tables = self.environment().payment_tables
        return RefundStore(self.dynamodb(), tables.payments, tables.audit)
