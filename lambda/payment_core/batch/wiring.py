"""The batch-file steps' dependencies, wired once from clients and table names.

The ``batch_ingest`` handler, its tests, the emulator's batch tests and the batch-map benchmark
all build the same graph (jobs, claims ledger, merchant directory, plan and chunk settings):
one function keeps them from drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from payment_core.batch.jobs import BatchFiles, WorkLayout
from payment_core.batch.ledger import BatchLedger
from payment_core.batch.workflow import BatchFileDeps, ChunkClients, ChunkSettings, PlanSettings
from payment_core.rules import BusinessRules
from payment_core.tenancy.merchants import MerchantDirectory

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient


@dataclass(frozen=True)
class BatchTables:
    """The tables the steps use: the files' jobs, the rows' claims, the merchants."""

    jobs: str
    claims: str
    merchants: str


def wire_batch_file_deps(
    *,
    dynamodb: DynamoDBClient,
    s3: S3Client,
    sqs: SQSClient,
    tables: BatchTables,
    rules: BusinessRules,
    records_per_chunk: int,
    max_file_bytes: int,
    queue_url: str,
    reserve_ms: int,
    layout: WorkLayout,
    rerun_window: timedelta,
) -> BatchFileDeps:
    """The steps' dependencies on these clients and tables, as the handler and its tests build them."""
    return BatchFileDeps(
        s3=s3,
        files=BatchFiles(dynamodb, tables.jobs),
        # Each row's merchant must be active (the authorizer's table; looked up once per chunk).
        chunk_clients=ChunkClients(
            s3,
            sqs,
            BatchLedger(dynamodb, tables.jobs, tables.claims, rerun_window=rerun_window),
            MerchantDirectory(dynamodb, tables.merchants),
        ),
        rules=rules,
        plan=PlanSettings(records_per_chunk, layout, max_file_bytes),
        chunk=ChunkSettings(queue_url, layout, reserve_ms),
    )
