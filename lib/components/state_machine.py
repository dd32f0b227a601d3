"""The role every state machine of the platform runs as: assumed by Step Functions for this
account only, with the grants to deliver its execution logs and traces (the machine itself:
``PlatformConstruct._state_machine``)."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.components.context import PlatformContext
from lib.components.policies import account_service_trust, state_machine_telemetry, statement


def state_machine_role(
    scope: Construct,
    context: PlatformContext,
    name: str,
    statements: Sequence[DataAwsIamPolicyDocumentStatement],
    *,
    id_prefix: str = "",
) -> tuple[IamRole, IamRolePolicy]:
    """The role ``<name>-role`` and its policy ``<name>-policy``: ``statements`` and the telemetry
    every machine needs. Construct ids start with ``id_prefix``."""
    assume = account_service_trust(
        scope, f"{id_prefix}assume_role", "StepFunctionsAssumes", "states.amazonaws.com", context.account_id
    )
    role = IamRole(
        scope, f"{id_prefix}role", name=context.namer.account_wide(f"{name}-role"), assume_role_policy=assume.json
    )
    # The machine's data is encrypted with the platform key (PlatformConstruct._state_machine):
    # Step Functions uses it as the execution role (Step Functions developer guide, data at rest
    # encryption), and the key policy's account statement lets this identity policy grant it.
    encryption = statement("EncryptExecutionData", ["kms:Decrypt", "kms:GenerateDataKey"], [context.key.arn])
    everything = [*statements, encryption, *state_machine_telemetry(context.xray_tracing)]
    document = DataAwsIamPolicyDocument(scope, f"{id_prefix}policy_document", statement=everything)
    policy = IamRolePolicy(
        scope, f"{id_prefix}policy", name=context.namer(f"{name}-policy"), role=role.id, policy=document.json
    )
    return role, policy
