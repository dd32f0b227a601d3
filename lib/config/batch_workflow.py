"""The per-file batch workflow's slice of the config: chunking, parallelism and retries."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.config.checks import Slice, require, within
from lib.config.limits import BATCH_MAX_FILE_BYTES, SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY, SFN_RETRY_MAX_ATTEMPTS

# Bytes of the shortest CSV row seen in practice (the measured 500,000-row file is 21.8 MB, 44 a
# row): more rows per byte means more chunks, so the derived timeout stays an upper bound.
MIN_ROW_BYTES = 40


@dataclass(frozen=True)
class BatchWorkflowConfig(Slice):
    """The per-file batch workflow (docs/batch-files.md): chunking, parallelism and retries."""

    # CSV records per map item, i.e. per chunk invocation: it must read, validate and claim
    # them well within the batch_ingest timeout (500 take well under a second).
    records_per_chunk: int = field(metadata=within((1, 10_000)))
    # Chunk invocations at once (the Distributed Map's MaxConcurrency).
    max_concurrency: int = field(metadata=within(SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY))
    # Retry of a failed step or chunk: interval * backoff_rate^n, capped, with full jitter.
    retry_interval_seconds: int
    retry_backoff_rate: float
    retry_max_delay_seconds: int
    retry_max_attempts: int = field(metadata=within(SFN_RETRY_MAX_ATTEMPTS))
    # A chunk that saved its progress (ChunkIncomplete) or met a concurrent claim is retried
    # up to this many times: each attempt moves it forward.
    chunk_progress_attempts: int = field(metadata=within(SFN_RETRY_MAX_ATTEMPTS))
    # A chunk stops sending when less than this remains of its invocation's time.
    time_reserve_ms: int
    # The largest file this deployment takes: bounds the execution's TimeoutSeconds
    # (execution_timeout_seconds), so a stuck file times out and its alarm fires.
    max_file_bytes: int = 1_000_000_000
    # How long after a file a re-run (or the same rows in another file) is still recognized: its
    # rows' claims expire then (the claims table's TTL).
    rerun_window_days: int = field(default=90, metadata=within((1, 3650)))

    def __post_init__(self) -> None:
        super().__post_init__()
        require(
            self.retry_interval_seconds >= 1,
            f"retry_interval_seconds must be at least 1, got {self.retry_interval_seconds}",
        )
        require(
            self.retry_backoff_rate >= 1.0,
            f"retry_backoff_rate must be at least 1.0, got {self.retry_backoff_rate}",
        )
        require(
            self.retry_max_delay_seconds >= self.retry_interval_seconds,
            "retry_max_delay_seconds must be at least retry_interval_seconds "
            f"({self.retry_interval_seconds}), got {self.retry_max_delay_seconds}",
        )
        require(self.time_reserve_ms >= 1, f"time_reserve_ms must be at least 1, got {self.time_reserve_ms}")
        low, high = BATCH_MAX_FILE_BYTES
        require(
            low <= self.max_file_bytes <= high,
            f"batch_workflow.max_file_bytes must be between {low} and {high} (Plan reads the whole file in one "
            f"invocation: docs/batch-files.md), got {self.max_file_bytes}",
        )

    def execution_timeout_seconds(self, step_timeout_seconds: int) -> int:
        """The batch state machine's TimeoutSeconds: a file of max_file_bytes at worst, every step
        one invocation of ``step_timeout_seconds`` (the batch_ingest timeout): Plan, then its chunks
        in waves of max_concurrency, then Finish. Rows are counted at MIN_ROW_BYTES, the smallest a
        valid row is in practice, so the bound errs long: it catches a stuck file, not a slow one."""
        chunks = -(-self.max_file_bytes // (MIN_ROW_BYTES * self.records_per_chunk))
        waves = -(-chunks // self.max_concurrency)
        return (2 + waves) * step_timeout_seconds
