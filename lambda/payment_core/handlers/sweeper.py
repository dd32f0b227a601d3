"""The sweeper: on a schedule, re-drive payments left non-final past a bound (payment_core.payments.sweeping).

Publishes what it found and did, and the age of the oldest non-final payment (alarmed), as
metrics in the platform's namespace; logs the ids a human has to look at. A sweep in which a
call failed still sweeps every other payment, then fails the invocation so the function's
error alarm sees it (the next sweep tries again; everything it does is idempotent).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from payment_core import contract
from payment_core.payments.models import utc_now
from payment_core.payments.sweeping import (
    FOUND_METRIC,
    RECLAIMED_METRIC,
    WOKEN_METRIC,
    OpenPayments,
    Outcome,
    PaymentExecutions,
    sweep,
)
from payment_core.payments.wiring import AdmittingEnvironment
from payment_core.runtime import FunctionRuntime
from payment_core.settings import SECOND, duration, variable


@dataclass(frozen=True)
class SweeperEnvironment(AdmittingEnvironment):
    """The start slots, the payments table, and how old an open payment is before it is swept."""

    payments_table: str = field(metadata=variable(contract.PAYMENTS_TABLE_NAME))
    stale_after: timedelta = field(metadata=duration(contract.SWEEP_STALE_AFTER_SECONDS, SECOND))


runtime = FunctionRuntime(contract.SWEEPER, SweeperEnvironment)
open_payments = runtime.cached(lambda: OpenPayments(runtime.dynamodb(), runtime.environment().payments_table))
executions = runtime.cached(lambda: PaymentExecutions(runtime.stepfunctions(), runtime.environment().state_machine_arn))
start_slots = runtime.cached(lambda: runtime.environment().start_slots(runtime.dynamodb()))


class SweepIncomplete(Exception):
    """Some payments could not be looked at or re-driven this time (their ids are logged)."""


@runtime.handler()
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep(open_payments(), executions(), start_slots(), utc_now(), runtime.environment().stale_after)
    runtime.count(FOUND_METRIC, report.found)
    runtime.count(RECLAIMED_METRIC, report.reclaimed)
    runtime.count(WOKEN_METRIC, report.woken)
    for outcome in Outcome:
        runtime.count(outcome.value, report.outcomes[outcome])
    runtime.metrics.add_metric(
        name=contract.OLDEST_OPEN_PAYMENT_AGE_METRIC, unit=MetricUnit.Seconds, value=report.oldest_open_age_seconds
    )
    summary = {
        "found": report.found,
        "reclaimed": report.reclaimed,
        "woken": report.woken,
        **{o.value: n for o, n in report.outcomes.items()},
    }
    if report.needs_a_human:
        runtime.logger.error("stale payments need a human", extra={"payment_ids": report.needs_a_human, **summary})
    if report.outcomes[Outcome.ERROR]:
        raise SweepIncomplete(f"{report.outcomes[Outcome.ERROR]} stale payments could not be re-driven this time")
    return summary
