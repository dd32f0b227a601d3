"""The environment's copy in its DR region (``disaster_recovery.dr_region``), and its adoption there.

Primary site (``RegionalCopy``), through the stack's second provider (alias ``dr``):

* the DR key: a customer-managed key in the DR region with the data key's policy for that region
  and the data key's alias, i.e. exactly the key the stack's ``PlatformKey`` would create there;
* the replicated tables (payments, audit, merchants, events) as global-table replicas encrypted
  with it, with point-in-time recovery;
* the batch bucket replicated by S3 Replication into a versioned bucket there, named as the DR
  site names its batch bucket, encrypted with the DR key; the replication role's grants are exact.

DR site (``adopt_regional_copy``): the same stack deployed with ``AWS_REGION=<dr_region>`` creates
neither; it adopts them with Terraform ``import`` blocks (the key, its alias, the four tables, the
bucket and its settings), so its first apply takes over the data instead of failing on names that
exist; its tables ignore their ``replica`` set, which names the (lost) primary region.
See docs/disaster-recovery.md for the RPO, RTO and the runbook.
"""

from __future__ import annotations

from cdktf import TerraformDataSource, TerraformResource, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.data_aws_kms_alias import DataAwsKmsAlias
from cdktf_cdktf_provider_aws.dynamodb_table import DynamodbTable, DynamodbTableReplica
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from cdktf_cdktf_provider_aws.kms_alias import KmsAlias
from cdktf_cdktf_provider_aws.kms_key import KmsKey
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_replication_configuration import (
    S3BucketReplicationConfigurationA,
    S3BucketReplicationConfigurationRule,
    S3BucketReplicationConfigurationRuleDeleteMarkerReplication,
    S3BucketReplicationConfigurationRuleDestination,
    S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration,
    S3BucketReplicationConfigurationRuleDestinationMetrics,
    S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold,
    S3BucketReplicationConfigurationRuleDestinationReplicationTime,
    S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime,
    S3BucketReplicationConfigurationRuleFilter,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteria,
    S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects,
)
from constructs import Construct

from lib.components.alarm_sources import AlarmSources, WatchedReplication
from lib.components.buckets import private_bucket
from lib.components.context import PlatformContext
from lib.components.keys import PlatformKey, data_key_policy, data_key_values, rotating_key
from lib.components.policies import condition, service_trust, statement
from lib.components.storage import Storage, batch_lifecycle
from lib.config import BatchBucketConfig, DisasterRecoveryConfig
from lib.naming import DR_SITE, Namer

S3_PRINCIPAL = "s3.amazonaws.com"
# S3 RTC's only threshold: replication within 15 minutes, and the metrics' event after 15 (S3 user
# guide, "Meeting compliance requirements with S3 Replication Time Control").
RTC_MINUTES = 15
REPLICATION_RULE_ID = "copy-to-dr-region"
# The resources private_bucket makes, by construct id suffix: the DR site imports each by bucket name.
BUCKET_PARTS = ("", "_ownership", "_public_access", "_encryption", "_versioning", "_lifecycle", "_policy")
# What S3 Replication does with the role (S3 user guide, "Setting up permissions for live replication"):
# read the source's configuration and object versions, write the replicas.
SOURCE_BUCKET_ACTIONS = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
SOURCE_OBJECT_ACTIONS = ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"]
REPLICA_OBJECT_ACTIONS = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]


def replicated_tables(storage: Storage) -> list[DynamodbTable]:
    """The tables the DR site needs to take over: payments and their audit trail, the merchants and
    their keys, the merchants' events. Batch jobs and claims are working state of files in flight:
    such a file is re-submitted from the replicated bucket (docs/disaster-recovery.md)."""
    return [storage.payments_table, storage.audit_table, storage.merchants_table, storage.events_table]


