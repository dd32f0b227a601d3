"""StopExecution: a stop sent right after the start aborts the execution before any state, as on AWS.

Before ``patches/stepfunctions_stop.py`` the emulator answered such a stop with an HTML 500 (the
worker had not yet built its environment) and the execution then ran to ``SUCCEEDED``: what the e2e
sweeper test met on a loaded machine, where parsing the payment workflow takes long.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.localcloud.conftest import execution_result, wait_for

# Parsing this definition takes about a second on this machine: a stop sent as soon as
# StartExecution answers arrives while the worker is still parsing (the window of the 500).
PASS_STATES = 1000


def long_chain() -> str:
    states: dict[str, Any] = {f"S{i}": {"Type": "Pass", "Next": f"S{i + 1}"} for i in range(PASS_STATES)}
    states[f"S{PASS_STATES}"] = {"Type": "Succeed"}
    return json.dumps({"StartAt": "S0", "States": states})


def test_a_stop_right_after_the_start_aborts_before_any_state_with_its_date_error_and_cause(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    sfn = aws("stepfunctions")
    machine = sfn.create_state_machine(name=f"stop-{unique}", definition=long_chain(), roleArn=role_arn)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="p-1", input="{}")["executionArn"]

    answer = sfn.stop_execution(executionArn=arn, error="Operator", cause="stopped by the test")

    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    stopped = execution_result(sfn, arn, timeout=60)
    assert (stopped["status"], stopped["stopDate"]) == ("ABORTED", answer["stopDate"])
    events = sfn.get_execution_history(executionArn=arn)["events"]
    # No state entered: the stop was applied before the program ran its first state.
    assert [event["type"] for event in events] == ["ExecutionStarted", "ExecutionAborted"]
    assert events[1]["executionAbortedEventDetails"] == {"error": "Operator", "cause": "stopped by the test"}


def test_a_stop_mid_run_aborts_and_a_stop_after_the_end_changes_nothing(
    aws: Callable[[str], Any], role_arn: str, unique: str
) -> None:
    sfn = aws("stepfunctions")
    waiting = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 120, "End": True}}}
    machine = sfn.create_state_machine(name=f"hold-{unique}", definition=json.dumps(waiting), roleArn=role_arn)
    arn = sfn.start_execution(stateMachineArn=machine["stateMachineArn"], name="p-2", input="{}")["executionArn"]

    def entered() -> bool:
        types = [event["type"] for event in sfn.get_execution_history(executionArn=arn)["events"]]
        return "WaitStateEntered" in types

    wait_for(entered, timeout=30)
    answer = sfn.stop_execution(executionArn=arn)
    stopped = execution_result(sfn, arn, timeout=30)
    assert (stopped["status"], stopped["stopDate"]) == ("ABORTED", answer["stopDate"])
    types = [event["type"] for event in sfn.get_execution_history(executionArn=arn)["events"]]
    assert types[:2] == ["ExecutionStarted", "WaitStateEntered"] and types[-1] == "ExecutionAborted"

    again = sfn.stop_execution(executionArn=arn, error="Late")

    assert again["stopDate"] == stopped["stopDate"]
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert [event["type"] for event in sfn.get_execution_history(executionArn=arn)["events"]] == types
