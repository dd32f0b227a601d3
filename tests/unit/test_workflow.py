"""The state machine: validate → process → record → notify; business outcomes → compensate."""

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


BUSINESS_NOT_RETRIED = {"ErrorEquals": ["PaymentRejected", "PaymentDeclined"], "MaxAttempts": 0}
THROTTLED = {
    "ErrorEquals": ["Lambda.TooManyRequestsException"],
    "IntervalSeconds": 1,
    "BackoffRate": 2.0,
    "MaxAttempts": 1000,  # the 900 s execution timeout is the bound, not the count
    "MaxDelaySeconds": 20,
    "JitterStrategy": "FULL",
}
INFRASTRUCTURE = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 1,
    "BackoffRate": 2.0,
    "MaxAttempts": 10,
    "MaxDelaySeconds": 20,
    "JitterStrategy": "FULL",
}


def test_transient_processor_errors_are_retried_with_backoff(states: dict) -> None:  # type: ignore[type-arg]
    assert states["Process"]["Retry"] == [
        BUSINESS_NOT_RETRIED,
        {"ErrorEquals": ["TransientProcessorError"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0},
        THROTTLED,
        INFRASTRUCTURE,
    ]


@pytest.mark.parametrize("state", ["Validate", "Record"])
def test_infrastructure_errors_are_retried_with_capped_jittered_backoff(states: dict, state: str) -> None:  # type: ignore[type-arg]
    # Declines and rejections are never retried; everything else (throttling, Sandbox.Timedout,
    # a failed AWS call) backs off exponentially, capped at 20 s, with full jitter.
    # A throttled invoke (nothing ran) gets many short waits of its own before the general policy.
    assert states[state]["Retry"] == [BUSINESS_NOT_RETRIED, THROTTLED, INFRASTRUCTURE]


@pytest.mark.parametrize("state", ["Validate", "Process", "Record"])
def test_only_business_outcomes_compensate(states: dict, state: str) -> None:  # type: ignore[type-arg]
    # An infrastructure error that outlives its retries fails the execution instead (alarmed,
    # redrivable): it never turns a good payment into FAILED.
    assert states[state]["Catch"] == [
        {
            "ErrorEquals": ["PaymentRejected", "PaymentDeclined", "TransientProcessorError"],
            "ResultPath": "$.error",
            "Next": "Compensate",
        }
    ]


@pytest.mark.parametrize("state", ["Compensate", "Notify", "NotifyFailure"])
def test_compensation_and_notifications_ride_out_infrastructure_errors(states: dict, state: str) -> None:  # type: ignore[type-arg]
    assert states[state]["Retry"] == [THROTTLED, INFRASTRUCTURE]
    assert "Catch" not in states[state]


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
    assert states["Notify"]["Retry"][-1]["ErrorEquals"] == ["States.ALL"]


def test_an_execution_has_room_for_its_retries() -> None:
    # Four steps each retrying for up to ~131 s fit in the execution timeout.
    assert workflow_definition(ARN)["TimeoutSeconds"] == 900


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
