"""The contract between the stack (``lib/``) and the handlers (``lambda/``): one place, both sides.

Every fact that both sides must agree on lives here and nowhere else: the function names,
the environment variables each function reads, the tables' keys and index names, the S3
prefixes (which also scope IAM), the error and step names the state machines use, and the
request limits and header names API Gateway checks before the handlers check them again. The stack imports
it at synth time (``payment_core`` is installed in the project's environment) and builds
names, environments, IAM scopes and the state machine from it; the handlers import it from
their own code asset at run time. Adding a function or a variable is a change here, which
the synth-time checks then enforce on both sides.

It must stay dependency-free (stdlib only): the stack imports it without the layer's packages.
"""

from __future__ import annotations

from dataclasses import dataclass
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
# Writes one event object per transition from the audit table's stream (payment_core.events).
EVENT_WRITER: Final = "event_writer"
# Webhooks: one SQS message per (event, enabled endpoint) from the events table's stream, then
# one delivery attempt per message, retried by the message's visibility (payment_core.webhooks).
WEBHOOK_FANOUT: Final = "webhook_fanout"
WEBHOOK_DELIVERY: Final = "webhook_delivery"
# (FUNCTION_NAMES, all of them in order, is FUNCTION_ENVIRONMENT's keys: below.)
# Every function publishes a version per deploy; everything that invokes one (API integrations
# and authorizer, event source mappings, S3 notifications, schedules) invokes this alias, which
# the deploy points at the new version and `make rollback` points back at the previous one.
LIVE_ALIAS: Final = "live"


def function_base_name(name: str) -> str:
    """The deployed name of the contract's function ``name`` before the environment suffix
    (``payment-<name with dashes>``): the stack names it so, `make rollback` finds it so."""
    return f"payment-{name.replace('_', '-')}"


# --- Environment variables ----------------------------------------------------------------
PAYMENTS_TABLE_NAME: Final = "PAYMENTS_TABLE_NAME"
AUDIT_TABLE_NAME: Final = "AUDIT_TABLE_NAME"
BATCH_JOBS_TABLE_NAME: Final = "BATCH_JOBS_TABLE_NAME"
BATCH_CLAIMS_TABLE_NAME: Final = "BATCH_CLAIMS_TABLE_NAME"
BATCH_STATE_MACHINE_ARN: Final = "BATCH_STATE_MACHINE_ARN"
BATCH_RECORDS_PER_CHUNK: Final = "BATCH_RECORDS_PER_CHUNK"
# Plan refuses a larger file (batch_workflow.max_file_bytes, from which the batch timeout is derived).
BATCH_MAX_FILE_BYTES: Final = "BATCH_MAX_FILE_BYTES"
BATCH_TIME_RESERVE_MS: Final = "BATCH_TIME_RESERVE_MS"
BATCH_RERUN_WINDOW_DAYS: Final = "BATCH_RERUN_WINDOW_DAYS"
PAYMENT_QUEUE_URL: Final = "PAYMENT_QUEUE_URL"
STATUS_TOPIC_ARN: Final = "STATUS_TOPIC_ARN"
STATE_MACHINE_ARN: Final = "STATE_MACHINE_ARN"
MAX_PAYMENT_AMOUNT: Final = "MAX_PAYMENT_AMOUNT"
ALLOWED_CURRENCIES: Final = "ALLOWED_CURRENCIES"
BLOCKED_MERCHANT_IDS: Final = "BLOCKED_MERCHANT_IDS"
MERCHANTS_TABLE_NAME: Final = "MERCHANTS_TABLE_NAME"
# The sweeper: a payment created longer ago than this and still non-final is re-driven.
SWEEP_STALE_AFTER_SECONDS: Final = "SWEEP_STALE_AFTER_SECONDS"
# The processor connector the workflow reaches the card processor through (payment_core.payments.
# connector): one of PROCESSOR_CONNECTORS, chosen per environment (lib/config/processor.py).
PROCESSOR_CONNECTOR: Final = "PROCESSOR_CONNECTOR"
PROCESSOR_SIMULATOR: Final = "simulator"
PROCESSOR_CONNECTORS: Final[tuple[str, ...]] = (PROCESSOR_SIMULATOR,)
# The workflow starter's pace (lib/config/pacing.py): at most one StartExecution per interval per
# invocation; its own retries of a throttled start (full jitter, base doubling to max); no call
# closer to its timeout than the reserve.
START_INTERVAL_MS: Final = "START_INTERVAL_MS"
START_RETRY_BASE_MS: Final = "START_RETRY_BASE_MS"
START_RETRY_MAX_MS: Final = "START_RETRY_MAX_MS"
START_TIME_RESERVE_MS: Final = "START_TIME_RESERVE_MS"
# The start slots (payment_core.payments.admission): a counted semaphore of payment executions in
# flight (at most IN_FLIGHT_LIMIT) and the payments waiting for a slot, in one table.
START_SLOTS_TABLE_NAME: Final = "START_SLOTS_TABLE_NAME"
IN_FLIGHT_LIMIT: Final = "IN_FLIGHT_LIMIT"
# The HMAC_256 KMS key that signs and verifies list page tokens (payment_core.api.page_tokens).
PAGE_TOKEN_KEY_ID: Final = "PAGE_TOKEN_KEY_ID"
# Events: the per-merchant events table, and how many days an event is kept (its TTL).
EVENTS_TABLE_NAME: Final = "EVENTS_TABLE_NAME"
EVENT_RETENTION_DAYS: Final = "EVENT_RETENTION_DAYS"
# Webhook endpoints: the KMS key their signing secrets are encrypted under (the platform key), and
# how long a rotated-out secret keeps signing beside the new one (webhooks.secret_overlap_seconds).
WEBHOOK_SECRET_KEY_ID: Final = "WEBHOOK_SECRET_KEY_ID"
WEBHOOK_SECRET_OVERLAP_SECONDS: Final = "WEBHOOK_SECRET_OVERLAP_SECONDS"
# The delivery queue (one message per event and endpoint) and its retry schedule (lib/config/webhooks.py).
WEBHOOK_QUEUE_URL: Final = "WEBHOOK_QUEUE_URL"
WEBHOOK_HORIZON_SECONDS: Final = "WEBHOOK_HORIZON_SECONDS"
WEBHOOK_BACKOFF_BASE_SECONDS: Final = "WEBHOOK_BACKOFF_BASE_SECONDS"
WEBHOOK_BACKOFF_CAP_SECONDS: Final = "WEBHOOK_BACKOFF_CAP_SECONDS"