class RegionalCopy(Construct):
    """The primary site's copy in the DR region. Exposes ``key``, ``alias``, ``bucket``,
    ``replication_role`` and ``replication``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        recovery: DisasterRecoveryConfig,
        bucket_settings: BatchBucketConfig,
        deletion_window_days: int,
        storage: Storage,
        provider: AwsProvider,
    ) -> None:
        super().__init__(scope, construct_id)
        assert recovery.dr_region is not None, "a RegionalCopy needs a DR region"
        self._context, self._region, self._provider = context, recovery.dr_region, provider
        self._recovery, self._storage = recovery, storage
        self.key, self.alias = self._build_key(deletion_window_days)
        self._build_table_replicas()
        self.bucket: S3Bucket = self._build_bucket(bucket_settings)
        self.replication_role: IamRole = self._build_replication_role()
        self.replication: S3BucketReplicationConfigurationA = self._build_replication()

    def _build_key(self, deletion_window_days: int) -> tuple[KmsKey, KmsAlias]:
        context = self._context
        policy = data_key_policy(
            self, "keys_policy", account_id=context.account_id, region=self._region, partition=context.partition
        )
        description, alias_name = data_key_values(context.namer)
        return rotating_key(
            self,
            description=description,
            alias_name=alias_name,
            deletion_window_days=deletion_window_days,
            policy=policy,
            provider=self._provider,
        )

    def _build_table_replicas(self) -> None:
        for table in replicated_tables(self._storage):
            table.put_replica(
                [
                    DynamodbTableReplica(
                        region_name=self._region,
                        kms_key_arn=self.key.arn,
                        point_in_time_recovery=True,
                        propagate_tags=True,
                    )
                ]
            )

    def _build_bucket(self, settings: BatchBucketConfig) -> S3Bucket:
        # Named as the DR site names its batch bucket, which adopts this one.
        name = self._context.namer.at_site(DR_SITE).account_wide(f"payment-batch-{self._context.account_id}")
        site = Construct(self, "bucket_site")
        bucket = private_bucket(
            site, "bucket", name, key=self.key, versioning=True, lifecycle=batch_lifecycle(settings)
        )
        # Every part of that bucket lives in the DR region.
        for part in site.node.find_all():
            if isinstance(part, TerraformResource | TerraformDataSource):
                part.provider = self._provider
        return bucket

    def _build_replication_role(self) -> IamRole:
        context = self._context
        source, replica = self._storage.batch_bucket.arn, self.bucket.arn
        role = IamRole(
            self,
            "replication_role",
            name=context.namer.account_wide("payment-batch-replication-role"),
            assume_role_policy=service_trust(self, "replication_assume_role", S3_PRINCIPAL).json,
        )
        # The objects are SSE-KMS with S3 Bucket Keys: S3 uses each key through S3 in its region, and
        # the encryption context is the bucket's ARN (object ARNs without bucket keys): both allowed.
        document = DataAwsIamPolicyDocument(
            self,
            "replication_policy_document",
            statement=[
                statement("ReadReplicationConfiguration", SOURCE_BUCKET_ACTIONS, [source]),
                statement("ReadSourceVersions", SOURCE_OBJECT_ACTIONS, [f"{source}/*"]),
                statement("WriteReplicas", REPLICA_OBJECT_ACTIONS, [f"{replica}/*"]),
                statement(
                    "DecryptSourceObjects",
                    ["kms:Decrypt"],
                    [context.key.arn],
                    conditions=[
                        condition("StringEquals", "kms:ViaService", [f"s3.{context.region}.amazonaws.com"]),
                        condition("StringLike", "kms:EncryptionContext:aws:s3:arn", [source, f"{source}/*"]),
                    ],
                ),
                statement(
                    "EncryptReplicas",
                    ["kms:Encrypt", "kms:GenerateDataKey"],
                    [self.key.arn],
                    conditions=[
                        condition("StringEquals", "kms:ViaService", [f"s3.{self._region}.amazonaws.com"]),
                        condition("StringLike", "kms:EncryptionContext:aws:s3:arn", [replica, f"{replica}/*"]),
                    ],
                ),
            ],
        )
        IamRolePolicy(
            self,
            "replication_policy",
            name=context.namer.account_wide("payment-batch-replication-policy"),
            role=role.id,
            policy=document.json,
        )
        return role

    def _build_replication(self) -> S3BucketReplicationConfigurationA:
        rtc = self._recovery.bucket_replication_time_control
        source_versioning = self._storage.node.find_child("batch_bucket_versioning")
        return S3BucketReplicationConfigurationA(
            self,
            "replication",
            bucket=self._storage.batch_bucket.id,
            role=self.replication_role.arn,
            rule=[
                S3BucketReplicationConfigurationRule(
                    id=REPLICATION_RULE_ID,
                    status="Enabled",
                    filter=S3BucketReplicationConfigurationRuleFilter(prefix=""),
                    # A delete in the primary (a mistake, or its lifecycle) never deletes the copy;
                    # the copy ages out by its own lifecycle, the same as the primary's.
                    delete_marker_replication=S3BucketReplicationConfigurationRuleDeleteMarkerReplication(
                        status="Disabled"
                    ),
                    source_selection_criteria=S3BucketReplicationConfigurationRuleSourceSelectionCriteria(
                        sse_kms_encrypted_objects=S3BucketReplicationConfigurationRuleSourceSelectionCriteriaSseKmsEncryptedObjects(
                            status="Enabled"
                        )
                    ),
                    destination=S3BucketReplicationConfigurationRuleDestination(
                        bucket=self.bucket.arn,
                        storage_class="STANDARD",
                        encryption_configuration=S3BucketReplicationConfigurationRuleDestinationEncryptionConfiguration(
                            replica_kms_key_id=self.key.arn
                        ),
                        metrics=S3BucketReplicationConfigurationRuleDestinationMetrics(
                            status="Enabled",
                            event_threshold=S3BucketReplicationConfigurationRuleDestinationMetricsEventThreshold(
                                minutes=RTC_MINUTES
                            ),
                        )
                        if rtc
                        else None,
                        replication_time=S3BucketReplicationConfigurationRuleDestinationReplicationTime(
                            status="Enabled",
                            time=S3BucketReplicationConfigurationRuleDestinationReplicationTimeTime(
                                minutes=RTC_MINUTES
                            ),
                        )
                        if rtc
                        else None,
                    ),
                )
            ],
            # S3 refuses a replication configuration on a bucket whose versioning is not enabled yet.
            depends_on=[source_versioning] if isinstance(source_versioning, TerraformResource) else None,
        )

    def alarm_sources(self) -> AlarmSources:
        """The replication's latency, alarmed where S3 publishes it: with RTC's metrics on."""
        if not self._recovery.bucket_replication_time_control:
            return AlarmSources()
        watched = WatchedReplication(
            alarm_name="payment-batch-replication-latency",
            source=self._storage.batch_bucket,
            destination=self.bucket,
            rule_id=REPLICATION_RULE_ID,
            threshold_seconds=RTC_MINUTES * 60,
        )
        return AlarmSources(replications=(watched,))


def adopt_regional_copy(scope: Construct, *, namer: Namer, keys: PlatformKey, storage: Storage) -> None:
    """The DR site's stack takes over what the primary left in its region: Terraform ``import``
    blocks for the key and its alias, the replicated tables and the batch bucket with its settings.
    An import of what the state already holds does nothing, so every later apply is a normal one."""
    _, alias_name = data_key_values(namer)
    existing = DataAwsKmsAlias(scope, "dr_key_alias", name=alias_name)
    keys.key.import_from(existing.target_key_id)
    keys.alias.import_from(alias_name)
    for table in replicated_tables(storage):
        assert table.name_input, "a replicated table is named"
        table.import_from(table.name_input)
        # The global table still lists the primary region; removing it from here would ask
        # DynamoDB to delete that replica: the set is the operator's (the runbook), not this stack's.
        table.lifecycle = TerraformResourceLifecycle(ignore_changes=["replica"])
    bucket_name = storage.batch_bucket.bucket_input
    assert bucket_name, "the batch bucket is named"
    for part in BUCKET_PARTS:
        resource = storage.node.find_child(f"batch_bucket{part}")
        assert isinstance(resource, TerraformResource), f"batch_bucket{part} is not a resource"
        resource.import_from(bucket_name)
