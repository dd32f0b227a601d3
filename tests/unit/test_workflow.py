"""The state machine: validate → process → record → notify; business outcomes → compensate."""

from __future__ import annotations

import pytest

from tests.unit.synth import SynthesizedStack, key_arn

# Every test here builds a stack of its own or imports the provider: the stack worker (testkit/stack_scheduling.py).
pytestmark = pytest.mark.stacks

ARN = "arn:aws:lambda:us-east-1:123456789012:function:payment-workflow-dev"
WINDOW = 7 * 24 * 3600  # the presets' processor.authorization_window_seconds


def definition() -> dict:  # type: ignore[type-arg]
    from lib.components.workflow import workflow_definition

    return workflow_definition(ARN, partition="aws", authorization_window_seconds=WINDOW)


@pytest.fixture(scope="module")
def states() -> dict:  # type: ignore[type-arg]
    built = definition()
    assert built["StartAt"] == "Kind"
    return built["States"]  # type: ignore[no-any-return]


def test_happy_path_runs_in_order(states: dict) -> None:  # type: ignore[type-arg]
    path, state = [], "Validate"
    while state:
        path.append(state)
        state = states[state].get("Next") or states[state].get("Default")  # a Choice's default: automatic
    assert path == ["Validate", "Process", "CaptureMethod", "Record", "Notify"]
    path.remove("CaptureMethod")
    assert states["Notify"]["End"] is True
    assert [states[s]["Parameters"]["step"] for s in path] == ["validate", "process", "record", "notify"]
    assert all(states[s]["Resource"] == ARN for s in path)


BUSINESS_NOT_RETRIED = {"ErrorEquals": ["PaymentRejected", "PaymentDeclined"], "MaxAttempts": 0}
THROTTLED = ["Lambda.TooManyRequestsException"]
EVERYTHING_ELSE = ["States.ALL"]


def retried_errors(state: dict) -> list[list[str]]:  # type: ignore[type-arg]
    return [retrier["ErrorEquals"] for retrier in state["Retry"]]


def longest_waits(retrier: dict) -> list[float]:  # type: ignore[type-arg]
    """The longest wait before each retry: IntervalSeconds times BackoffRate per retry, capped at
    MaxDelaySeconds. With FULL jitter Step Functions waits a random time up to it: half on average."""
    interval, rate, cap = retrier["IntervalSeconds"], retrier["BackoffRate"], retrier["MaxDelaySeconds"]
    return [min(interval * rate**retry, cap) for retry in range(retrier["MaxAttempts"])]


def tasks_on_longest_path(states: dict, name: str) -> int:  # type: ignore[type-arg]
    """How many task states the longest run from ``name`` goes through, caught errors included."""
    state = states[name]
    following = [state.get("Next"), state.get("Default")] + [catcher["Next"] for catcher in state.get("Catch", [])]
    following += [choice["Next"] for choice in state.get("Choices", [])]
    longest_after = max((tasks_on_longest_path(states, after) for after in following if after), default=0)
    return (state["Type"] == "Task") + longest_after


def shared_retrier(states: dict, errors: list[str]) -> dict:  # type: ignore[type-arg]
    """The one retrier every step task has for ``errors`` (they must all have the same); AwaitCapture,
    which must not retry its timeout, has its own (test_a_manual_payment_waits_for_its_capture...)."""
    tasks = [state for state in states.values() if state["Type"] == "Task" and state["Resource"] == ARN]
    retriers = [retrier for state in tasks for retrier in state["Retry"] if retrier["ErrorEquals"] == errors]
    assert len(retriers) == len(tasks), f"not every task retries {errors}"
    assert all(retrier == retriers[0] for retrier in retriers), f"tasks retry {errors} differently"
    return retriers[0]


def test_transient_processor_errors_are_retried_with_backoff(states: dict) -> None:  # type: ignore[type-arg]
    assert retried_errors(states["Process"]) == [
        BUSINESS_NOT_RETRIED["ErrorEquals"],
        ["TransientProcessorError"],
        THROTTLED,
        EVERYTHING_ELSE,
    ]
    assert states["Process"]["Retry"][0] == BUSINESS_NOT_RETRIED
    assert states["Process"]["Retry"][1] == {
        "ErrorEquals": ["TransientProcessorError"],
        "IntervalSeconds": 1,
        "MaxAttempts": 3,
        "BackoffRate": 2.0,
    }


@pytest.mark.parametrize("state", ["Validate", "Record"])
def test_steps_never_retry_business_outcomes(states: dict, state: str) -> None:  # type: ignore[type-arg]
    # Declines and rejections are never retried; a throttled invoke (nothing ran) gets its own
    # policy before the general one for everything else (Sandbox.Timedout, a failed AWS call).
    assert retried_errors(states[state]) == [BUSINESS_NOT_RETRIED["ErrorEquals"], THROTTLED, EVERYTHING_ELSE]
    assert states[state]["Retry"][0] == BUSINESS_NOT_RETRIED


