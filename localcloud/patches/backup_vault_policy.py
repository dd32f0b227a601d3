"""AWS Backup vault access policies and a vault's recovery point listing.

moto 5.2.5 creates, describes and deletes vaults but has neither ``PutBackupVaultAccessPolicy``,
``GetBackupVaultAccessPolicy`` and ``DeleteBackupVaultAccessPolicy`` (the account stack's
``aws_backup_vault_policy``, lib/components/backup_vaults.py) nor
``ListRecoveryPointsByBackupVault`` (what the provider's ``force_destroy`` lists before it deletes
a vault), so ``TapAccount`` could be neither applied nor destroyed on the emulator. The patch adds
the four on AWS Backup's own paths (botocore's backup model), per account and region.

As strict as AWS where AWS documents a refusal: every call on a vault that does not exist is
``ResourceNotFoundException``; a policy must be a JSON policy document (an object with a
``Statement``), else ``InvalidParameterValueException``; ``GetBackupVaultAccessPolicy`` on a vault
with no policy is ``ResourceNotFoundException`` (AWS answers so; the provider's read treats it as
"policy gone"); deleting a vault drops its policy. moto runs no backup job, so a vault holds no
recovery point and the listing is empty (``NumberOfRecoveryPoints`` is 0 in moto's own describe).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

POLICY_PATH = "{0}/backup-vaults/(?P<name>[^/]+)/access-policy$"
RECOVERY_POINTS_PATH = "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$"

# (account, region, vault name) -> the policy document as given.
POLICIES: dict[tuple[str, str, str], str] = {}


def _vault_name(path: str, suffix: str) -> str:
    from urllib.parse import unquote

    return unquote(path.split("?")[0].rstrip("/").removesuffix(suffix).rstrip("/").split("/")[-1])


def existing_vault(response: Any, name: str) -> Any:
    """The vault ``name`` in the caller's account and region, else the refusal AWS gives."""
    from moto.backup.exceptions import ResourceNotFoundException

    vaults = response.backup_backend.vaults
    if name not in vaults:
        raise ResourceNotFoundException(f"Backup vault {name} not found")
    return vaults[name]


def vault_in_path(response: Any, suffix: str) -> Any:
    """The existing vault named in the request's path, before ``suffix``."""
    return existing_vault(response, _vault_name(response.path, suffix))


def serve(paths: Iterable[str], *operations: Callable[..., str]) -> None:
    """Route ``paths`` to moto's Backup dispatcher, which answers each operation with the
    ``BackupResponse`` method of its snake_case name: the function of that name here."""
    from moto.backup import urls
    from moto.backup.responses import BackupResponse

    for path in paths:
        urls.url_paths.setdefault(path, BackupResponse.dispatch)
    for operation in operations:
        setattr(BackupResponse, operation.__name__, operation)


def validate_policy(policy: Any) -> str:
    """``policy`` if it is a JSON policy document, else the refusal AWS gives."""
    from moto.backup.exceptions import InvalidParameterValueException

    try:
        document = json.loads(policy) if isinstance(policy, str) else None
    except json.JSONDecodeError:
        document = None
    if not isinstance(document, dict) or "Statement" not in document:
        raise InvalidParameterValueException("Policy must be a JSON policy document with a Statement")
    return str(policy)


def apply() -> None:
    from moto.backup.exceptions import ResourceNotFoundException
    from moto.backup.models import BackupBackend

    def put_backup_vault_access_policy(self: Any) -> str:
        vault = vault_in_path(self, "access-policy")
        policy = validate_policy(json.loads(self.body or "{}").get("Policy"))
        POLICIES[(self.current_account, self.region, vault.backup_vault_name)] = policy
        return "{}"

    def get_backup_vault_access_policy(self: Any) -> str:
        vault = vault_in_path(self, "access-policy")
        policy = POLICIES.get((self.current_account, self.region, vault.backup_vault_name))
        if policy is None:
            raise ResourceNotFoundException(f"Backup vault {vault.backup_vault_name} has no access policy")
        return json.dumps(
            {"BackupVaultName": vault.backup_vault_name, "BackupVaultArn": vault.backup_vault_arn, "Policy": policy}
        )

    def delete_backup_vault_access_policy(self: Any) -> str:
        vault = vault_in_path(self, "access-policy")
        POLICIES.pop((self.current_account, self.region, vault.backup_vault_name), None)
        return "{}"

    def list_recovery_points_by_backup_vault(self: Any) -> str:
        vault_in_path(self, "recovery-points")
        return json.dumps({"RecoveryPoints": []})

    original_delete = BackupBackend.delete_backup_vault

    def delete_backup_vault(self: BackupBackend, backup_vault_name: str) -> None:
        if backup_vault_name not in self.vaults:
            raise ResourceNotFoundException(f"Backup vault {backup_vault_name} not found")
        original_delete(self, backup_vault_name)
        POLICIES.pop((self.account_id, self.region_name, backup_vault_name), None)

    serve(
        (POLICY_PATH, RECOVERY_POINTS_PATH),
        put_backup_vault_access_policy,
        get_backup_vault_access_policy,
        delete_backup_vault_access_policy,
        list_recovery_points_by_backup_vault,
    )
    backend: Any = BackupBackend
    backend.delete_backup_vault = delete_backup_vault
