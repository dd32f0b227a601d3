"""The platform's customer-managed KMS key: every store and log group is encrypted with it."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct

from lib.components.policies import condition, statement
from lib.naming import Namer

# Key administration without kms:* so nothing in the stack grants a service-wide wildcard.
KEY_ADMIN_ACTIONS = [
    "kms:Create*",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncrypt*",
    "kms:GenerateDataKey*",
]
KEY_USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]


class PlatformKey(Construct):
    """The CMK and its alias. Built before the PlatformContext (which carries the key), so it
    takes its few inputs directly."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        namer: Namer,
        account_id: str,
        region: str,
        partition: str,
        deletion_window_days: int,
        page_token_key_version: int = 1,
    ) -> None:
        super().__init__(scope, construct_id)
        account_root = f"arn:{partition}:iam::{account_id}:root"
        policy = self._build_policy(account_root, account_id, region, partition)
        description, alias_name = data_key_values(namer)
        self.key, self.alias = rotating_key(
            self,
            description=description,
            alias_name=alias_name,
            deletion_window_days=deletion_window_days,
            policy=policy,
        )
        # Signs and verifies list page tokens (GenerateMac/VerifyMac): the MAC key never leaves
        # KMS. HMAC keys cannot rotate automatically, so keys are versioned: the current one
        # signs, the previous one still verifies the tokens it signed; older ones are deleted.
        mac_policy = self._build_mac_policy(account_root).json
        self.page_token_key: KmsKey = self._mac_key(page_token_key_version, namer, deletion_window_days, mac_policy)
        self.previous_page_token_key: KmsKey | None = (
            self._mac_key(page_token_key_version - 1, namer, deletion_window_days, mac_policy)
            if page_token_key_version > 1
            else None
        )

    def _mac_key(self, version: int, namer: Namer, deletion_window_days: int, policy: str) -> KmsKey:
        # Version 1 keeps the address the unversioned key had: upgrading replaces no key.
        return KmsKey(
            self,
            "page_token_key" if version == 1 else f"page_token_key_v{version}",
            description=f"Payment platform list-token MAC key v{version} ({namer.suffix})",
            customer_master_key_spec="HMAC_256",
            key_usage="GENERATE_VERIFY_MAC",
            deletion_window_in_days=deletion_window_days,
            policy=policy,
        )

    def _build_mac_policy(self, account_root: str) -> DataAwsIamPolicyDocument:
        # The account administers it; the api function's role is granted GenerateMac/VerifyMac
        # in its own identity policy (the account root statement delegates to IAM).
        return DataAwsIamPolicyDocument(
            self,
            "page_token_key_policy",
            statement=[
                statement(
                    "AccountAdministers",
                    [*KEY_ADMIN_ACTIONS[:-4], "kms:GenerateMac", "kms:VerifyMac"],
                    ["*"],
                    aws_principals=[account_root],
                )
            ],
        )

    def _build_policy(
        self, account_root: str, account_id: str, region: str, partition: str
    ) -> DataAwsIamPolicyDocument:
        return data_key_policy(self, "policy", account_id=account_id, region=region, partition=partition)


def rotating_key(
    scope: Construct,
    *,
    description: str,
    alias_name: str,
    deletion_window_days: int,
    policy: DataAwsIamPolicyDocument,
    provider: AwsProvider | None = None,
) -> tuple[KmsKey, KmsAlias]:
    """A symmetric key with yearly rotation under ``policy``, and its alias (ids "key" and "alias"
    in ``scope``): every encryption key of the stacks."""
    key = KmsKey(
        scope,
        "key",
        description=description,
        enable_key_rotation=True,
        deletion_window_in_days=deletion_window_days,
        policy=policy.json,
        provider=provider,
    )
    alias = KmsAlias(scope, "alias", name=alias_name, target_key_id=key.key_id, provider=provider)
    return key, alias


def service_key_policy(
    scope: Construct,
    service: str,
    use_actions: Sequence[str],
    *,
    account_id: str,
    region: str,
    partition: str,
    provider: AwsProvider | None = None,
) -> DataAwsIamPolicyDocument:
    """The policy AWS writes for a service's own managed key (id "key_policy" in ``scope``): the
    account administers the key, and any principal of this account may use it (``use_actions``)
    only through ``service`` ("XRay", "Backup": its endpoint's name, lower-cased) in this region
    (``kms:ViaService`` and ``kms:CallerAccount``)."""
    return DataAwsIamPolicyDocument(
        scope,
        "key_policy",
        provider=provider,
        statement=[
            statement(
                "AccountAdministers",
                KEY_ADMIN_ACTIONS,
                ["*"],  # in a key policy: this key
                aws_principals=[f"arn:{partition}:iam::{account_id}:root"],
            ),
            statement(
                f"UseThrough{service}InThisAccount",
                list(use_actions),
                ["*"],
                any_principal=True,
                conditions=[
                    condition("StringEquals", "kms:CallerAccount", [account_id]),
                    condition("StringEquals", "kms:ViaService", [f"{service.lower()}.{region}.amazonaws.com"]),
                ],
            ),
        ],
    )


def data_key_values(namer: Namer) -> tuple[str, str]:
    """The data key's description and alias name, wherever it is made (here, and in the DR region)."""
    return f"Payment platform data key ({namer.suffix})", f"alias/{namer('payment-platform')}"


def data_key_policy(
    scope: Construct, construct_id: str, *, account_id: str, region: str, partition: str
) -> DataAwsIamPolicyDocument:
    """The data key's policy in ``region``: the platform key's, and the DR key's (the same policy in
    the DR region, so the DR site adopts that key as its own: lib/components/replication.py)."""
    account_root = f"arn:{partition}:iam::{account_id}:root"
    # In a key policy "*" as the resource means "this key".
    return DataAwsIamPolicyDocument(
        scope,
        construct_id,
        statement=[
            statement(
                "AccountAdministers",
                KEY_ADMIN_ACTIONS,
                ["*"],
                aws_principals=[account_root],
            ),
            statement(
                "CloudWatchLogsEncryptsPlatformLogGroups",
                KEY_USE_ACTIONS,
                ["*"],
                service_principals=[f"logs.{region}.amazonaws.com"],
                conditions=[
                    condition(
                        "ArnLike",
                        "kms:EncryptionContext:aws:logs:arn",
                        [f"arn:{partition}:logs:{region}:{account_id}:log-group:*"],
                    )
                ],
            ),
            statement(
                # Alarms publish to the encrypted alarm topic.
                "CloudWatchAlarmsPublishToEncryptedTopic",
                ["kms:Decrypt", "kms:GenerateDataKey*"],
                ["*"],
                service_principals=["cloudwatch.amazonaws.com"],
                conditions=[condition("StringEquals", "aws:SourceAccount", [account_id])],
            ),
        ],
    )
