"""The moto emulator the benchmarks run against (the account they build in it: ``testkit.account``).

Three moto costs grow with the data already stored, which would make the emulator, not the
handlers, dominate the figures (measured on this machine with moto 5.2.5):

- SQS ``SendMessage`` rebuilds every queue attribute, scanning all stored messages for the
  ``ApproximateNumberOfMessages*`` counts: sending n messages is O(n²) (10 messages took
  ~0.1 s with 1,000 queued and ~1 s with 3,000).
- DynamoDB ``TransactWriteItems`` deep-copies every table it touches for a rollback: 11 ms
  a transaction at 200 items, 93 ms at 1,000 (a PutItem stays ~1 ms).

``apply_shims`` answers those counts from the list length (exact while nothing is received
or delayed, which the benchmarks never do) and skips the rollback snapshot (the benchmarks
check that no transaction was cancelled). API semantics are otherwise moto's own.
"""

from __future__ import annotations

import copy
import inspect
import logging
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

import testkit

ROOT = str(testkit.ROOT)


def apply_shims() -> None:
    """Make the two O(stored data) moto paths described above constant-time."""
    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.table import Table
    from moto.sqs.models import Queue

    Queue.approximate_number_of_messages = property(lambda queue: len(queue._messages))  # type: ignore[assignment]
    Queue.approximate_number_of_messages_delayed = property(lambda queue: 0)  # type: ignore[assignment]
    Queue.approximate_number_of_messages_not_visible = property(lambda queue: 0)  # type: ignore[assignment]

    class NoTableSnapshots:
        """``copy`` as moto's DynamoDB module sees it, minus the whole-table rollback copy."""

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

    dynamodb_models.copy = NoTableSnapshots()  # type: ignore[attr-defined,assignment]

    scan_all_query = Table.query
    signature = inspect.signature(scan_all_query)

    def partition_query(self: Table, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        hash_key = bound.arguments["hash_key"]
        if bound.arguments.get("index_name") or hash_key is None or not self.range_key_attr:
            return scan_all_query(self, *args, **kwargs)
        partition = (
            sorted(self.items[hash_key].values(), key=lambda item: item.range_key) if hash_key in self.items else []
        )
        self.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return scan_all_query(self, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = partition_query  # type: ignore[method-assign]


def serve_like_aws() -> None:
    """HTTP/1.1 answers (chunked where there is no length), and no access log line per request.
    Not keep-alive: werkzeug's server (the pinned version, ``serving.py``) sends
    ``Connection: close`` on every answer whatever the protocol, so each request still opens a
    connection and a thread, as with every emulator the project runs."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    MotoRequestHandler.protocol_version = "HTTP/1.1"
    logging.getLogger("werkzeug").setLevel(logging.ERROR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def moto_server_process() -> Iterator[str]:
    """A shimmed moto server in its own process (so its memory is not the handler's): yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        ready = server.stdout.readline().strip()
        if ready != "ready":
            raise RuntimeError(f"moto server did not start: {ready!r}")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def reset(endpoint: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()


def handler_session() -> boto3.Session:
    """A fresh default session: the one ``boto3.client()`` (so every handler client) uses."""
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return boto3.DEFAULT_SESSION


def _serve(port: int) -> None:
    from moto.server import ThreadedMotoServer

    apply_shims()
    serve_like_aws()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    print("ready", flush=True)
    threading.Event().wait()  # serve until terminated


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
