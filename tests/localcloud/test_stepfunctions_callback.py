"""Step Functions' callback pattern in the emulator, as the payment workflow's AwaitCapture uses it:
``lambda:invoke.waitForTaskToken`` hands the function ``$$.Task.Token``; ``SendTaskSuccess`` with it
ends the wait with its output; ``TimeoutSeconds`` without it is ``States.Timeout`` (caught); a
second ``SendTaskSuccess`` on a finished task is refused (AWS: ``TaskTimedOut``/``InvalidToken``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import execution_result, wait_for

TOKEN_KEEPER = """
import os

def handler(event, context):
    with open(os.path.join(os.environ["TOKEN_DIR"], event["payment_id"]), "w") as handle:
        handle.write(event["task_token"])
    return {"ignored": True}
"""


def definition(function_arn: str, timeout_seconds: int) -> dict[str, Any]:
    return {
        "StartAt": "AwaitCapture",
        "States": {
            "AwaitCapture": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": function_arn,
                    "Payload": {"payment_id.$": "$.payment_id", "task_token.$": "$$.Task.Token"},
                },
                "TimeoutSeconds": timeout_seconds,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": None, "Next": "Expired"}],
                "End": True,
            },
            "Expired": {"Type": "Pass", "Result": {"expired": True}, "End": True},
        },
    }


@pytest.fixture
def machine(
    aws: Callable[[str], Any], create_function: Callable[..., str], role_arn: str, unique: str, tmp_path: Path
) -> Callable[[int], str]:
    function_arn = create_function({"handler.py": TOKEN_KEEPER}, environment={"TOKEN_DIR": str(tmp_path)})

    def build(timeout_seconds: int) -> str:
        created = aws("stepfunctions").create_state_machine(
            name=f"callback-{unique}-{timeout_seconds}",
            definition=json.dumps(definition(function_arn, timeout_seconds)),
            roleArn=role_arn,
        )
        return str(created["stateMachineArn"])

    return build


def test_send_task_success_ends_the_wait_with_its_output_once(
    aws: Callable[[str], Any], machine: Callable[[int], str], tmp_path: Path
) -> None:
    sfn = aws("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine(120), input=json.dumps({"payment_id": "p-woken"}))
    token_file = tmp_path / "p-woken"
    token = wait_for(lambda: token_file.exists() and token_file.read_text(), timeout=60)
    sfn.send_task_success(taskToken=token, output=json.dumps({"payment_id": "p-woken", "status": "AUTHORIZED"}))

    result = execution_result(sfn, execution["executionArn"], timeout=60)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"payment_id": "p-woken", "status": "AUTHORIZED"}
    with pytest.raises(ClientError) as refused:
        sfn.send_task_success(taskToken=token, output="{}")
    assert refused.value.response["Error"]["Code"] in {"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"}


def test_no_wake_up_within_the_timeout_is_a_caught_states_timeout(
    aws: Callable[[str], Any], machine: Callable[[int], str]
) -> None:
    sfn = aws("stepfunctions")
    execution = sfn.start_execution(stateMachineArn=machine(2), input=json.dumps({"payment_id": "p-expired"}))
    result = execution_result(sfn, execution["executionArn"], timeout=60)
    assert result["status"] == "SUCCEEDED"
    assert json.loads(result["output"]) == {"expired": True}
