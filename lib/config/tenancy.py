"""The tenancy slice of the config: merchants' usage-plan tiers and the authorizer's cache."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lib.config.checks import Slice, require, within
from lib.config.limits import AUTHORIZER_CACHE_TTL_SECONDS

_TIER_NAME_PATTERN = re.compile(r"^[a-z0-9-]{1,32}$")


@dataclass(frozen=True)
class MerchantTier:
    """A usage plan merchants are put in by ``make merchant TIER=<name>``: API Gateway then
    throttles and meters each merchant's API key on its own."""

    name: str
    rate_limit: float
    burst_limit: int
    daily_quota: int

    def __post_init__(self) -> None:
        require(
            bool(_TIER_NAME_PATTERN.fullmatch(self.name)),
            f"merchant tier name must match [a-z0-9-]{{1,32}}, got {self.name!r}",
        )
        require(self.rate_limit > 0, f"merchant tier {self.name}: rate_limit must be positive, got {self.rate_limit}")
        require(
            self.burst_limit >= 1, f"merchant tier {self.name}: burst_limit must be at least 1, got {self.burst_limit}"
        )
        require(
            self.daily_quota >= 1, f"merchant tier {self.name}: daily_quota must be at least 1, got {self.daily_quota}"
        )


@dataclass(frozen=True)
class TenancyConfig(Slice):
    merchant_tiers: tuple[MerchantTier, ...]
    # Seconds API Gateway caches the authorizer's answer per API key. 0 in every preset: a
    # cached Allow would outlive ``make merchant DISABLE=1`` by up to this long (docs/architecture.md).
    authorizer_cache_ttl_seconds: int = field(metadata=within(AUTHORIZER_CACHE_TTL_SECONDS))

    def __post_init__(self) -> None:
        super().__post_init__()
        names = [tier.name for tier in self.merchant_tiers]
        require(len(names) >= 1, "merchant_tiers must not be empty")
        require(len(set(names)) == len(names), f"merchant tier names must be unique, got {names}")
