"""Distributed Map runs fail when their failed items exceed the tolerated threshold, as on AWS.

moto 5.2.5 (``stepfunctions/parser/.../distributed_item_processor_worker.py``) counts a child
execution that failed (``item_counter.failed``) but never compares the count with
``ToleratedFailureCount``/``ToleratedFailurePercentage``: a Map Run whose every item failed
ends ``SUCCEEDED`` (checked: ``DescribeMapRun`` says ``itemCounts.failed: 1``,
``status: SUCCEEDED``). AWS: "The default percentage value is zero, which means that the
workflow fails if any one of its child workflow executions fails or times out", and the run
fails with ``States.ExceedToleratedFailureThreshold``; with both values set it fails when
either is exceeded; the percentage is (failed + timed out) / total items
(https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html).

The check runs once the run's items have finished (AWS "may continue to run child workflows
… after the tolerated failure threshold is exceeded, but before the Map Run fails"). moto keeps
only the values, not whether a field was given: a threshold of 0 is read as "not given" when
the other one is positive (a definition that sets one of them to 0 explicitly and the other
above 0 is the only one this reads more leniently than AWS).
"""

from __future__ import annotations

from typing import Any

from localcloud.stepfunctions_failures import map_run_failed

STATES_EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"


def exceeds_tolerance(failed: int, total: int, tolerated_count: int, tolerated_percentage: float) -> bool:
    if failed == 0:
        return False
    checks = []
    if tolerated_count > 0 or tolerated_percentage == 0:
        checks.append(failed > tolerated_count)
    if tolerated_percentage > 0 or tolerated_count == 0:
        checks.append(total > 0 and failed * 100.0 / total > tolerated_percentage)
    return any(checks)


def apply() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.distributed_iteration_component import (
        DistributedIterationComponent,
    )

    original = DistributedIterationComponent._map_run

    def _map_run(self: Any, env: Any, eval_input: Any) -> None:
        original(self, env, eval_input)
        record = eval_input.map_run_record
        counts = record.item_counter
        failed = counts.failed.get() + counts.timed_out.get()
        total = counts.total.get()
        if exceeds_tolerance(failed, total, record.tolerated_failure_count, record.tolerated_failure_percentage):
            raise map_run_failed(
                env,
                "StatesExceedToleratedFailureThreshold",
                f"The specified tolerated failure threshold was exceeded: {failed} of {total} items failed "
                f"(ToleratedFailureCount {record.tolerated_failure_count}, "
                f"ToleratedFailurePercentage {record.tolerated_failure_percentage})",
            )

    DistributedIterationComponent._map_run = _map_run  # type: ignore[method-assign]
