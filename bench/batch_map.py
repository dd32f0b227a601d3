"""The per-file batch workflow: AWS calls per 1,000 rows (orchestration included), per-invocation
rows and memory as the file grows, and a file whose ingest work outlasts the function timeout.

Each measurement is a ``bench.batch_map_worker`` process against one shimmed moto server.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from bench import emulator
from bench.batch_map_worker import Spec
from bench.report import Figure, ratio_at_most, value_at_most

CALLS_TARGET = 150
FLAT_TARGET = 1.2
TIMEOUT_MULTIPLE_TARGET = 3.0
RECORDS_PER_CHUNK = 500  # the stack's default rows per map item
SMALL, LARGE = 10_000, 200_000
TRACED_CHUNKS = 20  # chunk invocations traced per file: all of the small file's, 1 in 20 of the large one's
# The timeout run: a 2 s function timeout (a test configuration; the stack's is minutes) and the
# default chunk size. A chunk that runs short of time saves its progress and is invoked again.
TIMEOUT_SPEC = Spec(rows=SMALL, records_per_chunk=RECORDS_PER_CHUNK, trace_every=0, timeout_seconds=2.0, reserve_ms=300)
SPECS = (
    Spec(SMALL, RECORDS_PER_CHUNK, trace_every=SMALL // RECORDS_PER_CHUNK // TRACED_CHUNKS),
    Spec(LARGE, RECORDS_PER_CHUNK, trace_every=LARGE // RECORDS_PER_CHUNK // TRACED_CHUNKS),
    TIMEOUT_SPEC,
)


def run_worker(spec: Spec, endpoint: str) -> dict[str, Any]:
    completed = subprocess.run(
        [sys.executable, "-m", "bench.batch_map_worker", json.dumps(asdict(spec)), endpoint],
        cwd=emulator.ROOT,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] = json.loads(completed.stdout.strip().splitlines()[-1])
    return result


def all_calls(result: dict[str, Any]) -> Counter[str]:
    return Counter(result["code_calls"]) + Counter(result["orchestration_calls"])


def per_thousand(calls: Counter[str], rows: int) -> float:
    return sum(calls.values()) * 1000 / rows


def run(log: Any = print) -> list[Figure]:
    with emulator.moto_server_process() as endpoint:
        small, large, timed = (run_worker(spec, endpoint) for spec in SPECS)
    for result in (small, large, timed):
        spec = result["spec"]
        described = ", ".join(f"{name} {count:,}" for name, count in all_calls(result).most_common())
        log(
            f"  {spec['rows']:,} rows, {result['chunks']} chunks, {result['invocations']} invocations "
            f"({result['chunk_retries']} chunk retries), {result['seconds']:.1f} s: {described}"
        )
    figures = []
    for result in (small, large):
        rows = result["spec"]["rows"]
        calls = all_calls(result)
        floor = calls["sqs:SendMessageBatch"]
        figures.append(
            Figure(
                "batch map",
                f"AWS calls per 1,000 rows incl. orchestration, {rows:,}-row file",
                per_thousand(calls, rows),
                "calls/1k rows",
                "SendMessageBatch alone (the floor)",
                floor * 1000 / rows,
                f"<= {CALLS_TARGET}",
                value_at_most(CALLS_TARGET),
            )
        )

    def flat(what: str, unit: str, measure: Callable[[dict[str, Any]], float]) -> Figure:
        """``what`` must stay flat from the small file to the large one (at most FLAT_TARGET x)."""
        return Figure(
            "batch map",
            f"{what}, {LARGE:,} vs {SMALL:,} rows",
            measure(large),
            unit,
            f"{SMALL:,} rows",
            measure(small),
            f"<= {FLAT_TARGET}x",
            ratio_at_most(FLAT_TARGET),
        )

    figures += [
        flat("rows per chunk invocation", "rows", lambda result: result["rows_per_invocation"]),
        flat(
            f"chunk invocation traced peak (max of {TRACED_CHUNKS} sampled)",
            "KiB",
            lambda result: result["peaks_bytes"]["chunk"] / 1024,
        ),
        flat("plan invocation traced peak", "KiB", lambda result: result["peaks_bytes"]["plan"] / 1024),
        Figure(
            "batch map",
            f"ingest work of a {TIMEOUT_SPEC.rows:,}-row file / function timeout (file completed)",
            timed["total_invocation_seconds"],
            "s",
            "the timeout",
            TIMEOUT_SPEC.timeout_seconds,
            f">= {TIMEOUT_MULTIPLE_TARGET}x, no invocation over the timeout",
            lambda figure: (
                figure.ratio >= TIMEOUT_MULTIPLE_TARGET
                and timed["max_invocation_seconds"] <= TIMEOUT_SPEC.timeout_seconds
            ),
            notes=(
                f"longest invocation {timed['max_invocation_seconds']:.2f} s; "
                f"{timed['chunk_retries']} chunk attempts stopped early and were retried from their saved progress",
            ),
        ),
    ]
    return figures
