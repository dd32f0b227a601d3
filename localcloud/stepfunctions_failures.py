"""The ``States.*`` errors the emulator's Step Functions patches raise, built as moto builds its own.

moto signals a state's failure with a ``FailureEventException`` carrying a ``FailureEvent``: the
state's ``Retry``/``Catch`` see its error name, and the execution history records the event
(``TaskFailed`` for a state's task, ``MapRunFailed`` for a Distributed Map's run). moto is imported
on call: these run inside the emulator process only.
"""

from __future__ import annotations

from typing import Any, cast


def task_failed(env: Any, error: str, cause: str) -> Exception:
    """``error`` (a ``StatesErrorNameType`` member's name) as a ``TaskFailed`` event with ``cause``."""
    from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails

    return _failure(env, error, HistoryEventType.TaskFailed, "taskFailedEventDetails", TaskFailedEventDetails, cause)


def map_run_failed(env: Any, error: str, cause: str) -> Exception:
    """``error`` (a ``StatesErrorNameType`` member's name) as a ``MapRunFailed`` event with ``cause``."""
    from moto.stepfunctions.parser.api import HistoryEventType, MapRunFailedEventDetails

    return _failure(
        env, error, HistoryEventType.MapRunFailed, "mapRunFailedEventDetails", MapRunFailedEventDetails, cause
    )


def _failure(env: Any, error: str, event_type: Any, details_field: str, details_type: Any, cause: str) -> Exception:
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
        FailureEvent,
        FailureEventException,
    )
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
        StatesErrorNameType,
    )
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    error_name = StatesErrorName(typ=StatesErrorNameType[error])
    details = details_type(error=error_name.error_name, cause=cause)
    return FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=error_name,
            event_type=event_type,
            # moto's EventDetails is a total TypedDict of every kind of detail; an event carries one.
            event_details=cast(EventDetails, {details_field: details}),
        )
    )
