"""One Lambda function with everything it owns: code asset, role, policy, log group, its published
versions and its ``live`` alias.

Whatever invokes a function takes its ARN from here, never from ``lambda_function``: ``live_arn``
and ``live_invoke_arn`` (the alias: API Gateway, event source mappings, S3 and Scheduler) or
``version_arn`` (the version this deploy published: state machine tasks, so that an execution runs
the version it started with). ``invoke_grant`` is the resources a role invoking it needs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.lambda_alias import LambdaAlias
from cdktf_cdktf_provider_aws.lambda_function import (
    LambdaFunction,
    LambdaFunctionDeadLetterConfig,
    LambdaFunctionEnvironment,
    LambdaFunctionTracingConfig,
)
from constructs import Construct
from payment_core.contract import FUNCTION_ENVIRONMENT, LIVE_ALIAS, function_base_name

from lib.components.context import PlatformContext
from lib.components.policies import service_trust, statement
from lib.lambda_sources import handler_for
from lib.layer import function_code_dir
from lib.python_runtime import LAMBDA_RUNTIME as LAMBDA_RUNTIME  # re-exported: platform.py's layer uses it


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the platform's functions."""

    name: str  # the contract's function name: its handler module, its sizing, the role it plays
    statements: Sequence[DataAwsIamPolicyDocumentStatement]
    # Values only this function's construct knows; the rest come from the context.
    environment: Mapping[str, str] = field(default_factory=dict)
    dead_letter_target_arn: str | None = None


def function_environment(spec: FunctionSpec, common: Mapping[str, str]) -> dict[str, str]:
    """Exactly the variables the contract lists for ``spec.name``, each from the spec's own values
    or else the platform's; synth fails naming any listed one without a value, and any own one
    the contract does not list."""
    expected = FUNCTION_ENVIRONMENT[spec.name]
    available = {**common, **spec.environment}
    missing = set(expected) - set(available)
    unexpected = set(spec.environment) - set(expected)
    if missing or unexpected:
        raise ValueError(
            f"environment of {spec.name} must set exactly {sorted(expected)}; "
            f"missing {sorted(missing)}, unexpected {sorted(unexpected)}"
        )
    return {name: available[name] for name in expected}


class PaymentFunction(Construct):
    """A python3.12 function running ``payment_core.handlers.<name>``, with its own least-privilege
    role and log group."""

    def __init__(self, scope: Construct, construct_id: str, *, context: PlatformContext, spec: FunctionSpec) -> None:
        super().__init__(scope, construct_id)
        self._context = context
        self.environment: dict[str, str] = function_environment(spec, context.common_environment)
        self.contract_name: str = spec.name
        self.base_name: str = function_base_name(spec.name)
        self.name: str = context.namer(self.base_name)
        self.log_group: CloudwatchLogGroup = self._build_log_group()
        self.role: IamRole = self._build_role()
        self.policy: IamRolePolicy = self._build_policy(spec)
        self.lambda_function: LambdaFunction = self._build_function(spec)
        self.live_alias: LambdaAlias = self._build_live_alias()

    @property
    def live_arn(self) -> str:
        """The ``live`` alias's ARN: what event sources, S3 notifications and schedules invoke."""
        return self.live_alias.arn

    @property
    def live_invoke_arn(self) -> str:
        """The ``live`` alias's API Gateway integration URI (authorizer and proxy integrations)."""
        return self.live_alias.invoke_arn

    @property
    def version_arn(self) -> str:
        """The version this deploy published (``<arn>:<n>``). A state machine's tasks name it: Step
        Functions runs an execution on the definition it started with (UpdateStateMachine: "executions
        already running continue to use the previous definition"), so an execution keeps the version
        it started on, whatever a later deploy or rollback does to the alias."""
        return self.lambda_function.qualified_arn

    @property
    def invoke_grant(self) -> list[str]:
        """What ``lambda:InvokeFunction`` must name to invoke any version or alias of this function:
        IAM matches a qualified ARN only with a qualified resource (``<arn>:*``)."""
        return [self.lambda_function.arn, f"{self.lambda_function.arn}:*"]

    def _build_live_alias(self) -> LambdaAlias:
        # Points at the version this deploy published; `make rollback` moves it back out of band.
        return LambdaAlias(
            self,
            "live",
            name=LIVE_ALIAS,
            function_name=self.lambda_function.function_name,
            function_version=self.lambda_function.version,
            description="The version every event source invokes",
        )

    def _build_log_group(self) -> CloudwatchLogGroup:
        return self._context.log_group(self, "log_group", name=f"/aws/lambda/{self.name}")

    def _build_role(self) -> IamRole:
        assume = service_trust(self, "assume_role", "lambda.amazonaws.com")
        name = self._context.namer.account_wide(f"{self.base_name}-role")
        return IamRole(self, "role", name=name, assume_role_policy=assume.json)

    def _build_policy(self, spec: FunctionSpec) -> IamRolePolicy:
        context = self._context
        statements = [
            statement(
                "WriteOwnLogs",
                ["logs:CreateLogStream", "logs:PutLogEvents"],
                [f"{self.log_group.arn}:*"],
            ),
            # Decrypt the function's own environment variables (encrypted with the CMK).
            statement("DecryptEnvironment", ["kms:Decrypt"], [context.key.arn]),
            *spec.statements,
        ]
        if context.xray_tracing:
            # X-Ray has no resource-level permissions: "*" is the only resource AWS accepts.
            statements.append(statement("Tracing", ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], ["*"]))
        document = DataAwsIamPolicyDocument(self, "policy_document", statement=statements)
        name = context.namer(f"{self.base_name}-policy")
        return IamRolePolicy(self, "policy", name=name, role=self.role.id, policy=document.json)

    def _build_function(self, spec: FunctionSpec) -> LambdaFunction:
        context = self._context
        sizing = context.function_sizing[spec.name]
        # Every function ships the same package (one asset per function keeps its construct id).
        asset = TerraformAsset(self, "code", path=str(function_code_dir()), type=AssetType.ARCHIVE)
        dead_letter = (
            LambdaFunctionDeadLetterConfig(target_arn=spec.dead_letter_target_arn)
            if spec.dead_letter_target_arn
            else None
        )
        return LambdaFunction(
            self,
            "function",
            function_name=self.name,
            role=self.role.arn,
            runtime=LAMBDA_RUNTIME,
            architectures=["x86_64"],
            handler=handler_for(spec.name),
            filename=asset.path,
            source_code_hash=asset.asset_hash,
            layers=[context.layer.arn],
            memory_size=sizing.memory_mb,
            timeout=sizing.timeout_seconds,
            reserved_concurrent_executions=sizing.reserved_concurrency,
            environment=LambdaFunctionEnvironment(variables=self.environment),
            kms_key_arn=context.key.arn,
            tracing_config=LambdaFunctionTracingConfig(mode="Active" if context.xray_tracing else "PassThrough"),
            dead_letter_config=dead_letter,
            publish=True,  # a version per code or configuration change: the live alias points at it
            # The role's permissions are needed at create time (a DLQ target is checked then, the
            # first invocation may follow at once): wait for the inline policy, not IAM retries.
            depends_on=[self.log_group, self.policy],
        )
