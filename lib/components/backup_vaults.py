"""The vaults the environments' backups go to: owned by the account stack, not by an environment.

An environment's recovery points must outlive ``cdktf destroy TapStack<suffix>`` (a mistaken
destroy of prod is the case they exist for), so no environment owns the vault they are in:
``TapAccount`` does (one state per account and region). Destroying ``TapAccount`` is the deliberate
act that removes them: the vaults are ``force_destroy``, so Terraform deletes their recovery
points and then the vaults, and "everything is destroyable" holds (docs/operations.md).

Each vault has its own customer-managed key (recovery points of DynamoDB tables under AWS Backup's
advanced features are encrypted with the vault's key, not the table's) and an access policy that
denies every principal deleting a recovery point or shortening its lifecycle. Every principal, not
only the environments' roles: those roles are per environment suffix and come and go with PR
stacks, a CI role that can deploy an environment could otherwise delete its backups, and a deny
for "*" needs no list to keep current. What lifts it is removing the policy
(``backup:DeleteBackupVaultAccessPolicy``), which Terraform does first when the account stack is
destroyed (the policy depends on the vault, so it goes before it); expiry at the end of a
lifecycle is AWS Backup's own, not an API call the policy judges. No vault lock: a compliance
lock could never be removed, breaking "destroyable", and a governance lock adds nothing to this
deny for the principals that could remove it.

A copy vault lives in a DR region (``disaster_recovery.dr_region``), through a provider for that region,
and is named after the source region, so the copy region's own ``TapAccount`` vault never clashes.
"""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.backup_vault import BackupVault
from cdktf_cdktf_provider_aws.backup_vault_policy import BackupVaultPolicy
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from lib.components.keys import KEY_USE_ACTIONS, rotating_key, service_key_policy
from lib.components.policies import statement

BACKUP_VAULT_NAME = "payment-platform-backups"
# What no principal may do to a recovery point while the vault's policy stands.
PROTECTED_ACTIONS = ("backup:DeleteRecoveryPoint", "backup:UpdateRecoveryPointLifecycle")
# The key serves every environment's recovery points: the longest window KMS allows.
VAULT_KEY_DELETION_WINDOW_DAYS = 30
# As AWS's own aws/backup key lets the account's principals use it through AWS Backup: to encrypt
# recovery points, and the grants AWS Backup creates for copies and restores.
VAULT_KEY_USE_ACTIONS = (*KEY_USE_ACTIONS, "kms:CreateGrant")


def copy_vault_name(source_region: str) -> str:
    """The vault in the copy region receiving ``source_region``'s copies."""
    return f"{BACKUP_VAULT_NAME}-copies-from-{source_region}"


def vault_arn(partition: str, region: str, account_id: str, name: str) -> str:
    return f"arn:{partition}:backup:{region}:{account_id}:backup-vault:{name}"


class EncryptedVault(Construct):
    """A vault, its KMS key and the access policy denying deletion. Exposes ``key``, ``vault``, ``policy``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        name: str,
        region: str,
        account_id: str,
        partition: str,
        provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._provider = provider
        self.key: KmsKey = self._build_key(name, region, account_id, partition)
        self.vault: BackupVault = BackupVault(
            self, "vault", name=name, kms_key_arn=self.key.arn, force_destroy=True, provider=provider
        )
        self.policy: BackupVaultPolicy = self._build_policy()

    def _build_key(self, name: str, region: str, account_id: str, partition: str) -> KmsKey:
        document = service_key_policy(
            self,
            "Backup",
            VAULT_KEY_USE_ACTIONS,
            account_id=account_id,
            region=region,
            partition=partition,
            provider=self._provider,
        )
        key, _ = rotating_key(
            self,
            description=f"Encrypts the recovery points of vault {name} (payment platform)",
            alias_name=f"alias/{name}",
            deletion_window_days=VAULT_KEY_DELETION_WINDOW_DAYS,
            policy=document,
            provider=self._provider,
        )
        return key

    def _build_policy(self) -> BackupVaultPolicy:
        document = DataAwsIamPolicyDocument(
            self,
            "access_policy",
            provider=self._provider,
            statement=[
                statement(
                    "NobodyDeletesRecoveryPoints",
                    PROTECTED_ACTIONS,
                    ["*"],  # in a vault access policy: this vault's recovery points
                    effect="Deny",
                    aws_principals=["*"],
                )
            ],
        )
        return BackupVaultPolicy(
            self, "policy", backup_vault_name=self.vault.name, policy=document.json, provider=self._provider
        )


class BackupVaults(Construct):
    """The account's vault in its own region and one copy vault per copy region.

    ``copy_providers``: copy region -> the provider for it. Exposes ``primary: EncryptedVault`` and
    ``copies: dict[str, EncryptedVault]`` by region.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: str,
        account_id: str,
        partition: str,
        copy_providers: Mapping[str, AwsProvider],
    ) -> None:
        super().__init__(scope, construct_id)
        self.primary: EncryptedVault = EncryptedVault(
            self, "primary", name=BACKUP_VAULT_NAME, region=region, account_id=account_id, partition=partition
        )
        self.copies: dict[str, EncryptedVault] = {
            copy_region: EncryptedVault(
                self,
                f"copy_{copy_region.replace('-', '_')}",
                name=copy_vault_name(region),
                region=copy_region,
                account_id=account_id,
                partition=partition,
                provider=provider,
            )
            for copy_region, provider in sorted(copy_providers.items())
        }