# --- Page-token MAC key rotation (payment_core.api.page_tokens.KeyRing; lib/components/keys.py) ---
# PAGE_TOKEN_KEY_ID is the current key, which signs; tokens name the version of the key that
# signed them. The previous version's key only verifies ("" while the current is version 1).
PAGE_TOKEN_KEY_VERSION: Final = "PAGE_TOKEN_KEY_VERSION"
PAGE_TOKEN_PREVIOUS_KEY_ID: Final = "PAGE_TOKEN_PREVIOUS_KEY_ID"
# --- end page-token MAC key rotation ---

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
        EVENTS_TABLE_NAME,
        PAGE_TOKEN_KEY_VERSION,
        PAGE_TOKEN_PREVIOUS_KEY_ID,
        WEBHOOK_SECRET_KEY_ID,
        WEBHOOK_SECRET_OVERLAP_SECONDS,
        *POWERTOOLS_ENVIRONMENT,
    ),
    WORKFLOW: (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        STATUS_TOPIC_ARN,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        BLOCKED_MERCHANT_IDS,
        # Validate re-checks the merchant's status: disabled after acceptance, the payment fails.
        MERCHANTS_TABLE_NAME,
        PROCESSOR_CONNECTOR,
        # Notify and AwaitCapture free the payment's start slot and start the next one waiting.
        STATE_MACHINE_ARN,
        START_SLOTS_TABLE_NAME,
        IN_FLIGHT_LIMIT,
        *POWERTOOLS_ENVIRONMENT,
    ),
    BATCH_INGEST: (
        BATCH_JOBS_TABLE_NAME,
        BATCH_CLAIMS_TABLE_NAME,
        BATCH_STATE_MACHINE_ARN,
        BATCH_RECORDS_PER_CHUNK,
        BATCH_MAX_FILE_BYTES,
        BATCH_TIME_RESERVE_MS,
        BATCH_RERUN_WINDOW_DAYS,
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
    # The payment rules (MAX_PAYMENT_AMOUNT, ALLOWED_CURRENCIES) only where a function checks
    # payments (payment_core.rules): not the authorizer, not the starter.
    AUTHORIZER: (
        MERCHANTS_TABLE_NAME,
        *POWERTOOLS_ENVIRONMENT,
    ),
    # api and queue_consumer only store payments; the starter alone calls StartExecution.
    WORKFLOW_STARTER: (
        STATE_MACHINE_ARN,
        START_INTERVAL_MS,
        START_RETRY_BASE_MS,
        START_RETRY_MAX_MS,
        START_TIME_RESERVE_MS,
        START_SLOTS_TABLE_NAME,
        IN_FLIGHT_LIMIT,
        *POWERTOOLS_ENVIRONMENT,
    ),
    SWEEPER: (
        PAYMENTS_TABLE_NAME,
        STATE_MACHINE_ARN,
        SWEEP_STALE_AFTER_SECONDS,
        START_SLOTS_TABLE_NAME,
        IN_FLIGHT_LIMIT,
        *POWERTOOLS_ENVIRONMENT,
    ),
    EVENT_WRITER: (
        EVENTS_TABLE_NAME,
        EVENT_RETENTION_DAYS,
        *POWERTOOLS_ENVIRONMENT,
    ),
    WEBHOOK_FANOUT: (
        EVENTS_TABLE_NAME,
        WEBHOOK_QUEUE_URL,
        *POWERTOOLS_ENVIRONMENT,
    ),
    # Disabling an endpoint appends its transition to the audit table (the event writer's source).
    WEBHOOK_DELIVERY: (
        EVENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        WEBHOOK_QUEUE_URL,
        WEBHOOK_SECRET_KEY_ID,
        WEBHOOK_HORIZON_SECONDS,
        WEBHOOK_BACKOFF_BASE_SECONDS,
        WEBHOOK_BACKOFF_CAP_SECONDS,
        *POWERTOOLS_ENVIRONMENT,
    ),
}
# Every function, in the order the stack builds them and the dashboard shows them: the keys above
# (a function is added once, with the variables it reads).
FUNCTION_NAMES: Final[tuple[str, ...]] = tuple(FUNCTION_ENVIRONMENT)

