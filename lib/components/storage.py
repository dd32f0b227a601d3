"""Durable state: the payments, audit, idempotency and batch-jobs tables, and the batch bucket."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocument
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from cdktf_cdktf_provider_aws.s3_bucket_versioning import (
    S3BucketVersioningA,
    S3BucketVersioningVersioningConfiguration,
)
from constructs import Construct
from payment_core import contract

from lib.components.context import PlatformContext
from lib.components.policies import condition, statement
from lib.config import BatchBucketConfig, TableConfig


class Storage(Construct):
    """Exposes ``payments_table``, ``audit_table``, ``batch_jobs_table``,
    ``batch_claims_table``, ``batch_bucket`` and ``merchant_time_index`` (the GSI name handlers query)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: PlatformContext,
        tables: TableConfig,
        bucket: BatchBucketConfig,
    ) -> None:
        super().__init__(scope, construct_id)
        self._tables = tables
        self._bucket = bucket
        self._namer = context.namer
        self._key = context.key
        self.merchant_time_index: str = contract.MERCHANT_TIME_INDEX
        self.payments_table: DynamodbTable = self._build_payments_table()
        self.audit_table: DynamodbTable = self._build_table(
            "audit_table",
            "payment-audit",
            attributes=[("payment_id", "S"), ("sequence", "N")],
            hash_key="payment_id",
            range_key="sequence",
        )
        self.batch_jobs_table: DynamodbTable = self._build_table(
            "batch_jobs_table", "batch-jobs", attributes=[("job_id", "S")], hash_key="job_id"
        )
        # One claim per payment id queued from a batch file: what makes a row queued once
        # across chunks, re-runs and files (docs/batch-files.md).
        self.batch_claims_table: DynamodbTable = self._build_table(
            "batch_claims_table", "batch-payment-claims", attributes=[("payment_id", "S")], hash_key="payment_id"
        )
        # Merchants and the SHA-256 of their API keys (payment_core/tenancy/merchants.py): data written
        # by `make merchant`, read by the authorizer and the batch chunk workers.
        self.merchants_table: DynamodbTable = self._build_table(
            "merchants_table", "merchants", attributes=[("pk", "S")], hash_key="pk"
        )
        self.batch_bucket: S3Bucket = self._build_batch_bucket(context.account_id)

    @property
    def environment(self) -> dict[str, str]:
        """The contract's variable naming each table (each function gets those it reads)."""
        return {
            contract.PAYMENTS_TABLE_NAME: self.payments_table.name,
            contract.AUDIT_TABLE_NAME: self.audit_table.name,
            contract.BATCH_JOBS_TABLE_NAME: self.batch_jobs_table.name,
            contract.BATCH_CLAIMS_TABLE_NAME: self.batch_claims_table.name,
            contract.MERCHANTS_TABLE_NAME: self.merchants_table.name,
        }

    def _capacity(self) -> tuple[int | None, int | None]:
        """(read, write) capacity of a provisioned table and its indexes; on demand, neither."""
        tables = self._tables
        if tables.billing_mode == "PROVISIONED":
            return tables.read_capacity, tables.write_capacity
        return None, None

    def _build_table(
        self,
        construct_id: str,
        name: str,
        *,
        attributes: Sequence[tuple[str, str]],
        hash_key: str,
        range_key: str | None = None,
        indexes: Sequence[DynamodbTableGlobalSecondaryIndex] = (),
        stream_view_type: str | None = None,
    ) -> DynamodbTable:
        read_capacity, write_capacity = self._capacity()
        return DynamodbTable(
            self,
            construct_id,
            name=self._namer(name),
            billing_mode=self._tables.billing_mode,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
            hash_key=hash_key,
            range_key=range_key,
            attribute=[DynamodbTableAttribute(name=n, type=t) for n, t in attributes],
            global_secondary_index=list(indexes) or None,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self._key.arn),
            stream_enabled=True if stream_view_type else None,
            stream_view_type=stream_view_type,
            deletion_protection_enabled=False,
        )

    def _build_payments_table(self) -> DynamodbTable:
        # Time-range listings are per merchant: partitioning by merchant spreads writes,
        # while a timestamp hash key would make every range query a scan.
        read_capacity, write_capacity = self._capacity()
        by_merchant_and_time = DynamodbTableGlobalSecondaryIndex(
            name=self.merchant_time_index,
            hash_key="merchant_id",
            range_key="created_at",
            projection_type="ALL",
            read_capacity=read_capacity,
            write_capacity=write_capacity,
        )
        # Sparse: only non-final payments carry the shard attribute (contract.OPEN_PAYMENTS_INDEX),
        # so the sweeper finds the payments still in flight without scanning the settled ones.
        open_payments = DynamodbTableGlobalSecondaryIndex(
            name=contract.OPEN_PAYMENTS_INDEX,
            hash_key=contract.OPEN_SHARD_ATTRIBUTE,
            range_key="created_at",
            projection_type="KEYS_ONLY",
            read_capacity=read_capacity,
            write_capacity=write_capacity,
        )
        return self._build_table(
            "payments_table",
            "payments",
            attributes=[
                ("payment_id", "S"),
                ("merchant_id", "S"),
                ("created_at", "S"),
                (contract.OPEN_SHARD_ATTRIBUTE, "S"),
            ],
            hash_key="payment_id",
            indexes=[by_merchant_and_time, open_payments],
            # The transactional outbox: every new payment's INSERT record starts its workflow
            # (lib/components/outbox.py). Keys only: the starter needs the id, nothing else.
            stream_view_type="KEYS_ONLY",
        )

    def _build_batch_bucket(self, account_id: str) -> S3Bucket:
        bucket = S3Bucket(
            self,
            "batch_bucket",
            bucket=self._namer(f"payment-batch-{account_id}"),
            force_destroy=True,
        )
        S3BucketOwnershipControls(
            self,
            "batch_bucket_ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership="BucketOwnerEnforced"),
        )
        S3BucketPublicAccessBlock(
            self,
            "batch_bucket_public_access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
        )
        S3BucketServerSideEncryptionConfigurationA(
            self,
            "batch_bucket_encryption",
            bucket=bucket.id,
            rule=[
                S3BucketServerSideEncryptionConfigurationRuleA(
                    apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                        sse_algorithm="aws:kms", kms_master_key_id=self._key.arn
                    ),
                    bucket_key_enabled=True,
                )
            ],
        )
        S3BucketVersioningA(
            self,
            "batch_bucket_versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(
                status="Enabled" if self._bucket.versioning else "Suspended"
            ),
        )
        self._build_lifecycle(bucket)
        self._build_tls_only_policy(bucket)
        return bucket

    def _build_lifecycle(self, bucket: S3Bucket) -> None:
        settings = self._bucket
        S3BucketLifecycleConfiguration(
            self,
            "batch_bucket_lifecycle",
            bucket=bucket.id,
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="age-out-batch-files",
                    status="Enabled",
                    filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                    transition=[
                        S3BucketLifecycleConfigurationRuleTransition(
                            days=settings.transition_to_ia_days, storage_class="STANDARD_IA"
                        )
                    ],
                    expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=settings.expiration_days)],
                    noncurrent_version_expiration=[
                        S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(
                            noncurrent_days=settings.noncurrent_version_expiration_days
                        )
                    ],
                    abort_incomplete_multipart_upload=[
                        S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                    ],
                )
            ],
        )

    def _build_tls_only_policy(self, bucket: S3Bucket) -> None:
        document = DataAwsIamPolicyDocument(
            self,
            "batch_bucket_policy_document",
            statement=[
                statement(
                    "DenyInsecureTransport",
                    ["s3:*"],
                    [bucket.arn, f"{bucket.arn}/*"],
                    effect="Deny",
                    any_principal=True,
                    conditions=[condition("Bool", "aws:SecureTransport", ["false"])],
                )
            ],
        )
        S3BucketPolicy(self, "batch_bucket_policy", bucket=bucket.id, policy=document.json)
