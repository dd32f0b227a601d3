"""One batch measurement in a fresh process: ``python -m bench.batch_worker SPEC ENDPOINT``.

A process per measurement, so its peak RSS is its own; the moto server runs in another
process, so the emulator's memory (it holds every queued message) is not the handler's.
Prints the measurement as one JSON line.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import asdict, dataclass
from typing import Any

import boto3
from payment_core import contract

from bench import emulator
from bench.counter import CallCounter
from bench.naive_ingest import naive_ingest
from testkit.account import BUCKET, AwsClients, create_account, create_table, setup_session
from testkit.environment import TABLES
from testkit.events import CSV_HEADER, s3_event, sqs_event
from testkit.handlers import FakeContext, load_handler

WARMUP_ROWS = 2_000  # more than one 64 KiB read, so one-time costs are paid before measuring
NAIVE_ROWS = 1_000


@dataclass(frozen=True)
class Spec:
    rows: int
    trace_memory: bool  # tracemalloc costs ~2.5x the handler's CPU, so timed runs go without
    consumer_rows: int = 0
    naive: bool = False


def write_csv(path: str, rows: int, prefix: str) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write(CSV_HEADER + "\n")
        for n in range(1, rows + 1):
            out.write(f"{prefix}-{n:07d},merchant-{n % 7},{n % 500 + 1}.25,USD,cust-{n}\n")


class Files:
    def __init__(self, s3: Any, workdir: str) -> None:
        self._s3 = s3
        self._workdir = workdir

    def upload(self, rows: int, prefix: str) -> tuple[str, str]:
        path = os.path.join(self._workdir, f"{prefix}.csv")
        write_csv(path, rows, prefix)
        key = f"{contract.BATCH_INCOMING_PREFIX}{prefix}{contract.BATCH_FILE_SUFFIX}"
        self._s3.upload_file(path, BUCKET, key)
        os.unlink(path)
        return key, self._s3.head_object(Bucket=BUCKET, Key=key)["ETag"].strip('"')


def consume(consumer: Any, sqs: Any, queue_url: str, rows: int) -> None:
    """Play the event source mapping (with the bench's own, uncounted client): receive ten,
    invoke queue_consumer, delete what it processed."""
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    done = 0
    while done < rows:
        wanted = min(10, rows - done)
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=wanted)["Messages"]
        failures = consumer.handler(sqs_event(messages, arn), FakeContext())["batchItemFailures"]
        if failures:
            raise RuntimeError(f"queue_consumer reported failures: {failures[:3]}")
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
        done += len(messages)


class PeakWindows:
    """tracemalloc's peak for each 10,000 rows sent (1,000 SendMessageBatch calls) and the rest.

    Constant memory means the later windows peak no higher than the first.
    """

    CALLS = 1_000

    def __init__(self, sqs_client: Any) -> None:
        self.peaks: list[int] = []
        self._calls = 0
        # A client copies its session's hooks when built, so this one goes on the client itself.
        sqs_client.meta.events.register("after-call.sqs.SendMessageBatch", self._sent)
        gc.collect()  # every measurement starts from the same clean heap
        tracemalloc.start()

    def _sent(self, **_: Any) -> None:
        self._calls += 1
        if self._calls % self.CALLS == 0:
            self.peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()

    def finish(self) -> list[int]:
        if self._calls % self.CALLS:
            self.peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        return self.peaks


def worker(spec: Spec, endpoint: str) -> dict[str, Any]:
    emulator.reset(endpoint)
    setup = setup_session()
    account = create_account(AwsClients.of(setup, endpoint))
    os.environ.update(account.handler_environment(endpoint))
    sqs = setup.client("sqs", endpoint_url=endpoint)

    handlers = emulator.handler_session()
    counter = CallCounter().attach(handlers)
    ingest = load_handler(contract.BATCH_INGEST)
    consumer = load_handler(contract.QUEUE_CONSUMER)
    result: dict[str, Any] = {"spec": asdict(spec)}

    # Powertools prints a metrics line per invocation: produced as in Lambda, then dropped.
    with tempfile.TemporaryDirectory() as workdir, contextlib.redirect_stdout(io.StringIO()):
        files = Files(setup.client("s3", endpoint_url=endpoint), workdir)
        warm_key, warm_etag = files.upload(WARMUP_ROWS, "warmup")
        key, etag = files.upload(spec.rows, f"file{spec.rows}")
        # Warm-up: clients built, service models loaded, first-call costs paid, as in a warm Lambda.
        ingest.handler(s3_event(BUCKET, warm_key, warm_etag), FakeContext())
        consume(consumer, sqs, account.queue_url, 10)
        sqs.purge_queue(QueueUrl=account.queue_url)
        counter.take()

        windows = PeakWindows(ingest.runtime.sqs()) if spec.trace_memory else None
        started, cpu_started = time.perf_counter(), time.process_time()
        job = ingest.handler(s3_event(BUCKET, key, etag), FakeContext())["jobs"][0]
        result["seconds"] = time.perf_counter() - started
        result["cpu_seconds"] = time.process_time() - cpu_started
        if windows is not None:
            result["window_peaks_bytes"] = windows.finish()
            result["traced_peak_bytes"] = max(result["window_peaks_bytes"])
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        result["ingest_calls"] = counter.take()
        if (job["state"], job["queued"], job["rejected"]) != ("COMPLETED", spec.rows, 0):
            raise RuntimeError(f"batch_ingest did not queue every row: {job}")
        attributes = sqs.get_queue_attributes(QueueUrl=account.queue_url, AttributeNames=["All"])["Attributes"]
        if int(attributes["ApproximateNumberOfMessages"]) != spec.rows:
            raise RuntimeError(f"the queue holds {attributes['ApproximateNumberOfMessages']} of {spec.rows} rows")

        if spec.consumer_rows:
            consume(consumer, sqs, account.queue_url, spec.consumer_rows)
            result["consumer_calls"] = counter.take()
        if spec.naive:
            result.update(run_naive(counter, handlers, setup, endpoint, files))
    return result


def run_naive(
    counter: CallCounter, handlers: boto3.Session, setup: boto3.Session, endpoint: str, files: Files
) -> dict[str, Any]:
    dynamodb = setup.client("dynamodb", endpoint_url=endpoint)
    create_table(dynamodb, "naive-payments-bench", [("payment_id", "S", "HASH")])
    queue_url = setup.client("sqs", endpoint_url=endpoint).create_queue(QueueName="naive-queue-bench")["QueueUrl"]
    key, _ = files.upload(NAIVE_ROWS, "naive")
    clients = {name: handlers.client(name) for name in ("dynamodb", "s3", "sqs")}  # counted, like the handler's
    counter.take()
    started = time.perf_counter()
    queued = naive_ingest(
        clients["dynamodb"],
        clients["s3"],
        clients["sqs"],
        bucket=BUCKET,
        key=key,
        jobs_table=TABLES[contract.BATCH_JOBS_TABLE_NAME],
        payments_table="naive-payments-bench",
        queue_url=queue_url,
    )
    elapsed = time.perf_counter() - started
    if queued != NAIVE_ROWS:
        raise RuntimeError(f"naive ingest queued {queued} of {NAIVE_ROWS} rows")
    return {"naive_rows": NAIVE_ROWS, "naive_seconds": elapsed, "naive_calls": counter.take()}


if __name__ == "__main__":
    print(json.dumps(worker(Spec(**json.loads(sys.argv[1])), sys.argv[2])))
