"""How every state machine of the platform is built: a role that Step Functions assumes for this
account only, and a STANDARD machine that logs every execution to its encrypted log group and is
traced as the context says."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from lib.components.context import PlatformContext
from lib.components.policies import condition, state_machine_telemetry, statement


def state_machine_role(
    scope: Construct,
    context: PlatformContext,
    name: str,
    statements: Sequence[DataAwsIamPolicyDocumentStatement],
    *,
    id_prefix: str = "",
) -> IamRole:
    """The role ``<name>-role`` with ``statements`` and the telemetry every machine needs, in its
    policy ``<name>-policy``; construct ids start with ``id_prefix``."""
    assume = DataAwsIamPolicyDocument(
        scope,
        f"{id_prefix}assume_role",
        statement=[
            statement(
                "StepFunctionsAssumes",
                ["sts:AssumeRole"],
                [],
                service_principals=["states.amazonaws.com"],
                conditions=[condition("StringEquals", "aws:SourceAccount", [context.account_id])],
            )
        ],
    )
    role = IamRole(scope, f"{id_prefix}role", name=context.namer(f"{name}-role"), assume_role_policy=assume.json)
    everything = [*statements, *state_machine_telemetry(context.xray_tracing)]
    document = DataAwsIamPolicyDocument(scope, f"{id_prefix}policy_document", statement=everything)
    IamRolePolicy(scope, f"{id_prefix}policy", name=context.namer(f"{name}-policy"), role=role.id, policy=document.json)
    return role


def logged_state_machine(
    scope: Construct,
    construct_id: str,
    context: PlatformContext,
    *,
    name: str,
    role: IamRole,
    definition: Mapping[str, Any],
    log_group: CloudwatchLogGroup,
) -> SfnStateMachine:
    """A STANDARD state machine ``name`` (named by the context) running ``definition`` (may hold
    tokens) as ``role``, every execution logged in full to ``log_group``."""
    return SfnStateMachine(
        scope,
        construct_id,
        name=context.namer(name),
        type="STANDARD",
        role_arn=role.arn,
        definition=Fn.jsonencode(definition),
        logging_configuration=SfnStateMachineLoggingConfiguration(
            log_destination=f"{log_group.arn}:*",
            include_execution_data=True,
            level="ALL",
        ),
        tracing_configuration=SfnStateMachineTracingConfiguration(enabled=context.xray_tracing),
    )