# --- Credentials --------------------------------------------------------------------------
# Merchants authenticate with ``<CREDENTIAL_HEADER>: Bearer sk_...`` (payment_core.tenancy.
# secret_keys): the authorizer reads it and API Gateway takes it as the authorizer's identity
# source (a request without it is answered 401 before any Lambda runs).
CREDENTIAL_HEADER: Final = "Authorization"

# --- Tables -------------------------------------------------------------------------------
# Payments GSI: keys MERCHANT_TIME_INDEX_KEY below. Keys only: a listing reads the items from
# the table (BatchGetItem), so the index holds no attribute a status change rewrites.
MERCHANT_TIME_INDEX: Final = "merchant-created-index"
MERCHANT_TIME_INDEX_PROJECTION: Final = "KEYS_ONLY"
# Payments GSI, sparse: only non-final payments and PENDING refunds carry OPEN_SHARD_ATTRIBUTE
# (written with the item, removed by the same write that makes it final), so the index holds
# exactly the payments and refunds still in flight. Hash OPEN_SHARD_ATTRIBUTE (S, "0".."OPEN_SHARDS-1", from the
# payment id, so a burst of new payments spreads over OPEN_SHARDS partitions instead of one),
# range created_at (ISO-8601 UTC): OPEN_PAYMENTS_INDEX_KEY below. Keys only: the sweeper needs
# the id and the age, nothing else.
OPEN_PAYMENTS_INDEX: Final = "open-payments-index"
OPEN_SHARD_ATTRIBUTE: Final = "open_shard"
OPEN_SHARDS: Final = 16
OPEN_PAYMENTS_INDEX_PROJECTION: Final = "KEYS_ONLY"

# Batch claims table: the TTL attribute (epoch seconds) after which a claim has expired. The
# stack enables TTL on it; the ledger writes it (claimed_at + the re-run window) and treats an
# expired claim as absent until TTL deletes it.
BATCH_CLAIM_EXPIRES_AT: Final = "expires_at"

# Events: the TTL attribute (epoch seconds: created + events.retention_days); the events' shape
# version; ids ``evt_<created, compact UTC>_<20 hex>``, derived from the audit record (a redelivery
# rewrites nothing) and sorting by time within a merchant (the table's range key).
EVENT_EXPIRES_AT: Final = "expires_at"

