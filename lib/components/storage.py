"""Durable state: the payments, audit, idempotency and batch-jobs tables, and the batch bucket."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTableGlobalSecondaryIndex,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
    S3BucketLifecycleConfigurationRuleTransition,
)
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedTable
from lib.components.buckets import private_bucket
from lib.components.context import PlatformContext
from lib.config import BatchBucketConfig, TableConfig
from lib.config.disaster_recovery import REPLICA_STREAM_VIEW_TYPE


class Storage(Construct):
    """Exposes ``payments_table``, ``audit_table``, ``batch_jobs_table``, ``batch_claims_table``,
    ``events_table``, ``batch_bucket`` and ``merchant_time_index`` (the GSI name handlers query)."""

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
        # name before the suffix -> (table, its indexes' names): what the throttle alarms watch.
        self._tables_by_stem: dict[str, tuple[DynamodbTable, list[str]]] = {}
        self._bucket = bucket
        self._namer = context.namer
        self._key = context.key
        self.merchant_time_index: str = contract.MERCHANT_TIME_INDEX
        self.payments_table: DynamodbTable = self._build_payments_table()
        # Append-only; its stream (each entry with the payment after the transition) feeds the
        # merchants' events (lib/components/events.py). New and old images: it is replicated.
        self.audit_table: DynamodbTable = self._build_table(
            "audit_table", "payment-audit", contract.AUDIT_TABLE_KEY, stream_view_type=REPLICA_STREAM_VIEW_TYPE
        )
        self.batch_jobs_table: DynamodbTable = self._build_table(
            "batch_jobs_table", "batch-jobs", contract.BATCH_JOBS_TABLE_KEY
        )
        # One claim per payment id queued from a batch file: what makes a row queued once
        # across chunks, re-runs and files (docs/batch-files.md).
        self.batch_claims_table: DynamodbTable = self._build_table(
            "batch_claims_table",
            "batch-payment-claims",
            contract.BATCH_CLAIMS_TABLE_KEY,
            # A claim expires after the re-run window (the ledger writes the attribute).
            ttl_attribute=contract.BATCH_CLAIM_EXPIRES_AT,
        )
        # Merchants and the SHA-256 of their API keys (payment_core/tenancy/merchants.py): data written
        # by `make merchant`, read by the authorizer and the batch chunk workers.
        self.merchants_table: DynamodbTable = self._build_table(
            "merchants_table", "merchants", contract.MERCHANTS_TABLE_KEY, stream_view_type=REPLICA_STREAM_VIEW_TYPE
        )
        # Events per merchant (payment_core/events), deleted by TTL after events.retention_days.
        self.events_table: DynamodbTable = self._build_table(
            "events_table",
            "payment-events",
            contract.EVENTS_TABLE_KEY,
            ttl_attribute=contract.EVENT_EXPIRES_AT,
            stream_view_type=REPLICA_STREAM_VIEW_TYPE,
        )
        self.batch_bucket: S3Bucket = self._build_batch_bucket(context.account_id)

    def alarm_sources(self) -> AlarmSources:
        """Every table and index, for its throttled reads and writes."""
        return AlarmSources(
            tables=tuple(
                WatchedTable(stem, table, tuple(indexes)) for stem, (table, indexes) in self._tables_by_stem.items()
            )
        )

    @property
    def environment(self) -> dict[str, str]:
        """The contract's variable naming each table (each function gets those it reads)."""
        return {
            contract.PAYMENTS_TABLE_NAME: self.payments_table.name,
            contract.AUDIT_TABLE_NAME: self.audit_table.name,
            contract.BATCH_JOBS_TABLE_NAME: self.batch_jobs_table.name,
            contract.BATCH_CLAIMS_TABLE_NAME: self.batch_claims_table.name,
            contract.MERCHANTS_TABLE_NAME: self.merchants_table.name,
            contract.EVENTS_TABLE_NAME: self.events_table.name,
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
        key: contract.KeySchema,
        *,
        index_keys: Sequence[contract.KeySchema] = (),
        indexes: Sequence[DynamodbTableGlobalSecondaryIndex] = (),
        stream_view_type: str | None = None,
        ttl_attribute: str | None = None,
    ) -> DynamodbTable:
        read_capacity, write_capacity = self._capacity()
        table = DynamodbTable(
            self,
            construct_id,
            name=self._namer(name),
            billing_mode=self._tables.billing_mode,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
            hash_key=key.hash_key.name,
            range_key=key.range_key_name,
            # Every key attribute of the table and its indexes, once each (DynamoDB refuses others).
            attribute=[
                DynamodbTableAttribute(name=name, type=kind)
                for name, kind in dict.fromkeys(
                    (each.name, each.type) for schema in (key, *index_keys) for each in schema.attributes
                )
            ],
            global_secondary_index=list(indexes) or None,
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self._key.arn),
            stream_enabled=True if stream_view_type else None,
            stream_view_type=stream_view_type,
            deletion_protection_enabled=False,
            ttl=DynamodbTableTtl(attribute_name=ttl_attribute, enabled=True) if ttl_attribute else None,
        )
        self._tables_by_stem[name] = (table, [index.name for index in indexes])
        return table

    def _index(self, name: str, key: contract.KeySchema, projection_type: str) -> DynamodbTableGlobalSecondaryIndex:
        read_capacity, write_capacity = self._capacity()
        return DynamodbTableGlobalSecondaryIndex(
            hash_key=key.hash_key.name,
            range_key=key.range_key_name,
            name=name,
            projection_type=projection_type,
            read_capacity=read_capacity,
            write_capacity=write_capacity,
        )

    def _build_payments_table(self) -> DynamodbTable:
        # Time-range listings are per merchant: partitioning by merchant spreads writes,
        # while a timestamp hash key would make every range query a scan.
        # Keys only: a listing reads the items from the table (BatchGetItem), so a status change,
        # which rewrites the item, writes nothing to the index (an index write happens only when a
        # key or projected attribute changes): one merchant's burst of transitions no longer
        # doubles its writes onto the index's one partition key.
        by_merchant_and_time = self._index(
            self.merchant_time_index, contract.MERCHANT_TIME_INDEX_KEY, contract.MERCHANT_TIME_INDEX_PROJECTION
        )
        # Sparse: only non-final payments carry the shard attribute (contract.OPEN_PAYMENTS_INDEX),
        # so the sweeper finds the payments still in flight without scanning the settled ones.
        open_payments = self._index(
            contract.OPEN_PAYMENTS_INDEX, contract.OPEN_PAYMENTS_INDEX_KEY, contract.OPEN_PAYMENTS_INDEX_PROJECTION
        )
        return self._build_table(
            "payments_table",
            "payments",
            contract.PAYMENTS_TABLE_KEY,
            index_keys=[contract.MERCHANT_TIME_INDEX_KEY, contract.OPEN_PAYMENTS_INDEX_KEY],
            indexes=[by_merchant_and_time, open_payments],
            # The transactional outbox: every new payment's INSERT record starts its workflow
            # (lib/components/outbox.py; it reads the keys). New and old images, not keys only: the
            # replicated tables stream what a global table needs, in every environment alike
            # (lib/config/disaster_recovery.py), so dev and staging run prod's stream records.
            stream_view_type=REPLICA_STREAM_VIEW_TYPE,
        )

    def _build_batch_bucket(self, account_id: str) -> S3Bucket:
        return private_bucket(
            self,
            "batch_bucket",
            self._namer.account_wide(f"payment-batch-{account_id}"),
            key=self._key,
            versioning=self._bucket.versioning,
            lifecycle=batch_lifecycle(self._bucket),
        )


def batch_lifecycle(settings: BatchBucketConfig) -> S3BucketLifecycleConfigurationRule:
    """How batch files age: the batch bucket's rule, and its DR copy's (lib/components/replication.py)."""
    return S3BucketLifecycleConfigurationRule(
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
