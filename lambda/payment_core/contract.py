"""The contract between the stack (``lib/``) and the handlers (``lambda/``): one place, both sides.

Every fact that both sides must agree on lives here and nowhere else: the function names,
the environment variables each function reads, the table index names, the S3 prefixes
(which also scope IAM), and the error names the state machine matches on. The stack imports
it at synth time (``payment_core`` is installed in the project's environment) and builds
names, environments, IAM scopes and the state machine from it; the handlers import it from
their own code asset at run time. Adding a function or a variable is a change here, which
the synth-time checks then enforce on both sides.

It must stay dependency-free (stdlib only): the stack imports it without the layer's packages.
"""

from __future__ import annotations

from typing import Final

# --- Functions ----------------------------------------------------------------------------
# The logical name of each function: its module under ``payment_core.handlers``, its config slice,
# its deployed name's stem (``<name>-<suffix>`` with ``_`` → ``-``) and its output name.
API: Final = "api"
WORKFLOW: Final = "workflow"
BATCH_INGEST: Final = "batch_ingest"
QUEUE_CONSUMER: Final = "queue_consumer"
# Starts the workflow of every new payment from the payments table's stream (the outbox).
WORKFLOW_STARTER: Final = "workflow_starter"
AUTHORIZER: Final = "authorizer"  # the API's Lambda REQUEST authorizer: API key -> merchant
# On a schedule: re-drives payments left non-final past a bound (a start the outbox gave up on,
# an execution that failed on infrastructure), found through OPEN_PAYMENTS_INDEX.
SWEEPER: Final = "sweeper"
FUNCTION_NAMES: Final[tuple[str, ...]] = (
    API,
    WORKFLOW,
    BATCH_INGEST,
    QUEUE_CONSUMER,
    AUTHORIZER,
    WORKFLOW_STARTER,
    SWEEPER,
)

# --- Environment variables ----------------------------------------------------------------
PAYMENTS_TABLE_NAME: Final = "PAYMENTS_TABLE_NAME"
AUDIT_TABLE_NAME: Final = "AUDIT_TABLE_NAME"
BATCH_JOBS_TABLE_NAME: Final = "BATCH_JOBS_TABLE_NAME"
BATCH_CLAIMS_TABLE_NAME: Final = "BATCH_CLAIMS_TABLE_NAME"
BATCH_STATE_MACHINE_ARN: Final = "BATCH_STATE_MACHINE_ARN"
BATCH_RECORDS_PER_CHUNK: Final = "BATCH_RECORDS_PER_CHUNK"
BATCH_TIME_RESERVE_MS: Final = "BATCH_TIME_RESERVE_MS"
PAYMENT_QUEUE_URL: Final = "PAYMENT_QUEUE_URL"
STATUS_TOPIC_ARN: Final = "STATUS_TOPIC_ARN"
STATE_MACHINE_ARN: Final = "STATE_MACHINE_ARN"
MAX_PAYMENT_AMOUNT: Final = "MAX_PAYMENT_AMOUNT"
ALLOWED_CURRENCIES: Final = "ALLOWED_CURRENCIES"
BLOCKED_MERCHANT_IDS: Final = "BLOCKED_MERCHANT_IDS"
MERCHANTS_TABLE_NAME: Final = "MERCHANTS_TABLE_NAME"
# The sweeper: a payment created longer ago than this and still non-final is re-driven.
SWEEP_STALE_AFTER_SECONDS: Final = "SWEEP_STALE_AFTER_SECONDS"
# The HMAC_256 KMS key that signs and verifies list page tokens (payment_core.api.page_tokens).
PAGE_TOKEN_KEY_ID: Final = "PAGE_TOKEN_KEY_ID"

# Powertools reads these itself; the stack sets them on every function.
POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"
POWERTOOLS_ENVIRONMENT: Final[tuple[str, ...]] = (
    POWERTOOLS_SERVICE_NAME,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_LOG_LEVEL,
)

