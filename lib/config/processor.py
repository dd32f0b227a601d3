"""The processor's slice of the config: which connector the workflow reaches the card processor through."""

from __future__ import annotations

from dataclasses import dataclass

from payment_core import contract

from lib.config.checks import require


@dataclass(frozen=True)
class ProcessorConfig:
    # One of contract.PROCESSOR_CONNECTORS (payment_core.payments.connector builds it by name).
    connector: str

    def __post_init__(self) -> None:
        require(
            self.connector in contract.PROCESSOR_CONNECTORS,
            f"processor.connector must be one of {', '.join(contract.PROCESSOR_CONNECTORS)}, got {self.connector!r}",
        )
