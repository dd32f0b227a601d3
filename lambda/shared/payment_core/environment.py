"""The contract between the stack and the handlers: environment variable names.

This module is the single place both sides read. ``lib/`` loads it by file path at
synth time to set each function's environment; the handlers import it from the
shared layer at run time. It must stay dependency-free (stdlib only).
"""

from __future__ import annotations

from typing import Final

PAYMENTS_TABLE_NAME: Final = "PAYMENTS_TABLE_NAME"
AUDIT_TABLE_NAME: Final = "AUDIT_TABLE_NAME"
IDEMPOTENCY_TABLE_NAME: Final = "IDEMPOTENCY_TABLE_NAME"
BATCH_JOBS_TABLE_NAME: Final = "BATCH_JOBS_TABLE_NAME"
PAYMENT_QUEUE_URL: Final = "PAYMENT_QUEUE_URL"
STATUS_TOPIC_ARN: Final = "STATUS_TOPIC_ARN"
STATE_MACHINE_ARN: Final = "STATE_MACHINE_ARN"
MAX_PAYMENT_AMOUNT: Final = "MAX_PAYMENT_AMOUNT"
ALLOWED_CURRENCIES: Final = "ALLOWED_CURRENCIES"
BLOCKED_MERCHANT_IDS: Final = "BLOCKED_MERCHANT_IDS"
IDEMPOTENCY_TTL_SECONDS: Final = "IDEMPOTENCY_TTL_SECONDS"

# Powertools reads these itself; the stack sets them on every function.
POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"

_POWERTOOLS: Final = (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL)

# Exactly the variables each function reads; the stack sets these and no others.
FUNCTION_ENVIRONMENT: Final[dict[str, tuple[str, ...]]] = {
    "api": (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        IDEMPOTENCY_TABLE_NAME,
        IDEMPOTENCY_TTL_SECONDS,
        STATE_MACHINE_ARN,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        *_POWERTOOLS,
    ),
    "workflow": (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        STATUS_TOPIC_ARN,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        BLOCKED_MERCHANT_IDS,
        *_POWERTOOLS,
    ),
    "batch_ingest": (
        BATCH_JOBS_TABLE_NAME,
        PAYMENT_QUEUE_URL,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        *_POWERTOOLS,
    ),
    "queue_consumer": (
        PAYMENTS_TABLE_NAME,
        AUDIT_TABLE_NAME,
        STATE_MACHINE_ARN,
        MAX_PAYMENT_AMOUNT,
        ALLOWED_CURRENCIES,
        *_POWERTOOLS,
    ),
}
