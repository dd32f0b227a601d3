"""The per-file batch workflow's slice of the config (split from ``schema`` for length)."""

from __future__ import annotations

from dataclasses import dataclass

from lib.batch_file_definition import BatchRetry
from lib.config.limits import SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY, SFN_RETRY_MAX_ATTEMPTS
from lib.config.schema import FunctionSettings, _require, _require_between


@dataclass(frozen=True)
class BatchWorkflowConfig:
    """The per-file batch workflow (docs/batch-files.md): chunking, parallelism and retries."""

    # CSV records per map item, i.e. per chunk invocation: it must read, validate and claim
    # them well within the batch_ingest timeout (500 take well under a second).
    records_per_chunk: int
    # Chunk invocations at once (the Distributed Map's MaxConcurrency).
    max_concurrency: int
    # Retry of a failed step or chunk: interval * backoff_rate^n, capped, with full jitter.
    retry_interval_seconds: int
    retry_backoff_rate: float
    retry_max_delay_seconds: int
    retry_max_attempts: int
    # A chunk that saved its progress (ChunkIncomplete) or met a concurrent claim is retried
    # up to this many times: each attempt moves it forward.
    chunk_progress_attempts: int
    # A chunk stops sending when less than this remains of its invocation's time.
    time_reserve_ms: int

    def __post_init__(self) -> None:
        _require_between("records_per_chunk", self.records_per_chunk, (1, 10_000))
        _require_between("max_concurrency", self.max_concurrency, SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY)
        _require(
            self.retry_interval_seconds >= 1,
            f"retry_interval_seconds must be at least 1, got {self.retry_interval_seconds}",
        )
        _require(
            self.retry_backoff_rate >= 1.0,
            f"retry_backoff_rate must be at least 1.0, got {self.retry_backoff_rate}",
        )
        _require(
            self.retry_max_delay_seconds >= self.retry_interval_seconds,
            "retry_max_delay_seconds must be at least retry_interval_seconds "
            f"({self.retry_interval_seconds}), got {self.retry_max_delay_seconds}",
        )
        _require_between("retry_max_attempts", self.retry_max_attempts, SFN_RETRY_MAX_ATTEMPTS)
        _require_between("chunk_progress_attempts", self.chunk_progress_attempts, SFN_RETRY_MAX_ATTEMPTS)
        _require(self.time_reserve_ms >= 1, f"time_reserve_ms must be at least 1, got {self.time_reserve_ms}")

    @property
    def retry(self) -> BatchRetry:
        """The retry_* knobs as the batch-file state machine takes them."""
        return BatchRetry(
            interval_seconds=self.retry_interval_seconds,
            backoff_rate=self.retry_backoff_rate,
            max_delay_seconds=self.retry_max_delay_seconds,
            max_attempts=self.retry_max_attempts,
        )

    def check_fits(self, ingest: FunctionSettings) -> None:
        """The workflow within the batch_ingest function that runs it."""
        # Chunks beyond a reservation would be throttled, and S3's starts need a slot too.
        # Unreserved (None), the function shares the account's pool, which the chunks cannot
        # exhaust by themselves.
        _require(
            ingest.reserved_concurrency is None or self.max_concurrency < ingest.reserved_concurrency,
            "batch_workflow.max_concurrency must be below the batch_ingest reserved_concurrency "
            f"({ingest.reserved_concurrency}), got {self.max_concurrency}",
        )
        _require(
            self.time_reserve_ms < ingest.timeout_seconds * 1000,
            "batch_workflow.time_reserve_ms must be below the batch_ingest timeout "
            f"({ingest.timeout_seconds * 1000} ms), got {self.time_reserve_ms}",
        )
