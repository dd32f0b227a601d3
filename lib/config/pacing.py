"""The pacing slice of the config: how many payment executions run at once, and how fast they start.

Closed loop (``payment_core/payments/admission.py``): at most ``in_flight_limit`` payment
executions are in flight, the workflow function's concurrency times the share payments may fill.
An execution runs one task step at a time, so that many never queue for the function, however
long a step really takes, and none times out waiting; the rest wait in the start slots table for
a slot the workflow frees. On top, the starter spaces its starts to the least of the account's
``StartExecution`` refill and its ``StateTransition`` refill over the transitions one payment
takes (both times the share of the account this stack may use): a rate limit, not the pace of
the workflow. Why and the arithmetic: docs/batch-files.md, "Pacing".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lib.config.checks import require

# Lambda's DynamoDB stream event source mapping: BatchSize 1 to 10,000.
STREAM_BATCH_SIZE = (1, 10_000)
# The starter stops calling StartExecution this long before its invocation would time out.
STARTER_CALL_RESERVE_MS = 1_000


@dataclass(frozen=True)
class StartPacing:
    """What ``start_pacing`` derives: the stack's start rate cap, each starter invocation's share
    of it, the stream mapping's batch size, which quota set the rate, the start slots, and the
    starter's retries of a throttled start (base and cap, ms: the config's, passed through)."""

    starts_per_second: float
    starts_per_second_per_starter: float
    batch_size: int
    limited_by: str
    in_flight_limit: int
    throttle_retry_ms: tuple[int, int]

    @property
    def start_interval_ms(self) -> int:
        """The starter's spacing between starts, rounded up: never faster than the pace."""
        return math.ceil(1000 / self.starts_per_second_per_starter)


@dataclass(frozen=True)
class PacingConfig:
    # The account's Step Functions token buckets' refill rates (per second), Standard workflows
    # (Step Functions service quotas): StartExecution 300 (us-east-1, us-west-2, eu-west-1; 150
    # elsewhere); StateTransition 5,000 (800 elsewhere). New accounts have lower transition
    # quotas: read ProvisionedRefillRate in CloudWatch (AWS/States, usage metrics) and set it.
    start_execution_refill_per_second: float
    state_transition_refill_per_second: float
    # The share of those account-wide quotas this stack's payments may use (other stacks and
    # the batch-file workflow share the account): 0 < share <= 1.
    account_share: float
    # The share of the workflow function's concurrency payment executions may fill at once (the
    # start slots: concurrency x share, rounded down, at least 1); the rest is headroom for a
    # retried step's second invocation and for manual payments' Release and Expire steps.
    workflow_utilization: float
    # The concurrency the workflow function and the starter can count on when not reserved (a
    # dev/PR stack shares the account's pool; the starter runs one batch per stream shard).
    unreserved_workflow_concurrency: int
    unreserved_starter_concurrency: int
    # How long one starter batch takes at its pace (derives the mapping's batch size).
    starter_batch_seconds: float
    # The starter's own retries of a throttled StartExecution: full jitter, doubling from the
    # base to the cap, for as long as its invocation has time (then the record is reported and
    # the mapping retries it).
    throttle_retry_base_ms: int
    throttle_retry_max_ms: int

    def __post_init__(self) -> None:
        for name in ("start_execution_refill_per_second", "state_transition_refill_per_second"):
            value = getattr(self, name)
            require(value > 0, f"pacing.{name} must be positive, got {value}")
        for name in ("account_share", "workflow_utilization"):
            value = getattr(self, name)
            require(0 < value <= 1, f"pacing.{name} must be above 0 and at most 1, got {value}")
        for name in ("unreserved_workflow_concurrency", "unreserved_starter_concurrency"):
            value = getattr(self, name)
            require(value >= 1, f"pacing.{name} must be at least 1, got {value}")
        require(
            self.starter_batch_seconds > 0,
            f"pacing.starter_batch_seconds must be positive, got {self.starter_batch_seconds}",
        )
        require(
            1 <= self.throttle_retry_base_ms <= self.throttle_retry_max_ms,
            "pacing.throttle_retry_base_ms must be at least 1 and at most pacing.throttle_retry_max_ms "
            f"({self.throttle_retry_max_ms}), got {self.throttle_retry_base_ms}",
        )


def start_pacing(
    pacing: PacingConfig,
    *,
    workflow_concurrency: int | None,
    starter_concurrency: int | None,
    transitions_per_payment: int,
) -> StartPacing:
    """The slots, the lesser of the two quota rates, the starter's share and batch size (``None``:
    unreserved). A slot holds one step at a time, whatever the number of steps or their length."""
    workflow = workflow_concurrency or pacing.unreserved_workflow_concurrency
    starters = starter_concurrency or pacing.unreserved_starter_concurrency
    in_flight = max(1, math.floor(workflow * pacing.workflow_utilization))
    rates = {
        "start_execution": pacing.start_execution_refill_per_second * pacing.account_share,
        "state_transition": pacing.state_transition_refill_per_second * pacing.account_share / transitions_per_payment,
    }
    limited_by = min(rates, key=lambda name: rates[name])
    per_starter = rates[limited_by] / starters
    low, high = STREAM_BATCH_SIZE
    batch_size = max(low, min(high, math.floor(per_starter * pacing.starter_batch_seconds)))
    throttle_retry_ms = (pacing.throttle_retry_base_ms, pacing.throttle_retry_max_ms)
    return StartPacing(rates[limited_by], per_starter, batch_size, limited_by, in_flight, throttle_retry_ms)


def check_starter_fits(pacing: StartPacing, starter_timeout_seconds: int) -> None:
    """A batch at its pace must end within half the starter's timeout: the other half is for
    throttled starts' retries before the call reserve."""
    seconds = pacing.batch_size / pacing.starts_per_second_per_starter
    require(
        seconds <= starter_timeout_seconds / 2,
        f"pacing: a starter batch of {pacing.batch_size} at {pacing.starts_per_second_per_starter:.3g} starts/s "
        f"takes {seconds:.3g} s, more than half the workflow_starter timeout ({starter_timeout_seconds} s): "
        "raise functions.workflow_starter.timeout_seconds or the pace",
    )