# Start slots: the TTL attribute (epoch seconds) of a payment's admission marker, after which no
# stream record of it can come again (payment_core.payments.admission.MARKER_LIFETIME).
START_SLOTS_EXPIRES_AT: Final = "expires_at"
EVENTS_API_VERSION: Final = "2026-12-01"
EVENT_ID_PATTERN: Final = "^evt_[0-9]{8}T[0-9]{9}Z_[0-9a-f]{20}$"
# Webhook endpoints are items of the events table too, under their merchant (one partition per
# merchant holds its events and its endpoints): the range key is the endpoint id, whose prefix
# sorts outside every event query's ``evt_`` range and is what tells the fan-out a new endpoint from an event.
WEBHOOK_ENDPOINT_ID_PREFIX: Final = "we_"
WEBHOOK_ENDPOINT_ID_PATTERN: Final = "^we_[0-9a-f]{24}$"
# A signing secret: shown once (creation, rotation), stored only as KMS ciphertext.
WEBHOOK_SECRET_PREFIX: Final = "whsec_"
WEBHOOK_SECRET_PATTERN: Final = "^whsec_[0-9a-f]{64}$"
MAX_WEBHOOK_ENDPOINTS: Final = 16  # per merchant: each event is one message per endpoint
MAX_WEBHOOK_URL_LENGTH: Final = 2048
WEBHOOK_ALL_EVENTS: Final = "*"
# One delivery attempt's socket timeout (connect, TLS, each read), and 2xx is success.
WEBHOOK_DELIVERY_TIMEOUT_SECONDS: Final = 10
# The audit table's key of an endpoint's own transitions (``endpoint.disabled``): ``#`` is outside
# PAYMENT_ID_PATTERN, so it can never meet a payment's audit trail.
WEBHOOK_ENDPOINT_AUDIT_PREFIX: Final = "webhook_endpoint#"
# Counted by webhook_delivery each time an endpoint is disabled past the horizon (alarmed).
WEBHOOK_ENDPOINT_DISABLED_METRIC: Final = "WebhookEndpointDisabled"

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

# --- Workflow steps -----------------------------------------------------------------------
# The payment workflow's tasks send ``{"step": <name>, "payment_id": ...}`` to the workflow
# function: lib/components/workflow.py builds the state machine's tasks from these names and
# payment_core.handlers.workflow dispatches on them.
STEP_VALIDATE: Final = "validate"
STEP_PROCESS: Final = "process"
STEP_RECORD: Final = "record"
STEP_NOTIFY: Final = "notify"
STEP_COMPENSATE: Final = "compensate"
# Manual capture: AwaitCapture stores the execution's task token on the payment and waits (its
# TimeoutSeconds is the authorization window); Release captures or voids as the merchant asked;
# Expire voids an authorization whose window ran out (or carries out an ask whose wake-up was lost).
STEP_AWAIT_CAPTURE: Final = "await_capture"
STEP_RELEASE: Final = "release"
STEP_EXPIRE: Final = "expire"
# Refunds run in the same state machine (payment_core.payments.refunds): an execution named after a
# refund id (REFUND_ID_PREFIX) branches to Refund (the processor call, SUCCEEDED), RefundFail (a
# business outcome: FAILED, the reservation released) and RefundNotify (the status topic).
STEP_REFUND: Final = "refund"
STEP_REFUND_FAIL: Final = "refund_fail"
STEP_REFUND_NOTIFY: Final = "refund_notify"
WORKFLOW_STEPS: Final[tuple[str, ...]] = (
    STEP_VALIDATE,
    STEP_PROCESS,
    STEP_RECORD,
    STEP_NOTIFY,
    STEP_COMPENSATE,
    STEP_AWAIT_CAPTURE,
    STEP_RELEASE,
    STEP_EXPIRE,
    STEP_REFUND,
    STEP_REFUND_FAIL,
    STEP_REFUND_NOTIFY,
)
# How a payment is captured: at once after authorization (the default), or when the merchant
# calls POST /payments/{id}/capture within the authorization window (else it is voided by itself).
CAPTURE_AUTOMATIC: Final = "automatic"
CAPTURE_MANUAL: Final = "manual"
CAPTURE_METHODS: Final[tuple[str, ...]] = (CAPTURE_AUTOMATIC, CAPTURE_MANUAL)
# What the merchant asked of a manual payment, recorded on it before the execution is woken.
ACTION_CAPTURE: Final = "capture"
ACTION_VOID: Final = "void"

# The batch-file workflow's tasks send ``{"step": <name>, "file": ...}`` to batch_ingest
# (lib/batch_file_definition.py builds them; payment_core.batch.workflow.run_step dispatches).
BATCH_STEP_PLAN: Final = "plan"
BATCH_STEP_CHUNK: Final = "chunk"
BATCH_STEP_FINISH: Final = "finish"
BATCH_STEP_FAIL: Final = "fail"
BATCH_FILE_STEPS: Final[tuple[str, ...]] = (BATCH_STEP_PLAN, BATCH_STEP_CHUNK, BATCH_STEP_FINISH, BATCH_STEP_FAIL)

