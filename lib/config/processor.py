"""The processor's slice of the config: which connector the workflow reaches the card processor through."""

from __future__ import annotations

from dataclasses import dataclass, field

from payment_core import contract

from lib.config.checks import Slice, require, within

# A manual payment's authorization must be captured within this window, else it is voided by itself
# (EXPIRED). Card networks hold an authorization from a few days to about 30; at least a minute, so
# a test stack can shorten it and still capture within it.
AUTHORIZATION_WINDOW_SECONDS = (60, 30 * 24 * 3600)


@dataclass(frozen=True)
class ProcessorConfig(Slice):
    SECTION = "processor."
    # One of contract.PROCESSOR_CONNECTORS (payment_core.payments.connector builds it by name).
    connector: str
    # AwaitCapture's TimeoutSeconds (lib/components/workflow.py).
    authorization_window_seconds: int = field(metadata=within(AUTHORIZATION_WINDOW_SECONDS))

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.connector in contract.PROCESSOR_CONNECTORS,
            f"processor.connector must be one of {', '.join(contract.PROCESSOR_CONNECTORS)}, got {self.connector!r}",
        )
