"""The payment workflow: the ``workflow`` function (every step) and the state machine that drives it.

The state only ever carries ids and error names, never payment details, so execution
history and its logs hold nothing sensitive.
"""

from __future__ import annotations

from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from lib.components.context import PlatformContext
from lib.components.function import FunctionSpec, PaymentFunction
from lib.components.policies import condition, state_machine_telemetry, statement
from lib.components.queues import Queues
from lib.components.storage import Storage
from lib.config import FunctionSettings, PaymentRules
from lib.lambda_sources import contract

# Errors a Lambda task can raise that say nothing about the payment: always worth a retry.
_LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
]
EXECUTION_TIMEOUT_SECONDS = 300


def workflow_definition(function_arn: str) -> dict[str, Any]:
    """The Amazon States Language definition; ``function_arn`` may be a token."""

    def task(step: str, next_state: str | None, *, retry: list[dict[str, Any]], catch: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": function_arn,
            "Parameters": {"step": step, "payment_id.$": "$.payment_id"},
            "ResultSelector": {"payment_id.$": "$.payment_id", "status.$": "$.status"},
            "Retry": retry,
        }
        if catch:
            state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Compensate"}]
        if next_state is None:
            state["End"] = True
        else:
            state["Next"] = next_state
        return state

    service_retry = {"ErrorEquals": _LAMBDA_SERVICE_ERRORS, "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}
    # After a payment settles, a failed notification must not compensate it: retry, then
    # fail the execution so the failed-executions alarm fires.
    any_error_retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}
    compensate = task("compensate", "NotifyFailure", retry=[any_error_retry], catch=False)
    compensate["Parameters"] = {"step": "compensate", "payment_id.$": "$.payment_id", "error.$": "$.error"}
    return {
        "Comment": "Payment lifecycle: validate, process, record, notify; compensate on failure.",
        "StartAt": "Validate",
        "TimeoutSeconds": EXECUTION_TIMEOUT_SECONDS,
        "States": {
            "Validate": task("validate", "Process", retry=[service_retry], catch=True),
            "Process": task(
                "process",
                "Record",
                retry=[
                    {
                        "ErrorEquals": [contract.TRANSIENT_PROCESSOR_ERROR],
                        "IntervalSeconds": 1,
                        "MaxAttempts": 3,
                        "BackoffRate": 2.0,
                    },
                    service_retry,
                ],
                catch=True,
            ),
            "Record": task("record", "Notify", retry=[service_retry], catch=True),
            "Notify": task("notify", None, retry=[any_error_retry], catch=False),
            "Compensate": compensate,
            "NotifyFailure": task("notify", "FailureHandled", retry=[any_error_retry], catch=False),
            "FailureHandled": {"Type": "Succeed"},
        },
    }


class Workflow(Construct):
    """The ``workflow`` function, the state machine that calls it for every step, and its logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        sizing: FunctionSettings,
        rules: PaymentRules,
        storage: Storage,
        queues: Queues,
    ) -> None:
        super().__init__(scope, construct_id)
        self._context = context
        self.workflow_function: PaymentFunction = self._build_workflow_function(sizing, rules, storage, queues)
        self.log_group: CloudwatchLogGroup = self._build_log_group()
        self.state_machine: SfnStateMachine = self._build_state_machine(self._build_role())

    def _build_log_group(self) -> CloudwatchLogGroup:
        context = self._context
        return CloudwatchLogGroup(
            self,
            "log_group",
            name=f"/aws/vendedlogs/states/{context.namer('payment-workflow')}",
            retention_in_days=context.log_retention_days,
            kms_key_id=context.key.arn,
        )

    def _build_state_machine(self, role: IamRole) -> SfnStateMachine:
        return SfnStateMachine(
            self,
            "state_machine",
            name=self._context.namer("payment-workflow"),
            type="STANDARD",
            role_arn=role.arn,
            definition=Fn.jsonencode(workflow_definition(self.workflow_function.lambda_function.arn)),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                log_destination=f"{self.log_group.arn}:*",
                include_execution_data=True,
                level="ALL",
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=self._context.xray_tracing),
        )

    def _build_workflow_function(
        self, sizing: FunctionSettings, rules: PaymentRules, storage: Storage, queues: Queues
    ) -> PaymentFunction:
        context = self._context
        # Construct id "step_function" kept from before the rename: it is the resources' address.
        return PaymentFunction(
            self,
            "step_function",
            context=context,
            spec=FunctionSpec(
                name=contract.WORKFLOW,
                settings=sizing,
                environment={
                    **context.common_environment,
                    contract.PAYMENTS_TABLE_NAME: storage.payments_table.name,
                    contract.AUDIT_TABLE_NAME: storage.audit_table.name,
                    contract.STATUS_TOPIC_ARN: queues.status_topic.arn,
                    contract.BLOCKED_MERCHANT_IDS: ",".join(rules.blocked_merchant_ids),
                },
                statements=[
                    statement(
                        "ReadAndTransitionPayments",
                        # Transitions are TransactWriteItems of an Update here and a Put on the audit table.
                        ["dynamodb:GetItem", "dynamodb:UpdateItem"],
                        [storage.payments_table.arn],
                    ),
                    statement("AppendAudit", ["dynamodb:PutItem"], [storage.audit_table.arn]),
                    statement("PublishStatus", ["sns:Publish"], [queues.status_topic.arn]),
                    # SNS encrypts with the CMK on the publisher's behalf.
                    statement("EncryptForTopic", ["kms:GenerateDataKey", "kms:Decrypt"], [context.key.arn]),
                ],
            ),
        )

    def _build_role(self) -> IamRole:
        namer, account_id = self._context.namer, self._context.account_id
        assume = DataAwsIamPolicyDocument(
            self,
            "assume_role",
            statement=[
                statement(
                    "StepFunctionsAssumes",
                    ["sts:AssumeRole"],
                    [],
                    service_principals=["states.amazonaws.com"],
                    conditions=[condition("StringEquals", "aws:SourceAccount", [account_id])],
                )
            ],
        )
        role = IamRole(self, "role", name=namer("payment-state-machine-role"), assume_role_policy=assume.json)
        function_arn = self.workflow_function.lambda_function.arn
        statements = [
            statement("InvokeSteps", ["lambda:InvokeFunction"], [function_arn, f"{function_arn}:*"]),
        ]
        statements += state_machine_telemetry(self._context.xray_tracing)
        document = DataAwsIamPolicyDocument(self, "policy_document", statement=statements)
        IamRolePolicy(self, "policy", name=namer("payment-state-machine-policy"), role=role.id, policy=document.json)
        return role
