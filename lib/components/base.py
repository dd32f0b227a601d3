"""The base of the platform's components: the shared context, and the builders they all use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from cdktf import Fn
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.sfn_state_machine import (
    SfnStateMachine,
    SfnStateMachineEncryptionConfiguration,
    SfnStateMachineLoggingConfiguration,
    SfnStateMachineTracingConfiguration,
)
from constructs import Construct

from lib.components.context import PlatformContext
from lib.components.function import FunctionSpec, PaymentFunction

# Seconds Step Functions reuses a data key before it asks KMS for a new one (60-900): the
# longest, so a busy machine calls KMS at most once every 15 minutes per key.
STATE_MACHINE_DATA_KEY_REUSE_SECONDS = 900

SettingsT = TypeVar("SettingsT")
InputsT = TypeVar("InputsT")


class PlatformConstruct(Construct):
    """A component of the platform, built in the shared context (``self._context``)."""

    def __init__(self, scope: Construct, construct_id: str, context: PlatformContext) -> None:
        super().__init__(scope, construct_id)
        self._context = context

    def _function(
        self,
        construct_id: str,
        name: str,
        statements: Sequence[DataAwsIamPolicyDocumentStatement],
        *,
        environment: Mapping[str, str] | None = None,
        dead_letter_target_arn: str | None = None,
    ) -> PaymentFunction:
        """The contract's function ``name``, granted ``statements`` on top of what every function
        gets; its environment is the contract's list for it, valued from ``environment`` (what
        only this component knows) or else the context."""
        spec = FunctionSpec(
            name=name,
            statements=statements,
            environment=environment or {},
            dead_letter_target_arn=dead_letter_target_arn,
        )
        return PaymentFunction(self, construct_id, context=self._context, spec=spec)

    def _state_machine(
        self,
        construct_id: str,
        name: str,
        role: tuple[IamRole, IamRolePolicy],
        definition: Mapping[str, Any],
        log_group: CloudwatchLogGroup,
    ) -> SfnStateMachine:
        """A STANDARD state machine ``name`` (named by the context) running ``definition`` (may
        hold tokens) as ``role`` (state_machine_role's role and policy), every execution logged in
        full to ``log_group`` and traced as the context says. Its definition and execution data
        (payments, batch rows) are encrypted with the platform key, not an AWS-owned one."""
        role_resource, policy = role
        return SfnStateMachine(
            self,
            construct_id,
            name=self._context.namer(name),
            type="STANDARD",
            role_arn=role_resource.arn,
            definition=Fn.jsonencode(definition),
            logging_configuration=SfnStateMachineLoggingConfiguration(
                log_destination=f"{log_group.arn}:*",
                include_execution_data=True,
                level="ALL",
            ),
            tracing_configuration=SfnStateMachineTracingConfiguration(enabled=self._context.xray_tracing),
            encryption_configuration=SfnStateMachineEncryptionConfiguration(
                type="CUSTOMER_MANAGED_KMS_KEY",
                kms_key_id=self._context.key.arn,
                kms_data_key_reuse_period_seconds=STATE_MACHINE_DATA_KEY_REUSE_SECONDS,
            ),
            # CreateStateMachine checks the role can deliver the execution logs: its policy first.
            depends_on=[policy],
        )


class ConfiguredConstruct(PlatformConstruct, Generic[SettingsT, InputsT]):
    """A component built from the shared context, its slice of the config (``self._settings``) and
    what else it is built from (``inputs``: the components built before it, or a second slice).

    Every such component is created alike, ``Component(scope, id, context, settings, inputs)``, so
    the signature is written here once; ``_build`` reads as the list of its ``_build_*`` steps,
    each of which sets one of its typed attributes."""

    def __init__(
        self, scope: Construct, construct_id: str, context: PlatformContext, settings: SettingsT, inputs: InputsT
    ) -> None:
        super().__init__(scope, construct_id, context)
        self._settings = settings
        self._build(inputs)

    def _build(self, inputs: InputsT) -> None:
        raise NotImplementedError