# --- Requests -----------------------------------------------------------------------------
# What API Gateway checks at the edge (the request model, the required header) and the
# handlers check again with exact messages: one set of limits, so the two cannot drift.
IDEMPOTENCY_KEY_HEADER: Final = "Idempotency-Key"
MAX_IDEMPOTENCY_KEY_LENGTH: Final = 255
# 1-255 visible ASCII characters (``!``..``~``), what the handler checks.
IDEMPOTENCY_KEY_PATTERN: Final = "^[!-~]+$"
# A list route's page (GET /payments, GET /events: ``limit``).
DEFAULT_PAGE_SIZE: Final = 20
MAX_PAGE_SIZE: Final = 100
# The header a webhook delivery is signed in (payment_core.events.signature; merchants verify it).
WEBHOOK_SIGNATURE_HEADER: Final = "Tap-Signature"
# Merchant and payment ids (payment ids double as Step Functions execution names).
ID_PATTERN: Final = "^[A-Za-z0-9_-]{1,64}$"
MERCHANT_ID_PATTERN: Final = ID_PATTERN
PAYMENT_ID_PATTERN: Final = ID_PATTERN
CURRENCY_PATTERN: Final = "^[A-Z]{3}$"
# An amount is a decimal string: at most this many integer digits, and at most as many decimal
# places as the currency has minor units (3 at most, the edge's bound; the handler's is exact).
AMOUNT_MAX_INTEGER_DIGITS: Final = 15
AMOUNT_MAX_DECIMAL_PLACES: Final = 3
AMOUNT_PATTERN: Final = f"^[0-9]{{1,{AMOUNT_MAX_INTEGER_DIGITS}}}(\\.[0-9]{{1,{AMOUNT_MAX_DECIMAL_PLACES}}})?$"
MAX_CUSTOMER_REF_LENGTH: Final = 128
MAX_DESCRIPTION_LENGTH: Final = 255
# The routes a merchant calls on one payment, beyond create, read and list (API Gateway resources
# under /payments/{payment_id}; the api function's resolver routes).
CAPTURE_PATH_PART: Final = "capture"
VOID_PATH_PART: Final = "void"
# Errors a manual payment's capture or void answers (409, payment_core.api.errors).
NOT_CAPTURABLE: Final = "not_capturable"
REQUEST_CONFLICT: Final = "request_conflict"
# Refunds: POST /payments/{payment_id}/refunds, GET /payments/{payment_id}/refunds/{refund_id}. A
# refund's id starts with REFUND_ID_PREFIX (no payment id may: batch rows are refused with one), which
# is how the workflow's first Choice tells a refund's execution from a payment's.
REFUNDS_PATH_PART: Final = "refunds"
REFUND_ID_PREFIX: Final = "re_"
MAX_REFUND_REASON_LENGTH: Final = 255
# A payment holds at most this many refunds (their ids are listed on the payment item).
MAX_REFUNDS_PER_PAYMENT: Final = 50
# Errors a refund request answers (409): the payment is not captured (not SETTLED: before capture,
# voided, expired, failed); the amount exceeds what is left (captured - pending - succeeded
# refunds); the payment already holds MAX_REFUNDS_PER_PAYMENT refunds.
NOT_REFUNDABLE: Final = "not_refundable"
REFUND_EXCEEDS_CAPTURED: Final = "refund_exceeds_captured"
TOO_MANY_REFUNDS: Final = "too_many_refunds"


# --- API versions -------------------------------------------------------------------------
# A merchant pins the API's behaviour by sending this header with a dated version; without it a
# request gets the merchant's default (pinned on its record at onboarding, changed with
# ops/merchant.py), else the latest. Every answer names the version it was served with. A breaking
# change ships as a new dated version appended here (docs/api.md, "Versions").
API_VERSION_HEADER: Final = "Payment-Platform-Version"
API_VERSIONS: Final[tuple[str, ...]] = ("2026-12-01",)
LATEST_API_VERSION: Final = API_VERSIONS[-1]
# The authorizer context entry that hands the merchant's default version to the api function.
MERCHANT_API_VERSION_CONTEXT: Final = "api_version"


# --- Table keys ---------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyAttribute:
    """One attribute of a table's (or an index's) primary key."""

    name: str
    type: str  # DynamoDB's attribute type: "S" or "N"


