"""Figures 1 and 2: AWS calls per 1,000 batch rows; batch_ingest's memory and time.

Every measurement is a ``bench.batch_worker`` process against one moto server (another
process); this module runs them and turns their results into figures.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from dataclasses import asdict
from typing import Any

from bench import emulator
from bench.batch_worker import Spec
from bench.report import Figure, ratio_at_most, value_at_most

INGEST_TARGET = 150
MEMORY_TARGET = 1.2
SMALL, MEDIUM, LARGE = 1_000, 10_000, 100_000
LARGE_CONSUMER_SAMPLE = 100  # moto's ReceiveMessage scans the whole queue: a sample keeps it quick
SPECS = (
    Spec(SMALL, trace_memory=True, consumer_rows=SMALL, naive=True),
    Spec(MEDIUM, trace_memory=False),
    Spec(MEDIUM, trace_memory=True),
    Spec(LARGE, trace_memory=True, consumer_rows=LARGE_CONSUMER_SAMPLE),
)


def run_worker(spec: Spec, endpoint: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.batch_worker", json.dumps(asdict(spec)), endpoint],
        cwd=emulator.ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def per_thousand(calls: dict[str, int], rows: int) -> float:
    return sum(calls.values()) * 1000 / rows


def describe(calls: dict[str, int]) -> str:
    return ", ".join(f"{name} {count:,}" for name, count in Counter(calls).most_common())


def run(log: Any = print) -> list[Figure]:
    results = []
    with emulator.moto_server_process() as endpoint:
        for spec in SPECS:
            results.append(run_worker(spec, endpoint))
            traced = ", tracemalloc on" if spec.trace_memory else ""
            log(f"  {spec.rows:,}-row file{traced}: batch_ingest took {results[-1]['seconds']:.1f} s")
    small, medium_timed, medium, large = results
    windows = ", ".join(f"{peak / 1024:.0f}" for peak in large["window_peaks_bytes"])
    log(f"  batch_ingest traced peak per 10,000 rows of the {LARGE:,}-row file (KiB): {windows}")
    return call_figures(small, large, log) + resource_figures(small, medium_timed, medium, large)


def call_figures(small: dict[str, Any], large: dict[str, Any], log: Any) -> list[Figure]:
    naive = per_thousand(small["naive_calls"], small["naive_rows"])
    consumer = {
        result["spec"]["rows"]: per_thousand(result["consumer_calls"], result["spec"]["consumer_rows"])
        for result in (small, large)
    }
    log(f"  naive, {small['naive_rows']:,} rows: {describe(small['naive_calls'])}")
    figures = []
    for result in (small, large):
        rows, sampled = result["spec"]["rows"], result["spec"]["consumer_rows"]
        ingest = per_thousand(result["ingest_calls"], rows)
        log(f"  batch_ingest, {rows:,} rows: {describe(result['ingest_calls'])}")
        log(f"  queue_consumer, {sampled:,} of those rows: {describe(result['consumer_calls'])}")
        sample = "" if sampled == rows else f" (first {sampled:,} rows)"
        figures += [
            Figure(
                "calls",
                f"batch_ingest, {rows:,}-row file",
                ingest,
                "calls/1k rows",
                "naive",
                naive,
                f"<= {INGEST_TARGET}",
                value_at_most(INGEST_TARGET),
            ),
            Figure(
                "calls",
                f"queue_consumer, {rows:,}-row file{sample}",
                consumer[rows],
                "calls/1k rows",
                "naive (same consumer, 1,000 rows)",
                consumer[SMALL],
                notes=("inherent: one TransactWriteItems (payment + audit) and one StartExecution per row",),
            ),
            Figure(
                "calls",
                f"ingest + consumer, {rows:,}-row file",
                ingest + consumer[rows],
                "calls/1k rows",
                "naive + consumer",
                naive + consumer[SMALL],
            ),
        ]
    return figures


def resource_figures(
    small: dict[str, Any], medium_timed: dict[str, Any], medium: dict[str, Any], large: dict[str, Any]
) -> list[Figure]:
    def kib(result: dict[str, Any]) -> float:
        return float(result["traced_peak_bytes"]) / 1024

    return [
        Figure(
            "memory",
            "batch_ingest traced peak, 100,000 vs 1,000 rows",
            kib(large),
            "KiB",
            "1,000 rows",
            kib(small),
            f"<= {MEMORY_TARGET}x",
            ratio_at_most(MEMORY_TARGET),
        ),
        Figure(
            "memory", "batch_ingest traced peak, 100,000 vs 10,000 rows", kib(large), "KiB", "10,000 rows", kib(medium)
        ),
        Figure(
            "memory",
            "batch_ingest traced peak, 100,000-row file: last vs first 10,000 rows",
            large["window_peaks_bytes"][-1] / 1024,
            "KiB",
            "first",
            large["window_peaks_bytes"][0] / 1024,
        ),
        Figure(
            "memory",
            "batch_ingest process peak RSS, 100,000 vs 1,000 rows",
            large["peak_rss_kib"] / 1024,
            "MiB",
            "1,000 rows",
            small["peak_rss_kib"] / 1024,
        ),
        Figure(
            "time",
            "batch_ingest wall time per 10,000 rows",
            medium_timed["seconds"],
            "s",
            "naive (1,000 rows x10)",
            small["naive_seconds"] * MEDIUM / small["naive_rows"],
        ),
        Figure(
            "time",
            "batch_ingest CPU time per 10,000 rows",
            medium_timed["cpu_seconds"],
            "s",
            "its wall time",
            medium_timed["seconds"],
        ),
    ]
