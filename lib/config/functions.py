"""The Lambda functions' slice of the config: each function's sizing."""

from __future__ import annotations

from dataclasses import dataclass, field

from payment_core.contract import FUNCTION_NAMES

from lib.config.checks import Slice, require, within
from lib.config.limits import LAMBDA_MEMORY_MB, LAMBDA_TIMEOUT_SECONDS


@dataclass(frozen=True)
class FunctionSettings(Slice):
    """Sizing of one Lambda function role."""

    memory_mb: int = field(metadata=within(LAMBDA_MEMORY_MB))
    timeout_seconds: int = field(metadata=within(LAMBDA_TIMEOUT_SECONDS))
    # None: the function draws on the account's unreserved pool (dev/PR stacks: a new account's
    # limit of 10 or 50 cannot hold a reservation per stack). A number reserves (and caps) it.
    reserved_concurrency: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.reserved_concurrency is None or self.reserved_concurrency >= 1,
            f"reserved_concurrency must be None or at least 1, got {self.reserved_concurrency}",
        )


@dataclass(frozen=True)
class FunctionsConfig:
    api: FunctionSettings
    workflow: FunctionSettings
    batch_ingest: FunctionSettings
    queue_consumer: FunctionSettings
    workflow_starter: FunctionSettings
    authorizer: FunctionSettings
    sweeper: FunctionSettings
    event_writer: FunctionSettings
    webhook_fanout: FunctionSettings
    # Runs one delivery attempt (contract.WEBHOOK_DELIVERY_TIMEOUT_SECONDS per socket step).
    webhook_delivery: FunctionSettings

    def by_name(self) -> dict[str, FunctionSettings]:
        """Sizing by the contract's function name (the fields are named alike)."""
        return {name: getattr(self, name) for name in FUNCTION_NAMES}
