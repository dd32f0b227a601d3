"""The state machine: validate → process (retried) → record → notify; catch → compensate."""

from __future__ import annotations

import pytest

from lib.components.workflow import workflow_definition
from tests.unit.synth import SynthesizedStack, key_arn

ARN = "arn:aws:lambda:us-east-1:123456789012:function:payment-workflow-dev"


@pytest.fixture(scope="module")
def states() -> dict:  # type: ignore[type-arg]
    definition = workflow_definition(ARN)
    assert definition["StartAt"] == "Validate"
    return definition["States"]  # type: ignore[no-any-return]


def test_happy_path_runs_in_order(states: dict) -> None:  # type: ignore[type-arg]
    path, state = [], "Validate"
    while state:
        path.append(state)
        state = states[state].get("Next")
    assert path == ["Validate", "Process", "Record", "Notify"]
    assert states["Notify"]["End"] is True
    assert [states[s]["Parameters"]["step"] for s in path] == ["validate", "process", "record", "notify"]
    assert all(states[s]["Resource"] == ARN for s in path)


def test_transient_processor_errors_are_retried_with_backoff(states: dict) -> None:  # type: ignore[type-arg]
    transient = states["Process"]["Retry"][0]
    assert transient == {
        "ErrorEquals": ["TransientProcessorError"],
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }


@pytest.mark.parametrize("state", ["Validate", "Process", "Record"])
def test_failures_before_settlement_compensate(states: dict, state: str) -> None:  # type: ignore[type-arg]
    assert states[state]["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensate"}]


def test_catch_path_compensates_notifies_and_ends_handled(states: dict) -> None:  # type: ignore[type-arg]
    assert states["Compensate"]["Parameters"] == {
        "step": "compensate",
        "payment_id.$": "$.payment_id",
        "error.$": "$.error",
    }
    assert states["Compensate"]["Next"] == "NotifyFailure"
    assert states["NotifyFailure"]["Parameters"]["step"] == "notify"
    assert states["NotifyFailure"]["Next"] == "FailureHandled"
    assert states["FailureHandled"] == {"Type": "Succeed"}


def test_settled_payment_is_never_compensated(states: dict) -> None:  # type: ignore[type-arg]
    # A notification failure after settlement retries and then fails the execution (alarmed).
    assert "Catch" not in states["Notify"]
    assert states["Notify"]["Retry"][0]["ErrorEquals"] == ["States.ALL"]


def test_state_machine_logs_everything_to_an_encrypted_group(env_stack: SynthesizedStack) -> None:
    suffix = env_stack.stack.node.id.removeprefix("TapStack")
    machine = env_stack.named("aws_sfn_state_machine", "name", f"payment-workflow-{suffix}")
    assert machine["type"] == "STANDARD"
    assert machine["definition"].startswith("${jsonencode(")
    assert machine["logging_configuration"]["level"] == "ALL"
    assert machine["logging_configuration"]["include_execution_data"] is True
    assert machine["tracing_configuration"] == {"enabled": True}
    log_group = env_stack.named("aws_cloudwatch_log_group", "name", f"/aws/vendedlogs/states/payment-workflow-{suffix}")
    assert log_group["kms_key_id"] == key_arn(env_stack)


def test_state_machine_may_invoke_only_the_step_function(dev: SynthesizedStack) -> None:
    role = dev.named("aws_iam_role", "name", "payment-state-machine-role-dev")
    policy = dev.named("aws_iam_role_policy", "name", "payment-state-machine-policy-dev")
    assert policy["role"] == dev.reference_of("aws_iam_role", role, "id")
    statements = {s["sid"]: s for s in dev.policy_document(policy["policy"])["statement"]}
    step = dev.named("aws_lambda_function", "function_name", "payment-workflow-dev")
    arn = dev.reference_of("aws_lambda_function", step, "arn")
    assert statements["InvokeSteps"]["actions"] == ["lambda:InvokeFunction"]
    assert statements["InvokeSteps"]["resources"] == [arn, f"{arn}:*"]