# Exactly the variables each function reads; the stack sets these and no others.
FUNCTION_ENVIRONMENT: Final[dict[str, tuple[str, ...]]] = {
    API: (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        PAGE_TOKEN_KEY_ID,
        *POWERTOOLS_ENVIRONMENT,
    ),
    WORKFLOW: (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        STATUS_TOPIC_ARN,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        BLOCKED_MERCHANT_IDS,
        *POWERTOOLS_ENVIRONMENT,
    ),
    BATCH_INGEST: (
        BATCH_JOBS_TABLE_NAME,
        BATCH_CLAIMS_TABLE_NAME,
        BATCH_STATE_MACHINE_ARN,
        BATCH_RECORDS_PER_CHUNK,
        BATCH_TIME_RESERVE_MS,
        PAYMENT_QUEUE_URL,
        MERCHANTS_TABLE_NAME,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        *POWERTOOLS_ENVIRONMENT,
    ),
    QUEUE_CONSUMER: (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        *POWERTOOLS_ENVIRONMENT,
    ),
    # api and queue_consumer only store payments; the starter alone calls StartExecution.
    WORKFLOW_STARTER: (
        STATE_MACHINE_ARN,
        *POWERTOOLS_ENVIRONMENT,
    ),
    # The payment rules (MAX_PAYMENT_AMOUNT, ALLOWED_CURRENCIES) only where a function checks
    # payments (payment_core.rules): not the authorizer, not the starter.
    AUTHORIZER: (
        MERCHANTS_TABLE_NAME,
        *POWERTOOLS_ENVIRONMENT,
    ),
    SWEEPER: (
        PAYMENTS_TABLE_NAME,
        STATE_MACHINE_ARN,
        SWEEP_STALE_AFTER_SECONDS,
        *POWERTOOLS_ENVIRONMENT,
    ),
}

# --- Tables -------------------------------------------------------------------------------
# Payments GSI: hash merchant_id (S), range created_at (S, ISO-8601 UTC), projection ALL.
MERCHANT_TIME_INDEX: Final = "merchant-created-index"
# Payments GSI, sparse: only non-final payments carry OPEN_SHARD_ATTRIBUTE (written with the
# payment, removed by the same write that makes it SETTLED or FAILED), so the index holds exactly
# the payments still in flight. Hash OPEN_SHARD_ATTRIBUTE (S, "0".."OPEN_SHARDS-1", from the
# payment id, so a burst of new payments spreads over OPEN_SHARDS partitions instead of one),
# range created_at (S, as above); projection KEYS_ONLY plus created_at (the keys): the sweeper
# needs the id and the age, nothing else.
OPEN_PAYMENTS_INDEX: Final = "open-payments-index"
OPEN_SHARD_ATTRIBUTE: Final = "open_shard"
OPEN_SHARDS: Final = 16

# --- S3 batch files -----------------------------------------------------------------------
# Uploads under this prefix trigger ingestion; reports are written under the other. Both
# also scope the functions' S3 grants, so a rename here moves trigger, IAM and code at once.
BATCH_INCOMING_PREFIX: Final = "incoming/"
BATCH_REPORTS_PREFIX: Final = "reports/"
BATCH_FILE_SUFFIX: Final = ".csv"
# The per-file workflow's own objects (chunk descriptors, per-chunk rejections), per job id.
BATCH_WORK_PREFIX: Final = "batch-work/"

# --- Workflow errors ----------------------------------------------------------------------
# Step Functions sees a Lambda error by the exception's class name: these are the names the
# state machine's Retry/Catch clauses match, and the handlers' exception classes carry them.
PAYMENT_REJECTED: Final = "PaymentRejected"
PAYMENT_DECLINED: Final = "PaymentDeclined"
TRANSIENT_PROCESSOR_ERROR: Final = "TransientProcessorError"
# Business outcomes: the only errors that compensate (the payment ends FAILED with this name as
# its reason). A rule breach or a blocked merchant is PaymentRejected, a card decline
# PaymentDeclined, and a processor that still cannot authorize after its own retries is
# TransientProcessorError. Anything else (throttling, timeouts, a failed AWS call) is
# infrastructure: retried, and when retries run out the execution fails (alarmed, redrivable)
# while the payment keeps its last state.
BUSINESS_ERRORS: Final[tuple[str, ...]] = (PAYMENT_REJECTED, PAYMENT_DECLINED, TRANSIENT_PROCESSOR_ERROR)
# Business metrics the workflow function emits (Powertools, the platform's namespace) and the
# dashboard plots: settled payments under this name, each business outcome under its error name.
PAYMENT_SETTLED_METRIC: Final = "PaymentSettled"
# The sweeper's metrics (same namespace): the age of the oldest non-final payment, alarmed.
OLDEST_OPEN_PAYMENT_AGE_METRIC: Final = "OldestOpenPaymentAgeSeconds"

# --- Batch file workflow errors -------------------------------------------------------------
# A chunk that saved its progress and wants another attempt, or whose claims met a concurrent
# writer: the batch state machine retries these on the chunk (payment_core.batch.chunk_ingest,
# payment_core.batch.ledger name their exceptions so). A file that cannot complete fails with
# BATCH_FILE_FAILED (its execution's error, alarmed).
CHUNK_INCOMPLETE: Final = "ChunkIncomplete"
CLAIM_CONTENTION: Final = "ClaimContention"
BATCH_CHUNK_RETRY_ERRORS: Final[tuple[str, ...]] = (CHUNK_INCOMPLETE, CLAIM_CONTENTION)
BATCH_FILE_FAILED: Final = "BatchFileFailed"
