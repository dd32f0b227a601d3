"""``RedriveExecution``: resume a failed, timed-out or aborted Standard execution from the state it stopped in.

Evidence (Step Functions API reference, ``RedriveExecution``): "Restarts unsuccessful executions of
Standard workflows that didn't complete successfully in the last 14 days. These include failed,
aborted, or timed out executions. When you redrive an execution, it continues the failed execution
from the unsuccessful step and uses the same input. Step Functions preserves the results and
execution history of the successful steps, and doesn't rerun these steps [...]. Redriven executions
use the same state machine definition and execution ARN"; "This API action is not supported by
EXPRESS state machines"; the redrive count is below 1,000 and the history below 25,000 events.
Refusals are ``ExecutionNotRedrivable`` with the reasons ``DescribeExecution.redriveStatusReason``
documents ("Execution is SUCCEEDED and cannot be redriven.", "Execution redrivable period exceeded.",
...). ``ExecutionRedrivenEventDetails.redriveCount``: "If you have not yet redriven an execution, the
redriveCount is 0."

moto 5.2.5 has no ``redrive_execution`` (``moto/stepfunctions/responses.py``): the call answers 500.

The patch adds the action on moto's own interpreter: the execution's history names the last
top-level state it entered and that state's input; a new worker evaluates the same definition from
that state with that input, appending ``ExecutionRedriven`` and the new events to the same history,
under the same ARN, with ``redriveCount`` and ``redriveDate`` on ``DescribeExecution``. One
difference is conservative, never kinder: a failed Map or Parallel state is run again as a whole
(AWS reruns only its failed iterations and branches), so an idempotent step may run twice here.
"""

from __future__ import annotations

import datetime
import json
from typing import Any, cast

MAX_REDRIVES = 1000
MAX_HISTORY_EVENTS = 25_000
REDRIVABLE_PERIOD = datetime.timedelta(days=14)
REDRIVABLE = ("FAILED", "TIMED_OUT", "ABORTED")


def not_redrivable_reason(execution: Any, now: datetime.datetime) -> str | None:
    """Why Step Functions would refuse to redrive ``execution`` now, in its words; None if it would not."""
    status = execution.exec_status.value if execution.exec_status is not None else "RUNNING"
    if status not in REDRIVABLE:
        return f"Execution is {status} and cannot be redriven."
    if execution.stop_date is not None and now - execution.stop_date > REDRIVABLE_PERIOD:
        return "Execution redrivable period exceeded."
    if getattr(execution, "redrive_count", 0) >= MAX_REDRIVES:
        return "Execution redrive count exceeded."
    if len(_history(execution)) >= MAX_HISTORY_EVENTS:
        return "Execution history event limit exceeded."
    return None


def _history(execution: Any) -> list[dict[str, Any]]:
    worker = execution.exec_worker
    if worker is None or worker.env is None:
        return []
    events: list[dict[str, Any]] = worker.env.event_manager.get_event_history()
    return events


def resume_point(execution: Any, top_level_states: set[str], start_at: str) -> tuple[str, Any]:
    """The last top-level state the execution entered and the input it entered with."""
    state, state_input = start_at, execution.input_data
    for event in _history(execution):
        entered = event.get("stateEnteredEventDetails")
        if entered and entered.get("name") in top_level_states:
            state, state_input = entered["name"], json.loads(entered.get("input") or "{}")
    return state, state_input


class _Detached:
    """The stopped worker's channel once a redrive replaced it: a late end of its thread changes nothing."""

    def terminated(self) -> None:
        return None


