"""The per-file batch workflow's slice of the config: chunking, parallelism and retries."""

from __future__ import annotations

from dataclasses import dataclass

from lib.config.checks import require, require_between
from lib.config.limits import SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY, SFN_RETRY_MAX_ATTEMPTS


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
        require_between("records_per_chunk", self.records_per_chunk, (1, 10_000))
        require_between("max_concurrency", self.max_concurrency, SFN_DISTRIBUTED_MAP_MAX_CONCURRENCY)
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
        require_between("retry_max_attempts", self.retry_max_attempts, SFN_RETRY_MAX_ATTEMPTS)
        require_between("chunk_progress_attempts", self.chunk_progress_attempts, SFN_RETRY_MAX_ATTEMPTS)
        require(self.time_reserve_ms >= 1, f"time_reserve_ms must be at least 1, got {self.time_reserve_ms}")
