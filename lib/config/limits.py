"""AWS's documented bounds that the config schema validates against."""

from __future__ import annotations

# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922}
)
# Lambda's documented bounds.
LAMBDA_MEMORY_MB = (128, 10_240)
LAMBDA_TIMEOUT_SECONDS = (1, 900)
# SQS's documented bounds.
SQS_VISIBILITY_TIMEOUT_SECONDS = (0, 43_200)
SQS_RETENTION_SECONDS = (60, 1_209_600)
SQS_MAX_RECEIVE_COUNT = (1, 1_000)
# Lambda's SQS event source mapping (standard queue): messages per batch, batching window.
SQS_LAMBDA_BATCH_SIZE = (1, 10)
SQS_LAMBDA_BATCHING_WINDOW_SECONDS = (0, 300)
# ScalingConfig.MaximumConcurrency of an SQS event source mapping.
SQS_LAMBDA_MAXIMUM_CONCURRENCY = (2, 1_000)
# A throttled batch returns to the queue with its receive count raised, so a queue whose consumer
# can be throttled needs room for retries: AWS's advice for Lambda consumers is at least 5
# (Lambda developer guide, "Using Lambda with Amazon SQS", configuring the queue).
SQS_MIN_MAX_RECEIVE_COUNT_FOR_LAMBDA = 5
# Days a KMS key waits between ScheduleKeyDeletion and deletion.
KMS_DELETION_WINDOW_DAYS = (7, 30)
# S3 refuses STANDARD_IA transitions sooner than this many days after creation.
S3_STANDARD_IA_MIN_DAYS = 30
# Step Functions: a Distributed Map runs at most this many child executions at once; a
# retrier's MaxAttempts is at most this (ASL spec: "MaxAttempts … maximum of 99999999").
SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY = (1, 10_000)
SFN_RETRY_MAX_ATTEMPTS = (0, 99_999_999)
# API Gateway: authorizerResultTtlInSeconds is 0 to 3600.
AUTHORIZER_CACHE_TTL_SECONDS = (0, 3600)
# WAFv2 rate-based statement limit (requests per 5 minutes per aggregation key).
WAF_RATE_LIMIT = (10, 2_000_000_000)
# Step Functions: a standard execution runs at most one year (TimeoutSeconds above it is refused).
SFN_STANDARD_MAX_SECONDS = 31_536_000
# The largest batch file the workflow supports: Plan reads the whole file in one invocation of at
# most 900 s, at the planner's measured 14 MB/s (docs/batch-files.md, "Supported file sizes").
BATCH_MAX_FILE_BYTES = (1, 12_000_000_000)
