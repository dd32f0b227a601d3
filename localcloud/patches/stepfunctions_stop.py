"""``StopExecution``: stops an execution at any point of its run, and answers with its ``stopDate``.

Evidence (Step Functions API reference, ``StopExecution``): "Stops an execution"; the request takes
``executionArn`` and optional ``error`` and ``cause`` ("The error code of the failure", "A more
detailed explanation of the cause of the failure"); the response's ``stopDate`` ("The date the
execution is stopped") is required (``StopExecutionOutput`` in botocore's ``stepfunctions``
service model); the history ends in ``ExecutionAborted`` whose ``executionAbortedEventDetails`` hold
that ``error`` and ``cause``.

moto 5.2.5 (``stepfunctions/parser``) answers HTTP 500 (an HTML page) when the stop arrives before the
execution's worker thread has parsed the definition: ``Execution.stop`` calls ``exec_worker.env.set_stop``
and ``env`` is ``None`` until the thread builds it (``AttributeError``); the execution then runs to its
end as if never stopped. The window is the parse of the definition, long for a large workflow on a
loaded machine: a ``StopExecution`` sent right after ``StartExecution`` hits it. A stop in the later
instant between the environment's creation and its first state is dropped silently (``set_stop`` acts
only on a running program). The response also omits ``stopDate`` while the execution still runs (it is
set when the worker ends), and the request's ``error`` and ``cause`` are ignored.

The patch keeps a stop that arrives before the program runs and applies it as the program starts (no
state is entered, the history is ``ExecutionStarted``, ``ExecutionAborted``); the response carries the
stop's date, which ``DescribeExecution`` reports too, with ``error`` and ``cause`` in the history.
"""

from __future__ import annotations

import datetime
import threading
from typing import Any

_LOCK = threading.Lock()
# Stops that arrived before the execution's program began, by execution ARN: (date, error, cause).
_PENDING: dict[str, tuple[datetime.datetime, str | None, str | None]] = {}


def stop(execution: Any, stop_date: datetime.datetime, error: str | None, cause: str | None) -> None:
    """Stop ``execution`` now, or as soon as its program starts if it has not yet."""
    worker = execution.exec_worker
    with _LOCK:
        env = worker.env if worker is not None else None
        if env is None or env._program_state is None:
            _PENDING[execution.exec_arn] = (stop_date, error, cause)
            return
    env.set_stop(stop_date=stop_date, cause=cause, error=error)


def _apply_pending(env: Any) -> None:
    if env.is_frame():
        return
    arn = env.states.context_object.context_object_data["Execution"]["Id"]
    with _LOCK:
        pending = _PENDING.pop(arn, None)
    if pending is not None:
        stop_date, error, cause = pending
        env.set_stop(stop_date=stop_date, cause=cause, error=error)


def apply() -> None:
    from moto.core.responses import ActionResult
    from moto.stepfunctions.parser.api import ExecutionStatus
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication, Execution
    from moto.stepfunctions.responses import StepFunctionResponse

    if getattr(Program._eval_body, "_localcloud_stop", False):
        return
    run_program = Program._eval_body

    def run_program_unless_stopped(self: Any, env: Any) -> None:
        _apply_pending(env)
        run_program(self, env)

    reflect: Any = BaseExecutionWorkerCommunication._reflect_execution_status

    def reflect_with_stop_date(self: Any) -> None:
        reflect(self)
        ended = self.execution.exec_worker.env.program_state()
        if isinstance(ended, ProgramStopped):
            self.execution.stop_date = ended.stop_date

    original_response = StepFunctionResponse.stop_execution

    def stop_execution(self: Any) -> Any:
        execution = self.stepfunction_backend.describe_execution(self._get_param("executionArn"))
        if execution.exec_status != ExecutionStatus.RUNNING:
            return original_response(self)  # already ended: moto's answer, the date it ended
        now = datetime.datetime.now(tz=datetime.UTC)
        stop(execution, now, self._get_param("error"), self._get_param("cause"))
        return ActionResult({"stopDate": now})

    run_program_unless_stopped._localcloud_stop = True  # type: ignore[attr-defined]
    Program._eval_body = run_program_unless_stopped  # type: ignore[method-assign]
    BaseExecutionWorkerCommunication._reflect_execution_status = reflect_with_stop_date  # type: ignore[method-assign]
    Execution.stop = lambda self, stop_date, error, cause: stop(self, stop_date, error, cause)  # type: ignore[method-assign]
    StepFunctionResponse.stop_execution = stop_execution  # type: ignore[method-assign]
