"""The webhooks' slice of the config: how long a delivery is retried, how the retries spread out,
and how long a rotated-out signing secret keeps signing."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from lib.config.checks import Slice, require, within
from lib.config.limits import SQS_MAX_RECEIVE_COUNT, SQS_RETENTION_SECONDS, SQS_VISIBILITY_TIMEOUT_SECONDS

# A minute at least (a test configuration retries for minutes); a message must still be in the
# queue when its last retry is due: the horizon plus one backoff fits SQS's 14-day retention.
HORIZON_SECONDS = (60, SQS_RETENTION_SECONDS[1])
# One retry's wait is a message's visibility timeout (ChangeMessageVisibility: at most 12 h).
BACKOFF_SECONDS = (1, SQS_VISIBILITY_TIMEOUT_SECONDS[1])
# A rotation's overlap: a minute to 30 days for the merchant to deploy the new secret.
SECRET_OVERLAP_SECONDS = (60, 30 * 24 * 3600)
# The jitter multiplies each wait by a factor in [JITTER_FLOOR, 1] (payment_core.webhooks.delivery).
JITTER_FLOOR = 0.5
# Receives a message may take beyond its attempts before the redrive policy dead-letters it:
# a throttled invocation counts as a receive too.
RECEIVE_MARGIN = 5


@dataclass(frozen=True)
class WebhooksConfig(Slice):
    SECTION = "webhooks."
    # Seconds from a delivery's first attempt after which a failing endpoint is disabled.
    horizon_seconds: int = field(metadata=within(HORIZON_SECONDS))
    # Retry n waits min(cap, base * 2^(n-1)) seconds times a jitter factor in [0.5, 1].
    backoff_base_seconds: int = field(metadata=within(BACKOFF_SECONDS))
    backoff_cap_seconds: int = field(metadata=within(BACKOFF_SECONDS))
    secret_overlap_seconds: int = field(metadata=within(SECRET_OVERLAP_SECONDS))

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.backoff_base_seconds <= self.backoff_cap_seconds,
            f"webhooks.backoff_base_seconds must be at most webhooks.backoff_cap_seconds ({self.backoff_cap_seconds}),"
            f" got {self.backoff_base_seconds}",
        )
        require(
            self.horizon_seconds + self.backoff_cap_seconds <= SQS_RETENTION_SECONDS[1],
            f"webhooks.horizon_seconds plus webhooks.backoff_cap_seconds must be at most SQS's retention "
            f"({SQS_RETENTION_SECONDS[1]}), got {self.horizon_seconds + self.backoff_cap_seconds}",
        )
        require(
            self.max_receive_count <= SQS_MAX_RECEIVE_COUNT[1],
            f"webhooks: the horizon needs {self.max_receive_count} receives of a message at the shortest "
            f"backoff, above SQS's {SQS_MAX_RECEIVE_COUNT[1]}: raise backoff_base_seconds or backoff_cap_seconds",
        )

    @property
    def attempts_within_horizon(self) -> int:
        """The most attempts one delivery can make before the horizon: every wait at its shortest
        (the jitter's floor), until the waits add up to the horizon."""
        elapsed, attempts = 0.0, 1
        while elapsed < self.horizon_seconds:
            wait = min(self.backoff_cap_seconds, self.backoff_base_seconds * 2 ** (attempts - 1))
            elapsed += math.floor(wait * JITTER_FLOOR) or 1
            attempts += 1
        return attempts

    @property
    def max_receive_count(self) -> int:
        """The delivery queue's redrive threshold: past every attempt the horizon allows (then the
        endpoint is disabled and the message deleted), so the DLQ holds only messages whose
        delivery function failed on infrastructure, not on the merchant's endpoint."""
        return self.attempts_within_horizon + RECEIVE_MARGIN