def _redrive_worker_class() -> Any:
    from moto.stepfunctions.parser.api import ExecutionRedrivenEventDetails, HistoryEventType
    from moto.stepfunctions.parser.asl.component.common.flow.start_at import StartAt
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    class RedriveWorker(ExecutionWorker):
        """Evaluates the definition from ``start_at`` with ``state_input``, continuing ``event_manager``."""

        def __init__(
            self, *args: Any, start_at: str, state_input: Any, event_manager: Any, redrive_count: int, **kwargs: Any
        ) -> None:
            super().__init__(*args, **kwargs)
            self._start_at = start_at
            self._state_input = state_input
            self._event_manager = event_manager
            self._redrive_count = redrive_count

        def _execution_logic(self) -> None:
            program: Any = self._get_evaluation_entrypoint()
            program.start_at = StartAt(self._start_at)
            self.env = self._get_evaluation_environment()
            self.env.event_manager = self._event_manager
            self.env.states.reset(self._state_input)
            self.env.event_manager.add_event(
                context=self.env.event_history_context,
                event_type=HistoryEventType.ExecutionRedriven,
                # moto's EventDetails TypedDict lacks this key; its history keeps any key it is given.
                event_details=cast(
                    EventDetails,
                    {"executionRedrivenEventDetails": ExecutionRedrivenEventDetails(redriveCount=self._redrive_count)},
                ),
                update_source_event_id=False,
            )
            program.eval(self.env)
            self._execution_communication.terminated()

    return RedriveWorker


def redrive(execution: Any, now: datetime.datetime) -> None:
    """Resume ``execution`` (already checked redrivable) from its failed state, under its own ARN."""
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.eval.evaluation_details import EvaluationDetails
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    program: Any = AmazonStateLanguageParser.parse(execution.state_machine.definition)[0]
    state, state_input = resume_point(execution, set(program.states.states), program.start_at.start_at_name)
    stopped = execution.exec_worker
    count = getattr(execution, "redrive_count", 0) + 1
    worker = _redrive_worker_class()(
        evaluation_details=EvaluationDetails(
            aws_execution_details=execution._get_start_aws_execution_details(),
            execution_details=execution.get_start_execution_details(),
            state_machine_details=execution.get_start_state_machine_details(),
        ),
        exec_comm=execution._get_start_execution_worker_comm(),
        cloud_watch_logging_session=execution._cloud_watch_logging_session,
        activity_store=execution._activity_store,
        start_at=state,
        state_input=state_input,
        event_manager=stopped.env.event_manager,
        redrive_count=count,
    )
    stopped._execution_communication = _Detached()
    execution.redrive_count = count
    execution.redrive_date = now
    execution.exec_worker = worker
    execution.exec_status = ExecutionStatus.RUNNING
    execution.stop_date = None
    execution.error = None
    execution.cause = None
    worker.start()


def apply() -> None:
    from moto.core.exceptions import AWSError
    from moto.core.responses import ActionResult
    from moto.stepfunctions.responses import StepFunctionResponse

    class ExecutionNotRedrivable(AWSError):
        TYPE = "ExecutionNotRedrivable"
        STATUS = 400

    def redrive_execution(self: Any) -> Any:
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        now = datetime.datetime.now(tz=datetime.UTC)
        if execution.sm_type == "EXPRESS":
            raise ExecutionNotRedrivable("Execution of an EXPRESS state machine cannot be redriven.")
        reason = not_redrivable_reason(execution, now)
        if reason is not None:
            raise ExecutionNotRedrivable(reason)
        redrive(execution, now)
        return ActionResult({"redriveDate": now})

    describe_execution = StepFunctionResponse.describe_execution
    if getattr(describe_execution, "_localcloud_redrive", False):
        return

    def described_with_redrive(self: Any) -> Any:
        described = describe_execution(self)
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        result: Any = described.result
        result["redriveCount"] = getattr(execution, "redrive_count", 0)
        if getattr(execution, "redrive_date", None) is not None:
            result["redriveDate"] = execution.redrive_date
        reason = not_redrivable_reason(execution, datetime.datetime.now(tz=datetime.UTC))
        result["redriveStatus"] = "NOT_REDRIVABLE" if reason else "REDRIVABLE"
        if reason:
            result["redriveStatusReason"] = reason
        return described

    described_with_redrive._localcloud_redrive = True  # type: ignore[attr-defined]
    responses: Any = StepFunctionResponse
    responses.redrive_execution = redrive_execution
    responses.describe_execution = described_with_redrive