@dataclass(frozen=True)
class KeySchema:
    """A table's (or an index's) primary key: what the stack declares and the handlers read and write."""

    hash_key: KeyAttribute
    range_key: KeyAttribute | None = None

    @property
    def attributes(self) -> tuple[KeyAttribute, ...]:
        return (self.hash_key,) if self.range_key is None else (self.hash_key, self.range_key)

    @property
    def range_key_name(self) -> str | None:
        return None if self.range_key is None else self.range_key.name


PAYMENTS_TABLE_KEY: Final = KeySchema(KeyAttribute("payment_id", "S"))
AUDIT_TABLE_KEY: Final = KeySchema(KeyAttribute("payment_id", "S"), KeyAttribute("sequence", "N"))
BATCH_JOBS_TABLE_KEY: Final = KeySchema(KeyAttribute("job_id", "S"))
BATCH_CLAIMS_TABLE_KEY: Final = KeySchema(KeyAttribute("payment_id", "S"))
MERCHANTS_TABLE_KEY: Final = KeySchema(KeyAttribute("pk", "S"))
# The start slots: the semaphore item (slot_key IN_FLIGHT), one item per waiting payment
# (slot_key WAITING, slot_sort <waiting since>#<payment id>: oldest first) and one admission
# marker per payment (slot_key ADMITTED#<payment id>, slot_sort "-": a partition each).
START_SLOTS_TABLE_KEY: Final = KeySchema(KeyAttribute("slot_key", "S"), KeyAttribute("slot_sort", "S"))
# Events, per merchant: the range key is the event id, which starts with its creation time, so
# a merchant's events by time are one Query and one event is one GetItem (no index).
EVENTS_TABLE_KEY: Final = KeySchema(KeyAttribute("merchant_id", "S"), KeyAttribute("event_id", "S"))
# Payments GSI (MERCHANT_TIME_INDEX): created_at is ISO-8601 UTC, so it sorts by time.
MERCHANT_TIME_INDEX_KEY: Final = KeySchema(KeyAttribute("merchant_id", "S"), KeyAttribute("created_at", "S"))
# Payments GSI (OPEN_PAYMENTS_INDEX), sparse: the shard only non-final payments carry, then their age.
OPEN_PAYMENTS_INDEX_KEY: Final = KeySchema(KeyAttribute(OPEN_SHARD_ATTRIBUTE, "S"), KeyAttribute("created_at", "S"))
# Each table's key, by the variable that names the table.
TABLE_KEYS: Final[dict[str, KeySchema]] = {
    PAYMENTS_TABLE_NAME: PAYMENTS_TABLE_KEY,
    AUDIT_TABLE_NAME: AUDIT_TABLE_KEY,
    BATCH_JOBS_TABLE_NAME: BATCH_JOBS_TABLE_KEY,
    BATCH_CLAIMS_TABLE_NAME: BATCH_CLAIMS_TABLE_KEY,
    MERCHANTS_TABLE_NAME: MERCHANTS_TABLE_KEY,
    EVENTS_TABLE_NAME: EVENTS_TABLE_KEY,
    START_SLOTS_TABLE_NAME: START_SLOTS_TABLE_KEY,
}
# Each table's name before the environment suffix (``<stem>-<suffix>``), by its logical name: how
# the stack names it (lib/components/storage.py) and how `make restore TABLE=<logical>` finds it.
TABLE_STEMS: Final[dict[str, str]] = {
    "payments": "payments",
    "audit": "payment-audit",
    "batch_jobs": "batch-jobs",
    "batch_claims": "batch-payment-claims",
    "merchants": "merchants",
    "events": "payment-events",
}

# --- Secret-key shape (payment_core.tenancy.secret_keys; the WAF rule of lib/components/edge.py) ---
SECRET_KEY_PREFIX: Final = "sk_"
SECRET_KEY_RANDOM_LENGTH: Final = 48
# The whole credential header value the authorizer accepts, as a WAF regex (PCRE subset: no
# inline flags, so the RFC 7235 case-insensitive scheme is spelt with classes): WAF blocks any
# request whose header does not match (or is missing) before it costs an authorizer run.
CREDENTIAL_HEADER_PATTERN: Final = (
    "^[Bb][Ee][Aa][Rr][Ee][Rr] " + SECRET_KEY_PREFIX + "[A-Za-z0-9]{" + str(SECRET_KEY_RANDOM_LENGTH) + "}$"
)
# --- end secret-key shape ---
