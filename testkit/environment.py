"""The handlers' environment under test and benchmark: one dict, its names from the contract."""

from __future__ import annotations

from typing import Final

from payment_core import contract

REGION: Final = "us-east-1"
ACCOUNT_ID: Final = "123456789012"  # moto's default account

TABLES: Final = {
    contract.PAYMENTS_TABLE_NAME: "payments-test",
    contract.AUDIT_TABLE_NAME: "payment-audit-test",
    contract.BATCH_JOBS_TABLE_NAME: "batch-jobs-test",
    contract.BATCH_CLAIMS_TABLE_NAME: "batch-claims-test",
    contract.MERCHANTS_TABLE_NAME: "merchants-test",
    contract.EVENTS_TABLE_NAME: "payment-events-test",
    contract.START_SLOTS_TABLE_NAME: "payment-start-slots-test",
}

AWS_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
}

# Every variable a handler reads except the ones naming resources an account creates
# (queue URL, topic and state machine ARNs: ``Account.handler_environment`` adds those).
HANDLER_ENVIRONMENT: Final = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    **AWS_CREDENTIALS,
    "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon here
    contract.POWERTOOLS_SERVICE_NAME: "payment-platform-test",
    contract.POWERTOOLS_METRICS_NAMESPACE: "PaymentPlatformTest",
    contract.POWERTOOLS_LOG_LEVEL: "WARNING",
    contract.MAX_PAYMENT_AMOUNT: "EUR=10000.00,GBP=10000.00,JPY=10000,USD=10000.00",
    contract.ALLOWED_CURRENCIES: "USD,EUR,GBP,JPY",
    contract.BLOCKED_MERCHANT_IDS: "merchant-blocked,merchant-banned",
    # Small chunks, so a few rows already make several: the chunking is exercised everywhere.
    contract.BATCH_RECORDS_PER_CHUNK: "3",
    contract.BATCH_MAX_FILE_BYTES: "1000000000",
    contract.BATCH_TIME_RESERVE_MS: "1000",
    contract.BATCH_RERUN_WINDOW_DAYS: "90",
    contract.SWEEP_STALE_AFTER_SECONDS: "960",
    contract.EVENT_RETENTION_DAYS: "30",
    contract.WEBHOOK_SECRET_OVERLAP_SECONDS: "3600",
    # A short horizon, as a test configuration may have: 2 minutes, retries from 5 s to 40 s.
    contract.WEBHOOK_HORIZON_SECONDS: "120",
    contract.WEBHOOK_BACKOFF_BASE_SECONDS: "5",
    contract.WEBHOOK_BACKOFF_CAP_SECONDS: "40",
    # The page-token MAC key as first deployed: version 1, no previous key (the key: Account).
    contract.PAGE_TOKEN_KEY_VERSION: "1",
    contract.PAGE_TOKEN_PREVIOUS_KEY_ID: "",
    contract.PROCESSOR_CONNECTOR: contract.PROCESSOR_SIMULATOR,
    # The starter unpaced in effect (1 ms apart) and quick to give a throttled start back.
    contract.START_INTERVAL_MS: "1",
    contract.START_RETRY_BASE_MS: "1",
    contract.START_RETRY_MAX_MS: "5",
    contract.START_TIME_RESERVE_MS: "1000",
    # Enough start slots for any handler test; tests/lambda/test_admission.py sets its own.
    contract.IN_FLIGHT_LIMIT: "1000",
    **TABLES,
}

# Variables that would send boto3 somewhere other than the emulator chosen.
UNSET_ENVIRONMENT: Final = ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")
