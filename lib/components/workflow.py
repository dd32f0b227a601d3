"""The payment workflow: the ``workflow`` function (every step) and the state machine that drives it.

The state only ever carries ids and error names, never payment details, so execution
history and its logs hold nothing sensitive.
"""

from __future__ import annotations

from typing import Any

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedFunction, WatchedStateMachine
from lib.components.base import ConfiguredConstruct
from lib.components.foundations import Foundations
from lib.components.function import PaymentFunction
from lib.components.policies import statement
from lib.components.queues import Queues
from lib.components.state_machine import state_machine_role
from lib.components.storage import Storage
from lib.config import ProcessorConfig

# Business outcomes go to Compensate at once; they are never retried.
_BUSINESS_NO_RETRY: dict[str, Any] = {
    "ErrorEquals": [contract.PAYMENT_REJECTED, contract.PAYMENT_DECLINED],
    "MaxAttempts": 0,
}
# The simulated processor's own transient errors: a few quick retries, then a business outcome.
_PROCESSOR_RETRY: dict[str, Any] = {
    "ErrorEquals": [contract.TRANSIENT_PROCESSOR_ERROR],
    "IntervalSeconds": 1,
    "MaxAttempts": 3,
    "BackoffRate": 2.0,
}
# Everything else is infrastructure (Lambda.TooManyRequestsException when the function is at its
# reservation, Sandbox.Timedout, a throttled or failed AWS call inside a step): exponential
# backoff capped at MaxDelaySeconds, with full jitter so throttled executions do not retry in
# lockstep. 10 attempts wait up to 1+2+4+8+16+5x20 = 131 s (about half that on average with
# FULL jitter): long enough to ride out throttling. Steps are idempotent, so a retry after a
# timeout that struck after the step's write is harmless. When attempts run out the execution
# fails (ExecutionsFailed alarm; RedriveExecution resumes it) and the payment keeps its state.
INFRASTRUCTURE_RETRY: dict[str, Any] = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 1,
    "BackoffRate": 2.0,
    "MaxAttempts": 10,
    "MaxDelaySeconds": 20,
    "JitterStrategy": "FULL",
}
# The function at its reserved concurrency: nothing ran, so retrying is always safe. A burst bigger
# than the reservation (a batch file) drains at the reservation's pace, so how long a step waits
# depends on the burst, not on the step: the bound is the execution's TimeoutSeconds, not a count.
# Waits double from 1 s to MaxDelaySeconds 20 with full jitter (10 s on average), so 1,000 attempts
# outlast the 900 s timeout; a timed-out execution is alarmed and redrivable, its payment untouched.
# (Measured with the workflow reserved at 2: 50 attempts of at most 10 s ran out after ~4 minutes
# and failed executions whose payments were fine; see docs/architecture.md, "Concurrency".)
THROTTLED_RETRY: dict[str, Any] = {
    "ErrorEquals": ["Lambda.TooManyRequestsException"],
    "IntervalSeconds": 1,
    "BackoffRate": 2.0,
    "MaxAttempts": 1000,
    "MaxDelaySeconds": 20,
    "JitterStrategy": "FULL",
}
STATE_MACHINE_NAME = "payment-workflow"
# Bounds an execution that keeps retrying; a timed-out execution is alarmed (ExecutionsTimedOut).
EXECUTION_TIMEOUT_SECONDS = 900


# AwaitCapture (a .waitForTaskToken task): its retriers must not match States.Timeout (the
# authorization window ending, caught to Expire), so they name States.TaskFailed (every task
# failure but a timeout) instead of States.ALL; same waits as INFRASTRUCTURE_RETRY.
_AWAIT_FAILURE_RETRY: dict[str, Any] = INFRASTRUCTURE_RETRY | {"ErrorEquals": ["States.TaskFailed"]}


