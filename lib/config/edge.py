"""The API edge's slice of the config: the web ACL in front of the stage."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config.checks import require_between
from lib.config.limits import WAF_RATE_LIMIT


@dataclass(frozen=True)
class EdgeConfig:
    """The WAFv2 web ACL in front of the stage (PCI DSS v4.0 6.4.2)."""

    waf_enabled: bool
    # Requests per source IP in any 5-minute window before the rate-based rule blocks it.
    rate_limit_per_5_minutes: int

    def __post_init__(self) -> None:
        require_between("rate_limit_per_5_minutes", self.rate_limit_per_5_minutes, WAF_RATE_LIMIT)
