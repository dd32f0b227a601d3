"""Least privilege of the state machines' roles and the sweeper schedule's, proven on the synthesized
stack of every environment: each role's grants, as exact (action, resource) pairs, equal what it runs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security import iam
from tests.unit.synth import SynthesizedStack, platform_key


def _batch_file_state_machine_grants(stack: SynthesizedStack) -> set[tuple[str, str]]:
    s = iam.stack_suffix(stack)
    function = iam.arn_of(stack, "aws_lambda_function", "function_name", f"payment-batch-ingest-{s}")
    bucket = iam.bucket_arn(stack, "payment-batch-")
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    machine = iam.batch_state_machine_arn(stack)
    executions = machine.replace(":stateMachine:", ":execution:") + "/*"
    expected = {
        ("lambda:InvokeFunction", function),
        ("lambda:InvokeFunction", f"{function}:*"),
        # The map's ItemReader reads the chunk descriptors (SSE-KMS).
        ("s3:GetObject", f"{bucket}/batch-work/*"),
        # The map's ResultWriter writes the children's results under the same prefix (multipart).
        *{
            (action, f"{bucket}/batch-work/*")
            for action in ("s3:PutObject", "s3:ListMultipartUploadParts", "s3:AbortMultipartUpload")
        },
        ("kms:Decrypt", key),
        ("kms:GenerateDataKey", key),  # the machine's own data (and the map's results) are encrypted with the key
        # A Distributed Map runs each item as a child execution of the same state machine.
        ("states:StartExecution", machine),
        ("states:DescribeExecution", executions),
        ("states:StopExecution", executions),
    }
    return expected | {(action, "*") for action in iam.STATE_MACHINE_WILDCARD_ACTIONS}


def _state_machine_grants(stack: SynthesizedStack) -> set[tuple[str, str]]:
    s = iam.stack_suffix(stack)
    function = iam.arn_of(stack, "aws_lambda_function", "function_name", f"payment-workflow-{s}")
    invoke = {("lambda:InvokeFunction", function), ("lambda:InvokeFunction", f"{function}:*")}
    key = stack.reference_of("aws_kms_key", platform_key(stack), "arn")
    encryption = {("kms:Decrypt", key), ("kms:GenerateDataKey", key)}  # the machine's own data is encrypted
    # A state machine role is the one that needs the "*"-only actions: log delivery and X-Ray.
    return invoke | encryption | {(action, "*") for action in iam.STATE_MACHINE_WILDCARD_ACTIONS}


def _state_machine(stack: SynthesizedStack, base: str) -> dict[str, Any]:
    return stack.named("aws_sfn_state_machine", "name", f"{base}-{iam.stack_suffix(stack)}")


@pytest.mark.parametrize(
    ("base", "expected_of"),
    [("payment-workflow", _state_machine_grants), ("batch-file", _batch_file_state_machine_grants)],
)
def test_state_machine_role_grants_what_it_runs(env_stack: SynthesizedStack, base: str, expected_of: Any) -> None:
    granted = iam.grants_of_role(env_stack, _state_machine(env_stack, base)["role_arn"])
    expected = expected_of(env_stack)
    assert (iam.readable(granted - expected), iam.readable(expected - granted)) == ([], [])


def test_the_sweeper_schedule_may_invoke_only_the_sweeper(env_stack: SynthesizedStack) -> None:
    schedule = env_stack.only("aws_scheduler_schedule")
    sweeper = iam.arn_of(env_stack, "aws_lambda_function", "function_name", iam.function_name(env_stack, "sweeper"))
    function = env_stack.named("aws_lambda_function", "function_name", iam.function_name(env_stack, "sweeper"))
    assert schedule["target"]["arn"] == env_stack.live_reference(function, "arn")
    granted = iam.grants_of_role(env_stack, schedule["target"]["role_arn"])
    assert granted == {("lambda:InvokeFunction", sweeper), ("lambda:InvokeFunction", f"{sweeper}:*")}