def test_infrastructure_errors_back_off_exponentially_capped_with_full_jitter(states: dict) -> None:  # type: ignore[type-arg]
    infrastructure = shared_retrier(states, EVERYTHING_ELSE)
    # Full jitter, so throttled executions do not retry in lockstep.
    assert infrastructure["JitterStrategy"] == "FULL"
    # Waits double from 1 s and stop growing at 20 s: 1+2+4+8+16+5x20, up to 131 s in all.
    assert longest_waits(infrastructure)[:6] == [1, 2, 4, 8, 16, 20]
    assert sum(longest_waits(infrastructure)) == 131


def test_a_throttled_invoke_is_bounded_by_the_execution_timeout_not_a_count(states: dict) -> None:  # type: ignore[type-arg]
    from lib.components.workflow import EXECUTION_TIMEOUT_SECONDS

    throttled = shared_retrier(states, THROTTLED)
    assert throttled["JitterStrategy"] == "FULL"
    assert longest_waits(throttled)[:6] == [1, 2, 4, 8, 16, 20]
    # Even waiting half the longest wait on average (FULL jitter), the attempts outlast the
    # execution: a burst bigger than the reservation drains at its pace, and only the
    # execution's timeout (alarmed, redrivable) stops a step waiting for a slot.
    assert sum(longest_waits(throttled)) / 2 > EXECUTION_TIMEOUT_SECONDS


@pytest.mark.parametrize("state", ["Validate", "Process", "Record", "Release", "Expire"])
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
    assert retried_errors(states[state]) == [THROTTLED, EVERYTHING_ELSE]
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


def test_an_execution_has_room_for_its_retries(states: dict) -> None:  # type: ignore[type-arg]
    # Every step on the longest path may wait out its whole infrastructure retry policy and the
    # execution still has not timed out: exhausted retries fail it (ExecutionsFailed), not the clock.
    # The longest path: Validate, Process, AwaitCapture, Release (or Expire), then a business
    # outcome: Compensate, NotifyFailure. The wait for a manual capture is the window on top.
    assert tasks_on_longest_path(states, "Validate") == 6
    infrastructure = shared_retrier(states, EVERYTHING_ELSE)
    timeout = definition()["TimeoutSeconds"]
    assert timeout == 900 + WINDOW
    assert tasks_on_longest_path(states, "Validate") * sum(longest_waits(infrastructure)) <= timeout - WINDOW


def test_a_manual_payment_waits_for_its_capture_at_most_the_window_then_expires(states: dict) -> None:  # type: ignore[type-arg]
    assert states["Process"]["ResultSelector"]["capture_method.$"] == "$.capture_method"
    assert states["CaptureMethod"] == {
        "Type": "Choice",
        "Choices": [{"Variable": "$.capture_method", "StringEquals": "manual", "Next": "AwaitCapture"}],
        "Default": "Record",
    }
    wait = states["AwaitCapture"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["Parameters"] == {
        "FunctionName": ARN,
        "Payload": {"step": "await_capture", "payment_id.$": "$.payment_id", "task_token.$": "$$.Task.Token"},
    }
    assert wait["TimeoutSeconds"] == WINDOW
    # Its retriers never match States.Timeout (States.ALL would): the window's end is caught to Expire.
    assert retried_errors(wait) == [THROTTLED, ["States.TaskFailed"]]
    assert wait["Catch"] == [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.expiry", "Next": "Expire"}]
    assert (wait["Next"], states["Release"]["Next"], states["Expire"]["Next"]) == ("Release", "Notify", "Notify")
    assert states["Release"]["Parameters"]["step"] == "release"
    assert states["Expire"]["Parameters"]["step"] == "expire"


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


def test_a_refunds_execution_branches_by_its_id_and_fails_only_business_outcomes(states: dict) -> None:  # type: ignore[type-arg]
    kind = states["Kind"]
    assert kind["Choices"] == [{"Variable": "$.payment_id", "StringMatches": "re_*", "Next": "Refund"}]
    assert kind["Default"] == "Validate"
    refund = states["Refund"]
    assert refund["Parameters"] == {"step": "refund", "payment_id.$": "$.payment_id"}
    # The same retries as Process: declines never, the processor's transient errors a few times.
    assert refund["Retry"] == states["Process"]["Retry"]
    assert refund["Catch"] == [
        {
            "ErrorEquals": ["PaymentRejected", "PaymentDeclined", "TransientProcessorError"],
            "ResultPath": "$.error",
            "Next": "RefundFail",
        }
    ]
    assert states["RefundFail"]["Parameters"] == {
        "step": "refund_fail",
        "payment_id.$": "$.payment_id",
        "error.$": "$.error",
    }
    assert "Catch" not in states["RefundFail"]  # infrastructure: retried, then the execution fails
    assert refund["Next"] == states["RefundFail"]["Next"] == "RefundNotify"
    assert states["RefundNotify"]["Parameters"]["step"] == "refund_notify"
    assert states["RefundNotify"]["End"] is True
