"""What a component says about the alarms on its own resources; ``Monitoring`` builds them.

The component that owns a resource knows which of its metrics mean "someone must act" (a
give-up record written, a queue's oldest message ageing, a table throttled); Monitoring owns
the alarm topic, the thresholds' common settings (period, evaluation periods) and the names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine


@dataclass(frozen=True)
class AlarmSpec:
    """One alarm: ``stem`` is its name before the environment suffix (``<stem>-<suffix>``)."""

    stem: str
    namespace: str
    metric: str
    dimensions: Mapping[str, str]
    threshold: int
    statistic: str = "Sum"
    comparison: str = "GreaterThanOrEqualToThreshold"
    # Metrics published less often than the configured period (S3's daily storage metrics) set their own.
    period_seconds: int | None = None
    description: str = field(default="")


class AlarmSource(Protocol):
    """A component that owns resources worth an alarm."""

    @property
    def alarm_specs(self) -> list[AlarmSpec]: ...


def step_functions_throttle_specs(state_machines: Mapping[str, SfnStateMachine], threshold: int) -> list[AlarmSpec]:
    """Step Functions throttling, which retries only hide until executions time out: each state
    machine's throttled transitions (``<stem>-throttled``, ``ExecutionThrottled``), and the
    account's ``StartExecution`` and state-transition token buckets (``ThrottledEvents`` by
    ``APIName`` and by ``ServiceMetric``; Step Functions developer guide, "Step Functions
    metrics for CloudWatch"). Account-wide: a stack's alarm also sees its neighbours' throttles."""
    per_machine = [
        AlarmSpec(f"{stem}-throttled", "AWS/States", "ExecutionThrottled", {"StateMachineArn": machine.arn}, threshold)
        for stem, machine in state_machines.items()
    ]
    return [
        *per_machine,
        AlarmSpec(
            "step-functions-start-execution-throttled",
            "AWS/States",
            "ThrottledEvents",
            {"APIName": "StartExecution"},
            threshold,
        ),
        AlarmSpec(
            "step-functions-state-transitions-throttled",
            "AWS/States",
            "ThrottledEvents",
            {"ServiceMetric": "StateTransition"},
            threshold,
        ),
    ]
