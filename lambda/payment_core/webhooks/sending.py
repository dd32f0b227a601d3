"""One HTTPS POST to a checked address: the only network code of webhook delivery.

The host is resolved once, by ``resolve`` (``resolve_public`` by default: every answer must be
public, DNS rebinding included), and the connection goes to the address it returned, never to
the name again; TLS still verifies the certificate against the **host name** (SNI and hostname
check), with the default trust store. Exactly the standard library's calls, in this order:
``socket.create_connection((address, port), timeout)``, ``ssl.create_default_context().wrap_socket(
sock, server_hostname=host)``, then ``http.client.HTTPSConnection`` on that socket. Anything that
fails on the way is an ``OSError`` (``ssl.SSLError`` and timeouts included), an
``http.client.HTTPException`` or ``UnsafeDestination``: the caller records it as the attempt's error.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

from payment_core import contract
from payment_core.events.destinations import Destination, resolve_public

# How much of the merchant's answer is read (and then dropped): the status line is the outcome.
MAX_RESPONSE_BYTES = 64 * 1024

# Destination -> the addresses to connect to (all checked public): tests of the HTTPS exchange
# against a local server replace it (tests/lambda), nothing else does.
AddressResolver = Callable[[Destination], list[str]]


def request_target(url: str) -> str:
    """The path and query of ``url`` (``/`` when it has none), as the request line carries them."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class HttpsSender:
    def __init__(
        self,
        resolve: AddressResolver = resolve_public,
        timeout_seconds: float = contract.WEBHOOK_DELIVERY_TIMEOUT_SECONDS,
    ) -> None:
        self._resolve = resolve
        self._timeout = timeout_seconds

    def post(self, destination: Destination, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to ``destination``; the HTTP status of the answer."""
        address = self._resolve(destination)[0]
        sock = socket.create_connection((address, destination.port), timeout=self._timeout)
        try:
            tls = ssl.create_default_context().wrap_socket(sock, server_hostname=destination.host)
        except BaseException:
            sock.close()
            raise
        connection = http.client.HTTPSConnection(destination.host, destination.port, timeout=self._timeout)
        connection.sock = tls  # already connected to the checked address: request() does not connect again
        try:
            connection.request("POST", request_target(destination.url), body=body, headers=dict(headers))
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
            return response.status
        finally:
            connection.close()
