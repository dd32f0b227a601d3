"""A merchant's webhook receiver (tests, demo, bench): HTTPS on 127.0.0.1, reached under public names.

The receiver listens on 127.0.0.1:<free port> with a certificate the emulator's CA issued for its
names (``localcloud.network_tls``), and ``start`` registers those names with the emulator's
network (``localcloud.network``), so a function delivering to ``https://<name>/...`` resolves a
public address, connects to it on 443 and verifies the certificate as on AWS. The entry point
(a test, the demo) starts it; ``lib/`` never knows it exists.

It records every request (method, path, headers, raw body, the status it answered), can fail its
first N requests (500) or answer slowly, and, given the endpoint's secret, checks each request's
``Tap-Signature`` with the verifier merchants copy (``payment_core.events.verifier``): a request
that fails the check is answered 400, as a merchant following the docs would.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from payment_core.contract import WEBHOOK_SIGNATURE_HEADER
from payment_core.events.verifier import InvalidSignature, verify_signature

from localcloud.network import issue_certificate, register_name

VERIFIED = "verified"
HANDSHAKE_TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    status: int
    # VERIFIED, the verifier's reason, or None when the receiver has no secret to check with.
    signature: str | None
    received: float

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


class _Handler(BaseHTTPRequestHandler):
    server: _TlsServer
    protocol_version = "HTTP/1.1"

    def _receive(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.receiver.answer(self, body)

    do_POST = do_PUT = do_GET = _receive

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the recorded requests are the log


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, receiver: MerchantReceiver, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.receiver = receiver
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The handshake runs in the request's thread: a client that stalls delays nobody else.
        request.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            self.receiver.handshake_failed(exc)
            return
        super().finish_request(tls, client_address)


class MerchantReceiver:
    """``with MerchantReceiver(["hooks.merchant-a.example"]).start(endpoint) as receiver: ...``"""

    def __init__(
        self,
        names: Sequence[str],
        *,
        secret: str | None = None,
        fail_first: int = 0,
        delay_seconds: float = 0.0,
        certificate: dict[str, str] | None = None,
    ) -> None:
        """``certificate`` (``certificate``, ``key`` PEM): serve it instead of one from the emulator's
        CA (a receiver the functions must not trust)."""
        self.names = [name.lower() for name in names]
        self.secret = secret
        self.delay_seconds = delay_seconds
        self._failures_left = fail_first
        self._certificate = certificate
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._requests: list[ReceivedRequest] = []
        self.handshake_failures: list[str] = []
        self._server: _TlsServer | None = None
        self.addresses: dict[str, list[str]] = {}

    def start(self, endpoint: str) -> Self:
        """Serve, then register every name with the emulator at ``endpoint`` (the entry point's call)."""
        certificate = self._certificate or issue_certificate(endpoint, self.names)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with tempfile.TemporaryDirectory() as directory:  # load_cert_chain reads files only
            chain, key = Path(directory) / "chain.pem", Path(directory) / "key.pem"
            chain.write_text(certificate["certificate"])
            key.write_text(certificate["key"])
            context.load_cert_chain(chain, key)
        self._server = _TlsServer(self, context)
        threading.Thread(target=self._server.serve_forever, daemon=True, name="merchant-receiver").start()
        for name in self.names:
            self.addresses[name] = register_name(endpoint, name, port=self.port)
        return self

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the receiver is not started")
        return int(self._server.server_address[1])

    def url(self, path: str = "/hooks", name: str | None = None) -> str:
        return f"https://{name or self.names[0]}{path}"

    def fail_next(self, count: int) -> None:
        """Answer the next ``count`` requests 500 (a receiver that is down, then recovers)."""
        with self._lock:
            self._failures_left = count

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[ReceivedRequest]:
        """The first ``count`` requests, once they arrived; TimeoutError naming how many did."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(self._requests)} of {count} requests arrived within {timeout}s")
                self._arrived.wait(left)
            return list(self._requests[:count])

    def handshake_failed(self, error: BaseException) -> None:
        with self._lock:
            self.handshake_failures.append(getattr(error, "reason", None) or type(error).__name__)

    def answer(self, request: _Handler, body: bytes) -> None:
        received = time.time()
        signature = self._check(request.headers.get(WEBHOOK_SIGNATURE_HEADER), body)
        with self._lock:
            failing = self._failures_left > 0
            self._failures_left -= 1 if failing else 0
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        status = 500 if failing else 400 if signature not in (None, VERIFIED) else 200
        reply = b'{"received": true}' if status == 200 else b'{"received": false}'
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(reply)))
            request.end_headers()
            request.wfile.write(reply)
        except OSError:
            pass  # the client gave up (its timeout): recorded all the same, as a merchant's log would
        headers = tuple((str(key), str(value)) for key, value in request.headers.items())
        recorded = ReceivedRequest(request.command, request.path, headers, body, status, signature, received)
        with self._arrived:
            self._requests.append(recorded)
            self._arrived.notify_all()

    def _check(self, header: str | None, body: bytes) -> str | None:
        if self.secret is None:
            return None
        if header is None:
            return f"no {WEBHOOK_SIGNATURE_HEADER} header"
        try:
            verify_signature(body, header, self.secret)
        except InvalidSignature as exc:
            return str(exc)
        return VERIFIED

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
