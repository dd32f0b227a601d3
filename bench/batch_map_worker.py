"""One per-file workflow measurement in a fresh process: ``python -m bench.batch_map_worker SPEC ENDPOINT``.

The workflow's steps (``payment_core.batch.workflow``) run here against a shimmed moto server in
another process; this driver plays Step Functions: plan, then every chunk descriptor in order
(a chunk that raises ``ChunkIncomplete`` is invoked again, as the map's Retry does), then finish.
Each step call is one "invocation": its own time budget (``remaining_ms`` counts down from the
function timeout) and, when traced, its own tracemalloc peak. The calls Step Functions and S3
make for us are counted per invocation, as listed in ``orchestration_calls``.

Prints the measurement as one JSON line.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import io
import json
import os
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import emulator
from bench.counter import CallCounter
from testkit.account import BUCKET, AwsClients, create_account, setup_session
from testkit.events import CSV_HEADER


def write_csv(path: str, rows: int, prefix: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(CSV_HEADER + "\n")
        for n in range(1, rows + 1):
            out.write(f"{prefix}-{n:07d},merchant-{n % 7},{n % 500 + 1}.25,USD,cust-{n}\n")


@dataclass(frozen=True)
class Spec:
    rows: int
    records_per_chunk: int
    # Trace every n-th chunk invocation (and the plan), 0 for none: tracemalloc slows the
    # traced code ~2.5x, so the large file samples its chunks rather than tracing all 400.
    trace_every: int
    timeout_seconds: float = 900.0  # the ingest function's timeout as the steps see it
    reserve_ms: int = 5_000
    max_attempts: int = 20


def orchestration_calls(invocations: int, chunks: int) -> Counter[str]:
    """Calls made for us, not by our code: S3 invokes the starter once; the starter's own
    StartExecution is counted by the counter; Step Functions reads the manifest once, starts
    one child execution per chunk, and invokes the function once per step attempt."""
    return Counter(
        {
            "lambda:Invoke (S3 → starter)": 1,
            "states:StartExecution (child per chunk)": chunks,
            "s3:GetObject (ItemReader)": 1,
            "lambda:Invoke (Step Functions tasks)": invocations,
        }
    )


class Invocations:
    """Runs step calls as Lambda invocations: a deadline each, peak memory each, durations."""

    def __init__(self, spec: Spec) -> None:
        self._spec = spec
        self.durations: list[float] = []
        self.peaks: dict[str, int] = {}
        self.count = 0
        self.chunk_calls = 0

    def run(self, kind: str, call: Callable[[Callable[[], int]], dict[str, Any]]) -> dict[str, Any]:
        deadline = time.monotonic() + self._spec.timeout_seconds

        def remaining_ms() -> int:
            return int((deadline - time.monotonic()) * 1000)

        every = self._spec.trace_every
        traced = every > 0 and (kind != "chunk" or self.chunk_calls % every == 0)
        if kind == "chunk":
            self.chunk_calls += 1
        if traced:
            gc.collect()
            tracemalloc.start()
        started = time.monotonic()
        try:
            return call(remaining_ms)
        finally:
            self.durations.append(time.monotonic() - started)
            self.count += 1
            if traced:
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                self.peaks[kind] = max(self.peaks.get(kind, 0), peak)


def worker(spec: Spec, endpoint: str) -> dict[str, Any]:
    emulator.reset(endpoint)
    setup = AwsClients.of(setup_session(), endpoint)
    account = create_account(setup)
    os.environ.update(account.handler_environment(endpoint))
    setup.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})

    handlers = emulator.handler_session()
    counter = CallCounter().attach(handlers)
    from payment_core import contract
    from payment_core.batch.chunk_ingest import ChunkIncomplete
    from payment_core.batch.jobs import BatchFile, WorkLayout
    from payment_core.batch.wiring import BatchTables, wire_batch_file_deps
    from payment_core.batch.workflow import run_step, start_file
    from payment_core.rules import BusinessRules
    from payment_core.settings import FunctionVariables

    s3: Any = handlers.client("s3")
    sqs: Any = handlers.client("sqs")
    dynamodb: Any = handlers.client("dynamodb")
    sfn: Any = handlers.client("stepfunctions")
    deps = wire_batch_file_deps(
        dynamodb=dynamodb,
        s3=s3,
        sqs=sqs,
        tables=BatchTables(
            account.table(contract.BATCH_JOBS_TABLE_NAME),
            account.table(contract.BATCH_CLAIMS_TABLE_NAME),
            account.table(contract.MERCHANTS_TABLE_NAME),
        ),
        rules=BusinessRules.read(FunctionVariables(contract.BATCH_INGEST, os.environ)),
        records_per_chunk=spec.records_per_chunk,
        max_file_bytes=1_000_000_000,  # the presets' bound: the bench's files are far below it
        queue_url=account.queue_url,
        reserve_ms=spec.reserve_ms,
        layout=WorkLayout(contract.BATCH_WORK_PREFIX),
        rerun_window=timedelta(days=90),
    )

    def now() -> datetime:
        return datetime.now(UTC)

    result: dict[str, Any] = {"spec": asdict(spec)}
    with tempfile.TemporaryDirectory() as workdir, contextlib.redirect_stdout(io.StringIO()):
        path = os.path.join(workdir, "file.csv")
        write_csv(path, spec.rows, f"r{spec.rows}")
        key = f"incoming/file{spec.rows}.csv"
        setup.s3.upload_file(path, BUCKET, key)
        head = setup.s3.head_object(Bucket=BUCKET, Key=key)
        etag = head["ETag"].strip('"')
        batch_file = BatchFile(BUCKET, key, head["VersionId"], head["VersionId"], etag)
        file_input = batch_file.to_input()
        counter.take()

        invocations = Invocations(spec)
        started = time.monotonic()
        start_file(sfn, account.batch_state_machine_arn, batch_file)
        plan = invocations.run(
            "plan", lambda left: run_step({"step": "plan", "file": file_input, "execution": "bench"}, deps, left, now)
        )
        manifest = json.loads(setup.s3.get_object(Bucket=BUCKET, Key=plan["manifest_key"])["Body"].read())
        retries = 0

        def run_chunk(item: dict[str, Any], left: Callable[[], int]) -> dict[str, Any]:
            return run_step({"step": "chunk", "file": file_input, "chunk": item}, deps, left, now)

        for item in manifest:
            for attempt in range(1, spec.max_attempts + 1):
                try:
                    invocations.run("chunk", functools.partial(run_chunk, item))
                    break
                except ChunkIncomplete:
                    retries += 1
                    if attempt == spec.max_attempts:
                        raise
        summary = invocations.run(
            "finish", lambda left: run_step({"step": "finish", "file": file_input}, deps, left, now)
        )
        result["seconds"] = time.monotonic() - started

    result["summary"] = summary
    result["chunks"] = len(manifest)
    result["chunk_retries"] = retries
    result["invocations"] = invocations.count
    result["max_invocation_seconds"] = max(invocations.durations)
    result["total_invocation_seconds"] = sum(invocations.durations)
    result["peaks_bytes"] = invocations.peaks
    result["rows_per_invocation"] = max(int(entry["records"]) for entry in manifest)
    result["code_calls"] = dict(counter.take())
    result["orchestration_calls"] = dict(orchestration_calls(invocations.count, len(manifest)))
    queued = int(
        setup.sqs.get_queue_attributes(QueueUrl=account.queue_url, AttributeNames=["ApproximateNumberOfMessages"])[
            "Attributes"
        ]["ApproximateNumberOfMessages"]
    )
    result["queued_messages"] = queued
    if (summary["state"], summary["queued"], summary["rejected"], queued) != ("COMPLETED", spec.rows, 0, spec.rows):
        raise RuntimeError(f"not every row queued exactly once: {summary}, {queued} messages")
    return result


if __name__ == "__main__":
    print(json.dumps(worker(Spec(**json.loads(sys.argv[1])), sys.argv[2])))
