"""AWS Backup recovery points: an on-demand backup job of a DynamoDB table, kept in its vault and
guarded by the vault's access policy.

moto 5.2.5 (``moto/backup/responses.py``) has no ``StartBackupJob``, ``DescribeBackupJob``,
``DescribeRecoveryPoint`` nor ``DeleteRecoveryPoint``: a vault never holds a recovery point, so
neither "destroying an environment leaves its recovery points" nor "the vault's policy denies
deleting them" (lib/components/backup_vaults.py) can be shown locally.

Evidence (AWS Backup API reference and developer guide):

* ``StartBackupJob`` (``PUT /backup-jobs``) "Starts an on-demand backup job for the specified
  resource"; ``BackupVaultName``, ``ResourceArn`` and ``IamRoleArn`` are required; the answer has
  ``BackupJobId``, ``RecoveryPointArn``, ``CreationDate``. For DynamoDB without advanced features the
  recovery point is the table's DynamoDB backup ("AWS Backup resource ARNs":
  ``arn:aws:dynamodb:region:account:table/name/backup/...``), which outlives the table.
* "Vault access policies": "Assigning policies allows you to [...] limit their ability to delete
  recovery points after they're created"; the example ``Deny`` of ``backup:DeleteRecoveryPoint`` for
  ``Principal: "*"``, ``Resource: "*"``; "AWS Backup access policies don't support a wildcard in the
  ``Action`` key". A refused call is ``AccessDeniedException`` (HTTP 403, the API's common error) with
  the message format of the IAM User Guide ("Troubleshoot access denied error messages"): ``User: ...
  is not authorized to perform: <action> on resource: <arn> with an explicit deny in a resource-based
  policy``.
* ``DeleteBackupVault``: "A vault can be deleted only if it is empty"; refused with
  ``InvalidRequestException``.

The patch runs a backup job at once (``COMPLETED``): it takes the DynamoDB backup through moto's own
backend and records the recovery point in the vault. ``DeleteRecoveryPoint`` judges the vault's
policy: a ``Deny`` statement naming the action (exactly, case-insensitive) for any principal (``*``)
on ``*`` or the recovery point denies it. Never kinder: a ``Deny`` with a ``Condition`` denies as if
its condition held (the emulator evaluates no condition keys here). Messages the references do not
give are the emulator's (README).
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any
from urllib.parse import unquote

from localcloud.patches import backup_vault_policy

JOBS_PATH = "{0}/backup-jobs$"
JOB_PATH = "{0}/backup-jobs/(?P<job>[^/]+)$"
RECOVERY_POINT_PATH = "{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/(?P<arn>.+)$"
DELETE_ACTION = "backup:DeleteRecoveryPoint"

# (account, region, vault name) -> recovery point ARN -> its description; job id -> the job.
RECOVERY_POINTS: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
JOBS: dict[str, dict[str, Any]] = {}


def denied_by(policy: str | None, action: str, resource: str) -> bool:
    """Whether a vault access policy has a ``Deny`` of ``action`` on ``resource`` for every principal."""
    if policy is None:
        return False
    statements = json.loads(policy).get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        principal = statement.get("Principal")
        everyone = principal == "*" or (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"]))
        if (
            statement.get("Effect") == "Deny"
            and everyone
            and action.lower() in {a.lower() for a in actions}
            and ("*" in resources or resource in resources)
        ):
            return True
    return False


def apply() -> None:
    from moto.backup.exceptions import ResourceNotFoundException
    from moto.backup.models import BackupBackend
    from moto.core.exceptions import JsonRESTError
    from moto.dynamodb.models import dynamodb_backends

    class AccessDeniedException(JsonRESTError):
        code = 403

        def __init__(self, message: str) -> None:
            super().__init__("AccessDeniedException", message)

    class InvalidRequestException(JsonRESTError):
        code = 400

        def __init__(self, message: str) -> None:
            super().__init__("InvalidRequestException", message)

    def points(self: Any, vault_name: str) -> dict[str, dict[str, Any]]:
        return RECOVERY_POINTS.setdefault((self.current_account, self.region, vault_name), {})

    def start_backup_job(self: Any) -> str:
        body = json.loads(self.body or "{}")
        vault = backup_vault_policy.existing_vault(self, body["BackupVaultName"])
        resource_arn = str(body["ResourceArn"])
        if ":dynamodb:" not in resource_arn or ":table/" not in resource_arn:
            raise InvalidRequestException(f"localcloud backs up DynamoDB tables only, not {resource_arn}")
        table = resource_arn.split(":table/", 1)[1]
        dynamodb = dynamodb_backends[self.current_account][self.region]
        backup = dynamodb.create_backup(table, f"awsbackup-{uuid.uuid4().hex[:12]}")
        now = datetime.datetime.now(tz=datetime.UTC).timestamp()
        job_id = str(uuid.uuid4()).upper()
        point = {
            "RecoveryPointArn": backup.arn,
            "BackupVaultName": vault.backup_vault_name,
            "BackupVaultArn": vault.backup_vault_arn,
            "ResourceArn": resource_arn,
            "ResourceType": "DynamoDB",
            "ResourceName": table,
            "IamRoleArn": body["IamRoleArn"],
            "Status": "COMPLETED",
            "CreationDate": now,
            "CompletionDate": now,
            "CreatedBy": {},
        }
        points(self, vault.backup_vault_name)[backup.arn] = point
        JOBS[job_id] = {**point, "BackupJobId": job_id, "State": "COMPLETED", "AccountId": self.current_account}
        return json.dumps({"BackupJobId": job_id, "RecoveryPointArn": backup.arn, "CreationDate": now})

    def describe_backup_job(self: Any) -> str:
        job_id = unquote(self.path.split("?")[0].rstrip("/").split("/")[-1])
        if job_id not in JOBS:
            raise ResourceNotFoundException(f"Backup job {job_id} not found")
        job = {k: v for k, v in JOBS[job_id].items() if k not in ("Status", "CreatedBy")}
        return json.dumps(job)

    def recovery_point(self: Any) -> tuple[Any, str, dict[str, dict[str, Any]]]:
        path = self.path.split("?")[0]
        vault_part, arn = path.split("/recovery-points/", 1)
        vault = backup_vault_policy.existing_vault(self, unquote(vault_part.rstrip("/").split("/")[-1]))
        arn = unquote(arn)
        held = points(self, vault.backup_vault_name)
        if arn not in held:
            raise ResourceNotFoundException(f"Recovery point {arn} not found in {vault.backup_vault_name}")
        return vault, arn, held

    def describe_recovery_point(self: Any) -> str:
        _, arn, held = recovery_point(self)
        return json.dumps(held[arn])

    def delete_recovery_point(self: Any) -> str:
        vault, arn, held = recovery_point(self)
        policy = backup_vault_policy.POLICIES.get((self.current_account, self.region, vault.backup_vault_name))
        if denied_by(policy, DELETE_ACTION, arn):
            raise AccessDeniedException(
                f"User: arn:aws:iam::{self.current_account}:root is not authorized to perform: {DELETE_ACTION} "
                f"on resource: {arn} with an explicit deny in a resource-based policy"
            )
        del held[arn]
        dynamodb_backends[self.current_account][self.region].delete_backup(arn)
        return "{}"

    def list_recovery_points_by_backup_vault(self: Any) -> str:
        vault = backup_vault_policy.vault_in_path(self, "recovery-points")
        return json.dumps({"RecoveryPoints": list(points(self, vault.backup_vault_name).values())})

    delete_vault = BackupBackend.delete_backup_vault

    def delete_backup_vault(self: BackupBackend, backup_vault_name: str) -> None:
        if RECOVERY_POINTS.get((self.account_id, self.region_name, backup_vault_name)):
            raise InvalidRequestException(
                f"Backup vault {backup_vault_name} cannot be deleted: it holds recovery points"
            )
        delete_vault(self, backup_vault_name)

    backup_vault_policy.serve(
        (JOBS_PATH, JOB_PATH, RECOVERY_POINT_PATH),
        start_backup_job,
        describe_backup_job,
        describe_recovery_point,
        delete_recovery_point,
        list_recovery_points_by_backup_vault,
    )
    backend: Any = BackupBackend
    backend.delete_backup_vault = delete_backup_vault