def workflow_definition(function_arn: str, *, partition: str, authorization_window_seconds: int) -> dict[str, Any]:
    """The Amazon States Language definition; ``function_arn`` and ``partition`` may be tokens.
    ``function_arn`` is the function version the deploy published, so an execution keeps the
    version it started on."""

    def task(step: str, next_state: str | None, *, retry: list[dict[str, Any]], catch: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": function_arn,
            "Parameters": {"step": step, "payment_id.$": "$.payment_id"},
            "ResultSelector": {"payment_id.$": "$.payment_id", "status.$": "$.status"},
            "Retry": retry,
        }
        if catch:
            # Only business outcomes compensate; an exhausted infrastructure retry fails the execution.
            state["Catch"] = [
                {"ErrorEquals": list(contract.BUSINESS_ERRORS), "ResultPath": "$.error", "Next": "Compensate"}
            ]
        if next_state is None:
            state["End"] = True
        else:
            state["Next"] = next_state
        return state

    step_retry = [_BUSINESS_NO_RETRY, THROTTLED_RETRY, INFRASTRUCTURE_RETRY]
    processor_retry = [_BUSINESS_NO_RETRY, _PROCESSOR_RETRY, THROTTLED_RETRY, INFRASTRUCTURE_RETRY]
    # Compensation and notifications are retried like any infrastructure error; a settled payment
    # is never compensated because its notification failed.
    compensate = task(
        contract.STEP_COMPENSATE, "NotifyFailure", retry=[THROTTLED_RETRY, INFRASTRUCTURE_RETRY], catch=False
    )
    compensate["Parameters"] = {"step": contract.STEP_COMPENSATE, "payment_id.$": "$.payment_id", "error.$": "$.error"}
    process = task(contract.STEP_PROCESS, "CaptureMethod", retry=processor_retry, catch=True)
    process["ResultSelector"]["capture_method.$"] = "$.capture_method"
    # A refund's execution (named after its refund id): the processor's refund with the same
    # retries as Process; a business outcome fails the refund (its reservation given back).
    refund = task(contract.STEP_REFUND, "RefundNotify", retry=processor_retry, catch=False)
    refund["Catch"] = [{"ErrorEquals": list(contract.BUSINESS_ERRORS), "ResultPath": "$.error", "Next": "RefundFail"}]
    refund_fail = task(
        contract.STEP_REFUND_FAIL, "RefundNotify", retry=[THROTTLED_RETRY, INFRASTRUCTURE_RETRY], catch=False
    )
    refund_fail["Parameters"] = {
        "step": contract.STEP_REFUND_FAIL,
        "payment_id.$": "$.payment_id",
        "error.$": "$.error",
    }
    return {
        "Comment": (
            "Payment lifecycle: validate, process, (await a manual capture), record, notify; "
            "compensate business outcomes. A refund's execution: refund, notify; fail business outcomes."
        ),
        "StartAt": "Kind",
        # The active steps' bound plus the longest a manual payment may rest authorized.
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS + authorization_window_seconds,
        "States": {
            "Kind": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.payment_id",
                        "StringMatches": f"{contract.REFUND_ID_PREFIX}*",
                        "Next": "Refund",
                    }
                ],
                "Default": "Validate",
            },
            "Refund": refund,
            "RefundFail": refund_fail,
            "RefundNotify": task(
                contract.STEP_REFUND_NOTIFY, None, retry=[THROTTLED_RETRY, INFRASTRUCTURE_RETRY], catch=False
            ),
            "Validate": task(contract.STEP_VALIDATE, "Process", retry=step_retry, catch=True),
            "Process": process,
            "CaptureMethod": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.capture_method", "StringEquals": contract.CAPTURE_MANUAL, "Next": "AwaitCapture"}
                ],
                "Default": "Record",
            },
            "AwaitCapture": _await_capture(function_arn, partition, authorization_window_seconds),
            "Release": task(contract.STEP_RELEASE, "Notify", retry=processor_retry, catch=True),
            "Expire": task(contract.STEP_EXPIRE, "Notify", retry=processor_retry, catch=True),
            "Record": task(contract.STEP_RECORD, "Notify", retry=step_retry, catch=True),
            "Notify": task(contract.STEP_NOTIFY, None, retry=[THROTTLED_RETRY, INFRASTRUCTURE_RETRY], catch=False),
            "Compensate": compensate,
            "NotifyFailure": task(
                contract.STEP_NOTIFY, "FailureHandled", retry=[THROTTLED_RETRY, INFRASTRUCTURE_RETRY], catch=False
            ),
            "FailureHandled": {"Type": "Succeed"},
        },
    }


def _await_capture(function_arn: str, partition: str, window_seconds: int) -> dict[str, Any]:
    """Invoke ``await_capture`` with the task token, then wait for the merchant's ask
    (``SendTaskSuccess``) at most the authorization window; its end (States.Timeout) is Expire."""
    return {
        "Type": "Task",
        "Resource": f"arn:{partition}:states:::lambda:invoke.waitForTaskToken",
        "Parameters": {
            "FunctionName": function_arn,
            "Payload": {
                "step": contract.STEP_AWAIT_CAPTURE,
                "payment_id.$": "$.payment_id",
                "task_token.$": "$$.Task.Token",
            },
        },
        "TimeoutSeconds": window_seconds,
        "ResultSelector": {"payment_id.$": "$.payment_id", "status.$": "$.status"},
        "Retry": [THROTTLED_RETRY, _AWAIT_FAILURE_RETRY],
        # The error goes beside the payment, not over it: Expire reads $.payment_id. Not
        # "ResultPath": null (keep the input): cdktf drops None from a definition (Fn.jsonencode), and
        # without ResultPath the catcher's output is the error alone, so Expire failed on every
        # expiry and left the payment AUTHORIZED (found on the emulator, 2026-12-03).
        "Catch": [{"ErrorEquals": ["States.Timeout"], "ResultPath": "$.expiry", "Next": "Expire"}],
        "Next": "Release",
    }


