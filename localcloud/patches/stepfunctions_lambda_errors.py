"""A Lambda task whose Invoke is refused fails with ``Lambda.<error code>``, as on AWS.

Evidence: Step Functions developer guide, "Handle Lambda service exceptions": "Lambda errors are
reported as Lambda.<error>... When Lambda hits the maximum number of invocations, the error is
Lambda.TooManyRequestsException". moto 5.2.5 does so for the ``arn:aws:states:::lambda:invoke``
integration (``StateTaskServiceLambda._error_cause_from_client_error``), but a Task whose
``Resource`` is the function ARN itself (what this stack uses) goes through
``StateTaskLambda._from_error``, which names every ``ClientError`` just ``Exception``. With
reserved concurrency enforced (``lambda_runtime``), a throttled step would then match neither a
``Lambda.TooManyRequestsException`` retrier nor anything but ``States.ALL``.

The patch gives the function-ARN task the integration's error name and cause. (moto's own Lambda
client in the interpreter makes one attempt, ``total_max_attempts=1``, as Step Functions
reports the throttle to the state machine rather than retrying it itself.)
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.api import HistoryEventType, LambdaFunctionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import FailureEvent
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
        StateTaskServiceLambda,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda
    from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails

    original = StateTaskLambda._from_error

    def _from_error(self: Any, env: Any, ex: Exception) -> Any:
        if not isinstance(ex, ClientError):
            return original(self, env, ex)
        error, cause = StateTaskServiceLambda._error_cause_from_client_error(ex)
        return FailureEvent(
            env=env,
            error_name=CustomErrorName(error),
            event_type=HistoryEventType.LambdaFunctionFailed,
            event_details=EventDetails(  # type: ignore[typeddict-item]
                lambdaFunctionFailedEventDetails=LambdaFunctionFailedEventDetails(error=error, cause=cause)
            ),
        )

    StateTaskLambda._from_error = _from_error  # type: ignore[method-assign]
