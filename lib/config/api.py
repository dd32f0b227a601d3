"""The API stage's slice of the config: its stage-wide throttle and logging."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config.checks import require, require_at_least


@dataclass(frozen=True)
class ApiConfig:
    # Stage-wide throttle (all merchants together); each merchant's own is its tier's plan.
    throttle_rate_limit: float
    throttle_burst_limit: int
    # Data trace logs whole request bodies (payment details): off in every preset, even dev.
    data_trace_enabled: bool = False
    # The list page-token MAC key in use (KMS HMAC keys never rotate by themselves): raising it
    # by one creates the next key, which signs; the one before still verifies; older ones are
    # deleted with their tokens refused as signed by a retired key (docs/operations.md).
    page_token_key_version: int = 1

    def __post_init__(self) -> None:
        require(
            self.throttle_rate_limit > 0,
            f"throttle_rate_limit must be positive, got {self.throttle_rate_limit}",
        )
        require_at_least("throttle_burst_limit", self.throttle_burst_limit, 1)
        require_at_least("page_token_key_version", self.page_token_key_version, 1)
