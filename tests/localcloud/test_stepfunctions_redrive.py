"""RedriveExecution: a failed Standard execution resumes from its failed state; a succeeded one is refused."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.localcloud.conftest import execution_result

# Each step counts its runs in COUNTER_DIR/<step>; "charge" fails while the file "broken" exists.
COUNTING_HANDLER = """
import os

class ProcessorDown(Exception):
    pass

def handler(event, context):
    directory = os.environ["COUNTER_DIR"]
    counter = os.path.join(directory, event["step"])
    runs = int(open(counter).read()) + 1 if os.path.exists(counter) else 1
    with open(counter, "w") as handle:
        handle.write(str(runs))
    if event["step"] == "charge" and os.path.exists(os.path.join(directory, "broken")):
        raise ProcessorDown("processor unreachable")
    return {"payment_id": event["payment_id"], "done": event["step"]}
"""


def two_steps(function_arn: str) -> str:
    def task(step: str) -> dict[str, Any]:
        return {"Type": "Task", "Resource": function_arn, "Parameters": {"step": step, "payment_id.$": "$.payment_id"}}

    return json.dumps(
        {
            "StartAt": "Validate",
            "States": {"Validate": {**task("validate"), "Next": "Charge"}, "Charge": {**task("charge"), "End": True}},
        }
    )


def runs(directory: Path, step: str) -> int:
    counter = directory / step
    return int(counter.read_text()) if counter.exists() else 0


@pytest.fixture
def machine(
    aws: Callable[[str], Any], create_function: Callable[..., str], role_arn: str, unique: str, tmp_path: Path
) -> str:
    function_arn = create_function({"handler.py": COUNTING_HANDLER}, environment={"COUNTER_DIR": str(tmp_path)})
    created = aws("stepfunctions").create_state_machine(
        name=f"redrive-{unique}", definition=two_steps(function_arn), roleArn=role_arn
    )
    return str(created["stateMachineArn"])


def test_a_failed_execution_is_redriven_from_its_failed_state_and_completes(
    aws: Callable[[str], Any], machine: str, tmp_path: Path
) -> None:
    sfn = aws("stepfunctions")
    (tmp_path / "broken").write_text("")
    arn = sfn.start_execution(stateMachineArn=machine, name="p-1", input=json.dumps({"payment_id": "p-1"}))[
        "executionArn"
    ]
    failed = execution_result(sfn, arn, timeout=30)
    assert (failed["status"], failed["error"]) == ("FAILED", "ProcessorDown")
    assert (failed["redriveCount"], failed["redriveStatus"]) == (0, "REDRIVABLE")
    assert (runs(tmp_path, "validate"), runs(tmp_path, "charge")) == (1, 1)

    (tmp_path / "broken").unlink()
    answer = sfn.redrive_execution(executionArn=arn)
    assert "redriveDate" in answer
    redriven = execution_result(sfn, arn, timeout=30)

    assert redriven["status"] == "SUCCEEDED"
    assert json.loads(redriven["output"]) == {"payment_id": "p-1", "done": "charge"}
    assert redriven["redriveCount"] == 1
    assert (runs(tmp_path, "validate"), runs(tmp_path, "charge")) == (1, 2)  # the step that succeeded is not rerun
    assert [e["name"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]] == ["p-1"]
    events = sfn.get_execution_history(executionArn=arn)["events"]
    types = [e["type"] for e in events]
    assert types.count("ExecutionStarted") == 1
    assert types.index("ExecutionFailed") < types.index("ExecutionRedriven") < types.index("ExecutionSucceeded")
    assert events[types.index("ExecutionRedriven")]["executionRedrivenEventDetails"] == {"redriveCount": 1}


def test_a_succeeded_execution_is_refused_as_step_functions_refuses_it(
    aws: Callable[[str], Any], machine: str, tmp_path: Path
) -> None:
    sfn = aws("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, name="p-2", input=json.dumps({"payment_id": "p-2"}))[
        "executionArn"
    ]
    succeeded = execution_result(sfn, arn, timeout=30)
    assert succeeded["status"] == "SUCCEEDED"
    assert (succeeded["redriveStatus"], succeeded["redriveStatusReason"]) == (
        "NOT_REDRIVABLE",
        "Execution is SUCCEEDED and cannot be redriven.",
    )

    with pytest.raises(ClientError) as refused:
        sfn.redrive_execution(executionArn=arn)

    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "ExecutionNotRedrivable",
        "Execution is SUCCEEDED and cannot be redriven.",
    )
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (runs(tmp_path, "validate"), runs(tmp_path, "charge")) == (1, 1)
    assert sfn.describe_execution(executionArn=arn)["redriveCount"] == 0


def test_an_execution_that_does_not_exist_is_refused(aws: Callable[[str], Any], machine: str) -> None:
    missing = machine.replace(":stateMachine:", ":execution:") + ":never-started"
    with pytest.raises(aws("stepfunctions").exceptions.ExecutionDoesNotExist):
        aws("stepfunctions").redrive_execution(executionArn=missing)
