"""What exists once per AWS account and region, not once per environment: the account stack.

API Gateway writes a stage's access and execution logs through ONE IAM role per account and region
(``aws_api_gateway_account.cloudwatch_role_arn``). On an account or region where it was never set,
the environment stack's stage fails to create ("CloudWatch Logs role ARN must be set in account
settings to enable logging"). It cannot live in the environment stack: every PR stack would then
own, and on destroy remove or reset, a setting the other stacks of the region rely on. So it lives
here, applied before (and with the same command as) the environment stack, and a PR stack's
destroy never touches it (a different stack, a different state file).

X-Ray's encryption is the same kind of setting: one per account and region, for every trace of
every stack. The account stack sets it to its own customer-managed key (``XRayEncryption``), so
the traces of the payment functions (payment ids, merchants, timings) are encrypted with a key
the account controls, audits in CloudTrail and can disable.

A good neighbour: the role and the setting serve every REST API of the account and region, not
only ours. So the role grants what AWS's managed policy for it (``AmazonAPIGatewayPushToCloudWatchLogs``)
grants, scoped to this account and region's log groups (the setting is per region), and an account
whose setting already names a role (``make preflight`` prints it) keeps it: with
``API_GATEWAY_CLOUDWATCH_ROLE_ARN`` set to that role, this stack creates no role and leaves the
setting alone, so applying or destroying it changes nothing for the other APIs. When it does own
the setting, destroying it resets the setting (``reset_on_delete``) before deleting the role, so the
account is left as a new one is (no role set), never pointing at a deleted role.

X-Ray's key: destroying this stack schedules its deletion: put X-Ray back on its default encryption
first (removing the resource does not), or X-Ray stops storing traces once the key is gone.

The environments' backup vaults live here too (lib/components/backup_vaults.py): an environment's
recovery points must outlive its own stack's destroy. Destroying this stack is a deliberate
operator action, never part of a PR's clean-up: it deletes the backup vaults with every recovery
point in them (docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

from cdktf import App, TerraformOutput
from cdktf_cdktf_provider_aws.api_gateway_account import ApiGatewayAccount
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import (
    DataAwsIamPolicyDocument,
    DataAwsIamPolicyDocumentStatement,
)
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.xray_encryption_config import XrayEncryptionConfig
from constructs import Construct

from lib.components.backup_vaults import BackupVaults
from lib.components.keys import KEY_USE_ACTIONS, rotating_key, service_key_policy
from lib.components.policies import service_trust
from lib.config import ENVIRONMENTS, config_for
from lib.naming import DR_SITE, cloudwatch_role_name
from lib.settings import DeploymentSettings
from lib.stack_base import EmulatorProvider, PlatformStack, target_overrides
from lib.tap_stack import TapStack

ACCOUNT_STACK_NAME = "TapAccount"
API_GATEWAY_PRINCIPAL = "apigateway.amazonaws.com"
# AWS's managed policy for this role (AmazonAPIGatewayPushToCloudWatchLogs, v1, AWS Managed Policy
# reference), action for action: every REST API of the region logs through the role, to log groups
# its own team named, so the role must do what API Gateway does for any of them, not only ours.
MANAGED_POLICY_ACTIONS = (
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
)
# DescribeLogGroups lists the region's groups and takes no log-group resource (Service Authorization
# Reference, CloudWatch Logs): only "*" grants it. Every other action is scoped below to this account
# and region's log groups, narrower than the managed policy's "*" yet covering every API that can use
# the role (the setting, and so the role, serves one region).
UNSCOPED_ACTIONS = ("logs:DescribeLogGroups",)
XRAY_KEY_ALIAS = "alias/payment-platform-xray"
# The key serves every environment of the region: the longest window KMS allows, whichever
# environment's deploy applies the account stack.
XRAY_KEY_DELETION_WINDOW_DAYS = 30


class ApiGatewayAccountLogging(Construct):
    """The account's API Gateway CloudWatch role and the account setting that points at it.

    Exposes ``role: IamRole``, ``policy: IamRolePolicy`` and ``account: ApiGatewayAccount``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, account_id: str, region: str, partition: str) -> None:
        super().__init__(scope, construct_id)
        self.role: IamRole = self._build_role(region)
        self.policy: IamRolePolicy = self._build_policy(account_id, region, partition)
        # The setting is validated at UpdateAccount time (API Gateway assumes the role), so it
        # waits for the role's permissions, not only for the role.
        # Destroyed first (it depends on the policy, which depends on the role): the setting is
        # reset to none, then the role goes, so nothing is left naming a deleted role.
        self.account: ApiGatewayAccount = ApiGatewayAccount(
            self,
            "account",
            cloudwatch_role_arn=self.role.arn,
            reset_on_delete=True,
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

    def _build_policy(self, account_id: str, region: str, partition: str) -> IamRolePolicy:
        log_groups = f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
        document = DataAwsIamPolicyDocument(
            self,
            "policy_document",
            statement=[
                DataAwsIamPolicyDocumentStatement(
                    sid="WriteLogsOfEveryApiInTheRegion",
                    effect="Allow",
                    actions=[action for action in MANAGED_POLICY_ACTIONS if action not in UNSCOPED_ACTIONS],
                    resources=[log_groups, f"{log_groups}:log-stream:*"],
                ),
                DataAwsIamPolicyDocumentStatement(
                    sid="FindLogGroups", effect="Allow", actions=list(UNSCOPED_ACTIONS), resources=["*"]
                ),
            ],
        )
        return IamRolePolicy(self, "policy", name="write-api-gateway-logs", role=self.role.id, policy=document.json)


class XRayEncryption(Construct):
    """X-Ray's account-level encryption with a customer-managed key of its own.

    The key policy is the one AWS writes for X-Ray's own managed key (``aws/xray``): the account
    administers the key, and any principal of this account may use it only through X-Ray in this
    region (``kms:ViaService`` and ``kms:CallerAccount``), so every function that writes traces,
    and everyone allowed to read them, can, and nothing else can use the key directly.
    Exposes ``key``, ``alias`` and ``config``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, account_id: str, region: str, partition: str) -> None:
        super().__init__(scope, construct_id)
        policy = service_key_policy(
            self,
            "XRay",
            KEY_USE_ACTIONS,
            account_id=account_id,
            region=region,
            partition=partition,
        )
        self.key, self.alias = rotating_key(
            self,
            description="X-Ray trace encryption for this account and region (payment platform)",
            alias_name=XRAY_KEY_ALIAS,
            deletion_window_days=XRAY_KEY_DELETION_WINDOW_DAYS,
            policy=policy,
        )
        self.config: XrayEncryptionConfig = XrayEncryptionConfig(self, "config", type="KMS", key_id=self.key.arn)


class AccountStack(PlatformStack):
    """``TapAccount``: what one account and region hold once, on the same stack base as TapStack.

    Exposes ``logging: ApiGatewayAccountLogging | None`` (None when the settings adopt the role the
    account already has), ``xray: XRayEncryption`` and ``backup_vaults: BackupVaults``. Its tags are
    the project's alone: the stack serves every environment of the region.
    """

    @classmethod
    def _default_id(cls, settings: DeploymentSettings) -> str:
        return ACCOUNT_STACK_NAME

    def _state_key(self, settings: DeploymentSettings) -> str:
        # One state per account and region, whichever environment's deploy applies it.
        return f"account/{settings.region}/{self.node.id}.tfstate"

    def _build(self, settings: DeploymentSettings) -> None:
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        adopted = settings.api_gateway_cloudwatch_role_arn
        self.logging: ApiGatewayAccountLogging | None = (
            None
            if adopted
            else ApiGatewayAccountLogging(
                self, "api_gateway_logging", account_id=account_id, region=settings.region, partition=partition
            )
        )
        self.xray: XRayEncryption = XRayEncryption(
            self, "xray_encryption", account_id=account_id, region=settings.region, partition=partition
        )
        role_arn = adopted if self.logging is None else self.logging.role.arn
        self.backup_vaults: BackupVaults = self._build_backup_vaults(settings, account_id, partition)
        TerraformOutput(self, "api_gateway_cloudwatch_role_arn", value=role_arn)
        TerraformOutput(self, "xray_key_arn", value=self.xray.key.arn)
        TerraformOutput(self, "backup_vault_arn", value=self.backup_vaults.primary.vault.arn)

    def _build_backup_vaults(self, settings: DeploymentSettings, account_id: str, partition: str) -> BackupVaults:
        """The vaults every environment's backups of this region go to (lib/components/backup_vaults.py).

        What the account stack holds cannot depend on which environment's deploy applies it (a
        dev deploy would otherwise remove prod's copy vault): the copy regions are the DR regions
        (``disaster_recovery.dr_region``) of every preset that backs up, read here, not the
        deploying one's; none is this stack's own region (a DR site's account stack has no copy).
        """
        presets = [config_for(environment) for environment in ENVIRONMENTS]
        copy_regions = {
            config.disaster_recovery.dr_region
            for config in presets
            if config.backup.enabled and config.disaster_recovery.dr_region not in (None, settings.region)
        }
        return BackupVaults(
            self,
            "backup_vaults",
            region=settings.region,
            account_id=account_id,
            partition=partition,
            copy_providers={
                region: self.regional_provider(f"{DR_SITE}_{region.replace('-', '_')}", region)
                for region in sorted(filter(None, copy_regions))
            },
        )


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
