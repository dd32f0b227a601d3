"""An environment's AWS Backup plan: its tables into the account stack's vault, copied to the DR region.

Built where ``backup.enabled`` is on (staging and prod). The plan, its selection and its role are
the environment's (they go with its stack); the vaults are ``TapAccount``'s
(lib/components/backup_vaults.py), so the recovery points outlive ``cdktf destroy TapStack<suffix>``.

Backed up: payments, audit, merchants and events (``BACKED_UP_TABLES``): what a lost environment
cannot rebuild. Not backed up: the batch jobs and claims tables (a job's state and the claims that
make a row queued once expire with the re-run window; a restored claim would only block a
re-run), and the batch bucket: every accepted row of a file becomes a payment in the payments
table within the file's execution, the bucket keeps noncurrent versions for its own lifecycle, and
AWS Backup for S3 would add the bucket's whole object history to every recovery point.

The role is AWS Backup's service role with the statements of AWS's managed
``AWSBackupServiceRolePolicyForBackup`` that a DynamoDB backup and a copy use, narrowed from
``table/*`` and ``backup-vault:*`` to these tables and these two vaults. Restores do not use it:
``make restore`` (ops/restore.py) calls DynamoDB with the operator's credentials.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.backup_plan import (
    BackupPlan,
    BackupPlanRule,
    BackupPlanRuleCopyAction,
    BackupPlanRuleCopyActionLifecycle,
    BackupPlanRuleLifecycle,
)
from cdktf_cdktf_provider_aws.backup_selection import BackupSelection
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from lib.components.backup_vaults import BACKUP_VAULT_NAME, copy_vault_name, vault_arn
from lib.components.context import PlatformContext
from lib.components.policies import condition, service_trust, statement
from lib.config.backup import BackupConfig

BACKUP_PRINCIPAL = "backup.amazonaws.com"
# Logical table names (payment_core.contract.TABLE_STEMS) the plan selects.
BACKED_UP_TABLES = ("payments", "audit", "merchants", "events")
# AWSBackupServiceRolePolicyForBackup's statements for DynamoDB, by their Sid there:
# DynamoDBPermissions (read the table, take an on-demand backup) and, for tables under AWS
# Backup's advanced DynamoDB features, the job start and the tags copied onto the recovery point.
TABLE_ACTIONS = ("dynamodb:DescribeTable", "dynamodb:CreateBackup")
ADVANCED_TABLE_ACTIONS = ("dynamodb:StartAwsBackupJob", "dynamodb:ListTagsOfResource")
# DynamoDBBackupResourcePermissions: follow the backup, delete it when its lifecycle ends.
TABLE_BACKUP_ACTIONS = ("dynamodb:DescribeBackup", "dynamodb:DeleteBackup")
# BackupVaultPermissions: a copy job writes into the destination vault.
VAULT_ACTIONS = ("backup:DescribeBackupVault", "backup:CopyIntoBackupVault")
# KMSPermissions and KMSCreateGrantPermissions: describe the vaults' keys and let AWS Backup grant
# itself their use (GrantIsForAWSResource: only an AWS service can use such a grant).
KEY_ACTIONS = ("kms:DescribeKey",)
KEY_GRANT_ACTIONS = ("kms:CreateGrant",)


class TableBackups(Construct):
    """Plan, selection and role. Exposes ``role``, ``policy``, ``plan``, ``selection``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        settings: BackupConfig,
        tables: Mapping[str, DynamodbTable],
        copy_region: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._context = context
        self._settings = settings
        # The environment's DR region (disaster_recovery.dr_region), another than the stack's; None: no copy.
        self._copy_region = copy_region
        self._tables = [tables[name] for name in BACKED_UP_TABLES]
        self.role: IamRole = self._build_role()
        self.policy: IamRolePolicy = self._build_policy()
        self.plan: BackupPlan = self._build_plan()
        self.selection: BackupSelection = self._build_selection()

    @property
    def vault_arns(self) -> list[str]:
        """The account's vault, then the copy region's (if any)."""
        c, copy_region = self._context, self._copy_region
        arns = [vault_arn(c.partition, c.region, c.account_id, BACKUP_VAULT_NAME)]
        if copy_region is not None:
            arns.append(vault_arn(c.partition, copy_region, c.account_id, copy_vault_name(c.region)))
        return arns

    def _key_arns(self) -> list[str]:
        # The vaults' keys are TapAccount's (another state): their ids are not known here, so the
        # grant names the account's keys in each vault's region (GrantIsForAWSResource narrows it).
        c = self._context
        regions = [c.region, *filter(None, [self._copy_region])]
        return [f"arn:{c.partition}:kms:{region}:{c.account_id}:key/*" for region in regions]

    def _build_role(self) -> IamRole:
        # Not conditioned on aws:SourceAccount (as the scheduler's role is): AWS Backup documents
        # confused-deputy conditions for resource policies (its SNS topics, backup-storage's KMS
        # use), not for this role's trust, and a StringEquals on a key the AssumeRole request does
        # not carry denies it: every backup job would fail, silently until the first restore.
        trust = service_trust(self, "assume_role", BACKUP_PRINCIPAL)
        return IamRole(
            self,
            "role",
            name=self._context.namer.account_wide("payment-backup-role"),
            description="AWS Backup backs up the environment's tables into the account's vaults with it",
            assume_role_policy=trust.json,
        )

    def _build_policy(self) -> IamRolePolicy:
        table_arns = [table.arn for table in self._tables]
        document = DataAwsIamPolicyDocument(
            self,
            "policy_document",
            statement=[
                statement("BackUpTables", [*TABLE_ACTIONS, *ADVANCED_TABLE_ACTIONS], table_arns),
                statement("ManageTableBackups", TABLE_BACKUP_ACTIONS, [f"{arn}/backup/*" for arn in table_arns]),
                statement("WriteIntoVaults", VAULT_ACTIONS, self.vault_arns),
                statement("DescribeVaultKeys", KEY_ACTIONS, self._key_arns()),
                statement(
                    "GrantVaultKeysToBackup",
                    KEY_GRANT_ACTIONS,
                    self._key_arns(),
                    conditions=[condition("Bool", "kms:GrantIsForAWSResource", ["true"])],
                ),
            ],
        )
        return IamRolePolicy(
            self,
            "policy",
            name=self._context.namer("payment-backup-policy"),
            role=self.role.id,
            policy=document.json,
        )

    def _build_plan(self) -> BackupPlan:
        settings, copy_region = self._settings, self._copy_region
        copy_actions = None
        if copy_region is not None:
            copy_actions = [
                BackupPlanRuleCopyAction(
                    destination_vault_arn=self.vault_arns[1],
                    lifecycle=BackupPlanRuleCopyActionLifecycle(
                        delete_after=settings.retention_days,
                        cold_storage_after=settings.cold_storage_after_days,
                    ),
                )
            ]
        return BackupPlan(
            self,
            "plan",
            name=self._context.namer("payment-tables"),
            rule=[
                BackupPlanRule(
                    rule_name="tables",
                    target_vault_name=BACKUP_VAULT_NAME,
                    schedule=settings.schedule,
                    lifecycle=BackupPlanRuleLifecycle(
                        delete_after=settings.retention_days,
                        cold_storage_after=settings.cold_storage_after_days,
                    ),
                    copy_action=copy_actions,
                )
            ],
        )

    def _build_selection(self) -> BackupSelection:
        return BackupSelection(
            self,
            "selection",
            name=self._context.namer("payment-tables"),
            plan_id=self.plan.id,
            iam_role_arn=self.role.arn,
            resources=[table.arn for table in self._tables],
        )