class Workflow(ConfiguredConstruct[ProcessorConfig, Foundations]):
    """The ``workflow`` function, the state machine that calls it for every step, and its logs."""

    def _build(self, inputs: Foundations) -> None:
        self._start_slots = inputs.start_slots
        self.workflow_function: PaymentFunction = self._build_workflow_function(inputs.storage, inputs.queues)
        self.log_group: CloudwatchLogGroup = self._build_log_group()
        role, policy = self._build_role()
        self.state_machine_policy: IamRolePolicy = policy
        self.state_machine: SfnStateMachine = self._build_state_machine(role, policy)

    def _build_log_group(self) -> CloudwatchLogGroup:
        name = f"/aws/vendedlogs/states/{self._context.namer('payment-workflow')}"
        return self._context.log_group(self, "log_group", name=name)

    def _build_state_machine(self, role: IamRole, policy: IamRolePolicy) -> SfnStateMachine:
        definition = workflow_definition(
            self.workflow_function.version_arn,
            partition=self._context.partition,
            authorization_window_seconds=self._settings.authorization_window_seconds,
        )
        return self._state_machine("state_machine", STATE_MACHINE_NAME, (role, policy), definition, self.log_group)

    def _build_workflow_function(self, storage: Storage, queues: Queues) -> PaymentFunction:
        # Construct id "step_function" kept from before the rename: it is the resources' address.
        return self._function(
            "step_function",
            contract.WORKFLOW,
            [
                statement(
                    "ReadAndTransitionPayments",
                    # Transitions are TransactWriteItems of an Update here and a Put on the audit table.
                    ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                    [storage.payments_table.arn],
                ),
                statement("AppendAudit", ["dynamodb:PutItem"], [storage.audit_table.arn]),
                # Validate re-reads the merchant (MerchantDirectory.get): disabled after acceptance
                # means rejected, not settled.
                statement("ReadMerchantStatus", ["dynamodb:GetItem"], [storage.merchants_table.arn]),
                statement("PublishStatus", ["sns:Publish"], [queues.status_topic.arn]),
                # await_capture wakes its own execution when the merchant asked first. A task token
                # of a service-integration task names no resource IAM can scope: "*" is the only grant.
                statement("WakeAwaitingExecution", ["states:SendTaskSuccess"], ["*"]),
                # Notify and AwaitCapture free the payment's start slot and start the oldest
                # payment waiting for one (payment_core/payments/admission.py).
                *self._start_slots.grants(),
                statement("StartWaitingPayments", ["states:StartExecution"], [self._state_machine_arn]),
                # SNS encrypts with the CMK on the publisher's behalf.
                statement("EncryptForTopic", ["kms:GenerateDataKey", "kms:Decrypt"], [self._context.key.arn]),
            ],
            environment={
                contract.PROCESSOR_CONNECTOR: self._settings.connector,
                contract.STATE_MACHINE_ARN: self._state_machine_arn,
            },
        )

    @property
    def _state_machine_arn(self) -> str:
        # Spelled out, not the resource's attribute: the state machine names this function's
        # version, so a reference back would be a cycle.
        context = self._context
        name = context.namer(STATE_MACHINE_NAME)
        return f"arn:{context.partition}:states:{context.region}:{context.account_id}:stateMachine:{name}"

    def _build_role(self) -> tuple[IamRole, IamRolePolicy]:
        invoke = statement("InvokeSteps", ["lambda:InvokeFunction"], self.workflow_function.invoke_grant)
        return state_machine_role(self, self._context, "payment-state-machine", [invoke])

    def alarm_sources(self) -> AlarmSources:
        return AlarmSources(
            # Declines and rejections are raised on purpose (the state machine routes them to
            # Compensate); the function's infrastructure failures surface as failed executions.
            functions=(WatchedFunction(self.workflow_function, errors_are_outcomes=True),),
            state_machines=(
                WatchedStateMachine("payment-workflow", self.state_machine, alarm_on_first=False, on_dashboard=True),
            ),
        )
