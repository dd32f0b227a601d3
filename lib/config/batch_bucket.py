"""The batch-file bucket's slice of the config: versioning and lifecycle."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config.checks import require, require_at_least
from lib.config.limits import S3_STANDARD_IA_MIN_DAYS


@dataclass(frozen=True)
class BatchBucketConfig:
    versioning: bool
    # Processed batch files are evidence for audits; they move to cheaper storage, then expire.
    transition_to_ia_days: int
    expiration_days: int
    noncurrent_version_expiration_days: int

    def __post_init__(self) -> None:
        require(
            self.transition_to_ia_days >= S3_STANDARD_IA_MIN_DAYS,
            f"transition_to_ia_days must be at least {S3_STANDARD_IA_MIN_DAYS}, got {self.transition_to_ia_days}",
        )
        require(
            self.expiration_days > self.transition_to_ia_days,
            "expiration_days must be greater than transition_to_ia_days, "
            f"got {self.expiration_days} <= {self.transition_to_ia_days}",
        )
        require_at_least("noncurrent_version_expiration_days", self.noncurrent_version_expiration_days, 1)
