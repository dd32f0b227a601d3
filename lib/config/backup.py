"""The backups' slice of the config: whether an AWS Backup plan copies the tables out of the stack.

On, the environment's tables are backed up on ``schedule`` into the account stack's vault (so
destroying the environment leaves the recovery points) and, where the environment has a DR region
(``disaster_recovery.dr_region``), copied into the account's vault there (lib/components/backup.py).
Off (dev and PR stacks: synthetic data), the tables keep only their own point-in-time recovery.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lib.config.checks import Slice, require, within

# AWS Backup takes a six-field cron expression in UTC (BackupRule.ScheduleExpression); rate() is refused.
_CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
# DeleteAfterDays: at least a day; 100 years is AWS Backup's longest retention.
BACKUP_RETENTION_DAYS = (1, 36_500)
# MoveToColdStorageAfterDays: a recovery point in cold storage stays there at least 90 days, so
# AWS Backup refuses a DeleteAfterDays less than 90 days after it (AWS Backup developer guide,
# "Lifecycle and storage tiers").
COLD_STORAGE_MINIMUM_DAYS = 90


@dataclass(frozen=True)
class BackupConfig(Slice):
    SECTION = "backup."
    enabled: bool
    # When the plan's rule starts a backup job (cron, UTC).
    schedule: str
    # Days a recovery point is kept, in the account's vault and in the DR region's.
    retention_days: int = field(metadata=within(BACKUP_RETENTION_DAYS))
    # Days before a recovery point moves to cold storage; None keeps it warm.
    cold_storage_after_days: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            bool(_CRON.fullmatch(self.schedule)),
            f"backup.schedule must be a six-field cron expression such as cron(0 3 * * ? *), got {self.schedule!r}",
        )
        cold = self.cold_storage_after_days
        if cold is not None:
            require(cold >= 1, f"backup.cold_storage_after_days must be at least 1, got {cold}")
            require(
                self.retention_days >= cold + COLD_STORAGE_MINIMUM_DAYS,
                f"backup.retention_days must be at least backup.cold_storage_after_days + {COLD_STORAGE_MINIMUM_DAYS} "
                f"({cold + COLD_STORAGE_MINIMUM_DAYS}): cold storage keeps a recovery point "
                f"{COLD_STORAGE_MINIMUM_DAYS} days, got {self.retention_days}",
            )
