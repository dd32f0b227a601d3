"""Entry point of the emulator process: ``python -m localcloud.server --state-dir DIR``.

The launcher (``localcloud.launcher``) always starts this module in a *child process*
rather than a ``ThreadedMotoServer`` inside the caller, because:

* the moto patches in this package (Lambda execution, Step Functions gaps, SQS poller,
  async S3 notifications) mutate moto's classes; applying them in a separate process keeps
  the caller's own ``mock_aws`` tests untouched;
* ``python -m localcloud start`` must outlive the command that started it (daemon), and
  ``stop`` must be able to end it by PID; a process group also lets ``stop`` end the
  Lambda subprocesses the server spawned;
* moto's Step Functions interpreter calls Lambda through ``http://localhost:$MOTO_PORT``,
  a process-wide environment variable, so the port must be set inside the server process.

The server binds port 0 on 127.0.0.1 (the kernel picks a free port, no race), exports
``MOTO_PORT``, writes ``endpoint`` into the state dir and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

HOST = "127.0.0.1"
ENDPOINT_FILE = "endpoint"


def _configure_moto_environment() -> None:
    # Must be in the environment before moto's IAM backend is first built:
    # aws_iam_role_policy_attachment to arn:aws:iam::aws:policy/... needs the managed policies.
    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    # Lambda and the Step Functions interpreter talk to this very server.
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def route_once_per_host() -> None:
    """moto finds a request's backend anew for every request, under the dispatcher's one lock:
    it lists moto's package directory (``list_of_moto_modules``: ~150 ``isdir`` calls) and then
    tries every service's URL regexes in turn. The answer depends only on the host name (the
    service and region, from the signature) and the installed moto, so it is kept per host; the
    lock is then held for a dictionary lookup instead of serializing every request's routing
    (py-spy, 2026-12-02: ~12% of the busy server's samples were that routing or waiting for its lock)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    if getattr(original, "_localcloud_memoized", False):
        return
    known: dict[str, Any] = {}

    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host is None:
            return None
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    get_backend_for_host._localcloud_memoized = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


FIRST_LOGGED_STATUS = 400


def log_refused_requests_only(handler: type[Any]) -> type[Any]:
    """``handler`` writing werkzeug's access line (``"POST / HTTP/1.0" 200 -``) only for answers
    of status 400 and above. A line per request cost ~9% of the busy server's CPU (py-spy on the
    e2e chaos run, 2026-12-03: formatting, the logging handler and its lock), and nothing reads
    the successful ones: server.log is read for refusals (a throttled invoke's 429, a fault's
    5xx, a 400 from a check) and for the functions' own output, which is mirrored unchanged. AWS
    writes no such line at all; the ones kept are the emulator's own debugging aid."""

    class RefusalLoggingHandler(handler):  # type: ignore[misc]
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            # "-" (no status known) is logged: only an answered success is left out.
            if not isinstance(code, int) or code >= FIRST_LOGGED_STATUS:
                super().log_request(code, size)

    return RefusalLoggingHandler


class _HeaderHoldingWriter(io.BufferedIOBase):
    """A request handler's ``wfile`` that sends the header block of a response together with the
    first write after it (the body, or its first chunk), or at the next flush when there is none."""

    def __init__(self, raw: Any) -> None:
        super().__init__()
        self._raw = raw
        self._held = b""

    def writable(self) -> bool:
        return True

    def hold(self, header_block: bytes) -> None:
        self._held += header_block

    def write(self, data: Any) -> int:
        written = memoryview(data).nbytes
        if self._held:
            data, self._held = self._held + bytes(data), b""
        self._raw.write(data)
        return written

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._raw.write(held)
        self._raw.flush()

    def fileno(self) -> int:
        return int(self._raw.fileno())


def whole_responses(handler: type[Any]) -> type[Any]:
    """``handler`` sending each response's status line, headers and body in one ``send``, on a
    socket without Nagle's delay.

    http.server sends the header block as soon as it ends (``end_headers``) and werkzeug then sends
    the body in a second write. Between the two the serving thread gives up the GIL, and Nagle's
    algorithm holds the body segment until the client acknowledges the header segment (the client
    delays that ACK by up to 40 ms on Linux). Under load the body reached the client tens of ms after
    the headers (a probe, 2026-12-04: the 889-byte body of a GetKeyPolicy answer still unacknowledged
    25 ms after it was written, the client gone), and the Terraform AWS provider gave up on such
    connections and sent the request again, which the emulator had already carried out: a
    non-idempotent create then meets its own first attempt (CreateAlias "409 Alias already exists",
    CreateBackupVault "AlreadyExistsException", a second API Gateway resource). A whole answer 30 ms
    late is waited for. localcloud/README.md has the measurements."""

    class WholeResponseHandler(handler):  # type: ignore[misc]
        disable_nagle_algorithm = True  # socketserver.StreamRequestHandler sets TCP_NODELAY
        wfile: Any
        _headers_buffer: list[bytes]  # http.server's header lines, until end_headers

        def setup(self) -> None:
            super().setup()
            self.wfile = _HeaderHoldingWriter(self.wfile)

        def flush_headers(self) -> None:
            # BaseHTTPRequestHandler.end_headers calls this to write the header block at once.
            if hasattr(self, "_headers_buffer"):
                block, self._headers_buffer = b"".join(self._headers_buffer), []
                if block.split(b" ", 2)[1].startswith(b"1"):
                    self.wfile.write(block)  # "100 Continue": the client waits for it to send the body
                else:
                    self.wfile.hold(block)

    return WholeResponseHandler


def request_handler() -> type[Any]:
    """The emulator's request handler: moto's, logging refusals only, answering whole responses."""
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    return whole_responses(log_refused_requests_only(MotoRequestHandler))


def serve(state_dir: Path) -> None:
    _configure_moto_environment()
    from moto.core.config import default_user_config
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from localcloud import patches

    default_user_config["stepfunctions"]["execute_state_machine"] = True
    patches.apply_all(state_dir)
    route_once_per_host()

    from localcloud.control import ControlMiddleware
    from localcloud.execute_api import ExecuteApiMiddleware
    from localcloud.faults import FaultMiddleware, load_from_environment
    from localcloud.network import NETWORK_DIR, Network
    from localcloud.network_tls import LocalCA
    from localcloud.patches.runtime_state import RUNTIME

    load_from_environment()  # LOCALCLOUD_FAULTS, once per emulator start
    # Before the first function starts: its environment trusts this run's CA (network_tls).
    hosts, ca = Network(state_dir), LocalCA(state_dir / NETWORK_DIR)
    front = ExecuteApiMiddleware(DomainDispatcherApplication(create_backend_app), lambda: RUNTIME.endpoint)
    app = ControlMiddleware(FaultMiddleware(front), hosts, ca)
    server = make_server(HOST, 0, app, threaded=True, request_handler=request_handler())
    port = server.server_address[1]
    os.environ["MOTO_PORT"] = str(port)
    endpoint = f"http://{HOST}:{port}"
    patches.set_endpoint(endpoint)

    def _shutdown(signum: int, frame: FrameType | None) -> None:
        # shutdown() blocks until serve_forever returns, so it cannot run on the serving thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    signal.signal(signal.SIGINT, _shutdown)

    tmp = state_dir / f"{ENDPOINT_FILE}.tmp"
    tmp.write_text(endpoint + "\n")
    tmp.replace(state_dir / ENDPOINT_FILE)
    print(f"localcloud: moto {_moto_version()} serving on {endpoint}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    finally:
        patches.stop_background_workers()
        print("localcloud: stopped", file=sys.stderr, flush=True)


def _moto_version() -> str:
    import moto

    return str(moto.__version__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m localcloud.server")
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir.resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    serve(state_dir)


if __name__ == "__main__":
    main()
