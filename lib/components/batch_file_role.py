"""The batch-file state machine's role (lib/components/ingestion.py builds the machine)."""

from __future__ import annotations

from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct
from payment_core import contract

from lib.components.context import PlatformContext
from lib.components.policies import statement
from lib.components.state_machine import state_machine_role


def file_state_machine_role(
    scope: Construct, context: PlatformContext, function_arn: str, bucket_arn: str, state_machine_arn: str
) -> tuple[IamRole, IamRolePolicy]:
    """What the batch-file state machine may do: invoke its one function, read the chunk
    descriptors for its map, run the map's children, deliver logs and traces. Returns the role
    and its inline policy (the machine waits for the policy: CreateStateMachine checks it)."""
    arn = state_machine_arn
    execution_arns = arn.replace(":stateMachine:", ":execution:") + "/*"
    statements = [
        statement("InvokeSteps", ["lambda:InvokeFunction"], [function_arn, f"{function_arn}:*"]),
        # The map's ItemReader reads the chunk descriptors the Plan step wrote.
        statement(
            "ReadChunkDescriptors",
            ["s3:GetObject"],
            [f"{bucket_arn}/{contract.BATCH_WORK_PREFIX}*"],
        ),
        statement("DecryptChunkDescriptors", ["kms:Decrypt"], [context.key.arn]),
        # A Distributed Map runs each item as a child execution of this state machine
        # ("IAM policies for Distributed Map states", Step Functions developer guide).
        statement("RunMapChildren", ["states:StartExecution"], [arn]),
        statement("ManageMapChildren", ["states:DescribeExecution", "states:StopExecution"], [execution_arns]),
    ]
    return state_machine_role(scope, context, "batch-file-state-machine", statements, id_prefix="file_")
