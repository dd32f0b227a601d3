"""The DynamoDB tables' slice of the config: their capacity mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lib.config.checks import require

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]


@dataclass(frozen=True)
class TableConfig:
    # Every preset is on demand: a batch file's burst of writes must never be throttled, and
    # provisioned capacity would also need autoscaling resources (checkov CKV2_AWS_16).
    billing_mode: BillingMode
    # Only read when billing_mode is PROVISIONED; applied to the table and each GSI.
    read_capacity: int = 0
    write_capacity: int = 0

    def __post_init__(self) -> None:
        require(
            self.billing_mode in ("PAY_PER_REQUEST", "PROVISIONED"),
            f"billing_mode must be PAY_PER_REQUEST or PROVISIONED, got {self.billing_mode!r}",
        )
        if self.billing_mode == "PROVISIONED":
            require(
                self.read_capacity >= 1 and self.write_capacity >= 1,
                "read_capacity and write_capacity must be at least 1 when billing_mode is "
                f"PROVISIONED, got {self.read_capacity} and {self.write_capacity}",
            )
        else:
            require(
                self.read_capacity == 0 and self.write_capacity == 0,
                "read_capacity and write_capacity must be 0 when billing_mode is PAY_PER_REQUEST",
            )
