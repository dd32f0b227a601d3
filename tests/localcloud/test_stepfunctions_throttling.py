"""A throttled Lambda step fails with Lambda.TooManyRequestsException; retriers cap and jitter their waits."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from tests.localcloud.conftest import wait_for

HANDLER = "def handler(event, context):\n    return {'ran': True}\n"


def test_a_throttled_step_is_retried_with_capped_jittered_backoff_then_caught(
    aws: Callable[[str], Any], create_function: Callable[..., str], role_arn: str, unique: str
) -> None:
    function_arn = create_function({"handler.py": HANDLER})
    aws("lambda").put_function_concurrency(FunctionName=function_arn, ReservedConcurrentExecutions=0)
    definition = {
        "StartAt": "Step",
        "States": {
            "Step": {
                "Type": "Task",
                "Resource": function_arn,
                "Retry": [
                    {
                        "ErrorEquals": ["Lambda.TooManyRequestsException"],
                        "IntervalSeconds": 1,
                        # Uncapped, the two waits would be 1 s and 10 s.
                        "BackoffRate": 10.0,
                        "MaxAttempts": 2,
                        "MaxDelaySeconds": 1,
                        "JitterStrategy": "FULL",
                    }
                ],
                "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    machine = aws("stepfunctions").create_state_machine(
        name=f"throttled-{unique}", definition=json.dumps(definition), roleArn=role_arn
    )
    started = time.monotonic()
    execution = aws("stepfunctions").start_execution(stateMachineArn=machine["stateMachineArn"], input="{}")

    def finished() -> Any:
        described = aws("stepfunctions").describe_execution(executionArn=execution["executionArn"])
        return described if described["status"] != "RUNNING" else None

    described = wait_for(finished, timeout=30)
    elapsed = time.monotonic() - started

    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"])["error"]["Error"] == "Lambda.TooManyRequestsException"
    history = aws("stepfunctions").get_execution_history(executionArn=execution["executionArn"])["events"]
    failures = [e["lambdaFunctionFailedEventDetails"] for e in history if e["type"] == "LambdaFunctionFailed"]
    assert [f["error"] for f in failures] == ["Lambda.TooManyRequestsException"] * 3  # 1 try + 2 retries
    assert "Error Code: TooManyRequestsException" in failures[0]["cause"]
    assert elapsed < 8  # two waits of at most MaxDelaySeconds (1 s) each, not 1 s + 10 s
