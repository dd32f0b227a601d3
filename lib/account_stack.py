"""What exists once per AWS account and region, not once per environment: the account stack.

API Gateway writes a stage's access and execution logs through ONE IAM role per account and region
(``aws_api_gateway_account.cloudwatch_role_arn``). On an account or region where it was never set,
the environment stack's stage fails to create ("CloudWatch Logs role ARN must be set in account
settings to enable logging"). It cannot live in the environment stack: every PR stack would then
own, and on destroy remove or reset, a setting the other stacks of the region rely on. So it lives
here, applied before (and with the same command as) the environment stack, and a PR stack's
destroy never touches it (a different stack, a different state file).

Destroying this stack is a deliberate operator action, never part of a PR's clean-up: it deletes
the role, and with it the logs of every API of the region (the account setting itself stays,
``reset_on_delete`` false, as for a deleted ``AWS::ApiGateway::Account``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import App, TerraformOutput
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.components.policies import service_trust
from lib.settings import DeploymentSettings
from lib.stack_base import PROJECT_TAGS, EmulatorProvider, PlatformStack, target_overrides
from lib.tap_stack import TapStack

ACCOUNT_STACK_NAME = "TapAccount"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
# IAM role names are global to the account while the API Gateway setting is per region: the
# region in the name lets each region's account stack own its own role.
ROLE_NAME_PREFIX = "payment-platform-apigw-cloudwatch"
# What API Gateway does with the role (the AmazonAPIGatewayPushToCloudWatchLogs actions it needs
# to write): create the execution log group if missing, then streams and events.
WRITE_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
# Log groups API Gateway writes to: execution logs (named by API Gateway) and the access log
# groups this project declares (lib/constructs/api.py: /aws/apigateway/<api name>).
LOG_GROUP_PATTERNS = ("API-Gateway-Execution-Logs_*", "/aws/apigateway/*")


def cloudwatch_role_name(region: str) -> str:
    return f"{ROLE_NAME_PREFIX}-{region}"


class ApiGatewayAccountLogging(Construct):
    """The account's API Gateway CloudWatch role and the account setting that points at it.

    Exposes ``role: IamRole``, ``policy: IamRolePolicy`` and ``account: ApiGatewayAccount``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, account_id: str, region: str) -> None:
        super().__init__(scope, construct_id)
        self.role: IamRole = self._build_role(region)
        self.policy: IamRolePolicy = self._build_policy(account_id, region)
        # The setting is validated at UpdateAccount time (API Gateway assumes the role), so it
        # waits for the role's permissions, not only for the role.
        self.account: ApiGatewayAccount = ApiGatewayAccount(
            self,
            "account",
            cloudwatch_role_arn=self.role.arn,
            reset_on_delete=False,
            depends_on=[self.policy],
        )

    def _build_role(self, region: str) -> IamRole:
        trust = service_trust(self, "trust", API_GATEWAY_PRINCIPAL)
        return IamRole(
            self,
            "role",
            name=cloudwatch_role_name(region),
            description="API Gateway writes access and execution logs of every REST API in this region with it",
            assume_role_policy=trust.json,
        )

    def _build_policy(self, account_id: str, region: str) -> IamRolePolicy:
        log_groups = [f"arn:aws:logs:{region}:{account_id}:log-group:{pattern}" for pattern in LOG_GROUP_PATTERNS]
        document = DataAwsIamPolicyDocument(
            self,
            "policy_document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteApiGatewayLogs",
                    effect="Allow",
                    actions=list(WRITE_ACTIONS),
                    resources=[*log_groups, *(f"{group}:*" for group in log_groups)],
                ),
                # DescribeLogGroups has no per-group resource: it lists the region's groups
                # (Service Authorization Reference, CloudWatch Logs), so only "*" grants it.
                DataAwsIamPolicyDocumentStatement(
                    sid="FindLogGroups", effect="Allow", actions=["logs:DescribeLogGroups"], resources=["*"]
                ),
            ],
        )
        return IamRolePolicy(self, "policy", name="write-api-gateway-logs", role=self.role.id, policy=document.json)


class AccountStack(PlatformStack):
    """``TapAccount``: what one account and region hold once, on the same stack base as TapStack.

    Exposes ``logging: ApiGatewayAccountLogging``.
    """

    @classmethod
    def _default_id(cls, settings: DeploymentSettings) -> str:
        return ACCOUNT_STACK_NAME

    def _tags(self, settings: DeploymentSettings) -> Mapping[str, str]:
        # No environment tags: the stack serves every environment of the region.
        return PROJECT_TAGS

    def _state_key(self, settings: DeploymentSettings) -> str:
        # One state per account and region, whichever environment's deploy applies it.
        return f"account/{settings.region}/{self.node.id}.tfstate"

    def _build(self, settings: DeploymentSettings) -> None:
        account_id = DataAwsCallerIdentity(self, "account").account_id
        self.logging: ApiGatewayAccountLogging = ApiGatewayAccountLogging(
            self, "api_gateway_logging", account_id=account_id, region=settings.region
        )
        TerraformOutput(self, "api_gateway_cloudwatch_role_arn", value=self.logging.role.arn)


def synth_with_account_stack(
    app: App, environment: TapStack, settings: DeploymentSettings, *, emulator_provider: EmulatorProvider | None = None
) -> AccountStack:
    """Add ``TapAccount`` to ``app`` and make ``environment`` depend on it.

    ``cdktf deploy`` then refuses to deploy the environment stack without it and applies it first
    (``cdktf deploy TapAccount TapStack<suffix>``); ``cdktf destroy TapStack<suffix>`` leaves it.
    """
    account = AccountStack(app, settings=settings, provider_overrides=target_overrides(settings, emulator_provider))
    environment.add_dependency(account)
    return account
