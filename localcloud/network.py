"""The network the emulator's functions see: public names for local receivers (see README, "Outbound network").

On AWS a function reaches a merchant's receiver over the internet: public DNS answers the
receiver's name with a public address, and a TCP connection to that address on 443 reaches the
receiver. Here the receiver is a server on 127.0.0.1:<port>, so the emulator provides both halves
for the function processes it launches (``lambda_bootstrap`` installs them before the handler is
imported):

* **names**: a table name -> addresses, answered by ``socket.getaddrinfo`` for exactly these names
  (every other name goes to the machine's resolver, untouched). A name registered with a ``port``
  gets an address of its own from ``PUBLIC_BLOCK``; a name can instead be given explicit addresses
  (a private or loopback one: the DNS rebinding answers the stack must refuse);
* **routes**: address -> local port. A connection to such an address on 443 reaches
  127.0.0.1:<port> (``getpeername`` still answers the public address); on another port it is
  refused, as a receiver listening on 443 only. Every other address, loopback included, is the
  real one, so the stack's checks see exactly the addresses they would see on AWS.

The table lives in ``<state>/network/hosts.json`` (the function processes re-read it when it
changes: a name can be re-pointed between two deliveries, as DNS can); the entry point (tests,
demo) registers its receiver through the emulator's route ``/localcloud/network``; ``lib/`` never
does. The TLS half (a CA per emulator run, trusted by the functions) is ``network_tls``.
"""

from __future__ import annotations

import ipaddress
import json
import re
import threading
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

ROUTE = "/localcloud/network"
NETWORK_DIR = "network"
HOSTS_FILE = "hosts.json"
HTTPS_PORT = 443
# AS112's direct-delegation block (RFC 7534): globally reachable in IANA's special-purpose
# registry, so a check for public addresses accepts it as it accepts any merchant's host, and
# nothing on the internet serves HTTPS there (AS112 nodes answer DNS only): a route here can
# never stand in for a real web service. README "Outbound network" has the reasoning.
PUBLIC_BLOCK = ipaddress.IPv4Network("192.175.48.0/24")
_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


class NetworkError(ValueError):
    """A registration the network refuses; the message names the field."""


def normalize_name(name: object) -> str:
    """A DNS name as the table keys it (case-insensitive, no trailing dot); NetworkError if not one."""
    if not isinstance(name, str) or not _NAME.match(name.lower().rstrip(".")):
        raise NetworkError('"name" must be a DNS name with at least two labels')
    return name.lower().rstrip(".")


class Network:
    """The table of one emulator run, written to ``hosts.json`` after every change."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / NETWORK_DIR / HOSTS_FILE
        self._lock = threading.Lock()
        self._names: dict[str, list[str]] = {}
        self._routes: dict[str, int] = {}
        self._allocated: dict[str, str] = {}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._write()

    def register(self, name: object, port: object = None, addresses: object = None) -> list[str]:
        """Point ``name`` at ``addresses`` (or an address of its own) and, with ``port``, route
        those of ``PUBLIC_BLOCK`` on 443 to 127.0.0.1:``port``. Returns the name's addresses."""
        host = normalize_name(name)
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
            raise NetworkError('"port" must be a TCP port (1-65535)')
        with self._lock:
            if addresses is None:
                if port is None:
                    raise NetworkError('give "port" (a receiver) or "addresses" (answers only)')
                answers = [self._allocate(host)]
            else:
                answers = _addresses(addresses)
            self._names[host] = answers
            if port is not None:
                for address in answers:
                    if ipaddress.ip_address(address) in PUBLIC_BLOCK:
                        self._routes[address] = port
            self._write()
            return list(answers)

    def document(self) -> dict[str, Any]:
        with self._lock:
            return {"names": dict(self._names), "routes": dict(self._routes)}

    def _allocate(self, host: str) -> str:
        if host not in self._allocated:
            taken = len(self._allocated)
            if taken >= PUBLIC_BLOCK.num_addresses - 2:
                raise NetworkError(f"no address left in {PUBLIC_BLOCK}")
            self._allocated[host] = str(PUBLIC_BLOCK.network_address + taken + 1)
        return self._allocated[host]

    def _write(self) -> None:
        body = json.dumps({"names": self._names, "routes": self._routes}, sort_keys=True)
        staging = self.path.with_suffix(".tmp")
        staging.write_text(body)
        staging.replace(self.path)  # a function process never reads half a table


def _addresses(value: object) -> list[str]:
    if not isinstance(value, list) or not value:
        raise NetworkError('"addresses" must be a non-empty list of IP addresses')
    try:
        return [str(ipaddress.ip_address(each)) for each in value]
    except (TypeError, ValueError) as exc:
        raise NetworkError('"addresses" must be a non-empty list of IP addresses') from exc


def handle(
    network: Network, environ: dict[str, Any], start_response: Callable[..., Any], issue: Callable[[list[str]], Any]
) -> Iterable[bytes]:
    """``GET /localcloud/network``: the table and the run's CA; ``POST`` ``{"name", "port"?,
    "addresses"?}``: register; ``POST /localcloud/network/certificates`` ``{"names"}``: a
    certificate for those names signed by the run's CA (``issue``)."""
    try:
        if environ.get("REQUEST_METHOD") != "POST":
            return _json(start_response, network.document())
        length = int(environ.get("CONTENT_LENGTH") or 0)
        request = json.loads(environ["wsgi.input"].read(length) or b"{}")
        if not isinstance(request, dict):
            raise NetworkError("the body must be a JSON object")
        if environ.get("PATH_INFO") == f"{ROUTE}/certificates":
            names = request.get("names")
            if not isinstance(names, list) or not names:
                raise NetworkError('"names" must be a non-empty list of DNS names')
            return _json(start_response, issue([normalize_name(each) for each in names]))
        addresses = network.register(request.get("name"), request.get("port"), request.get("addresses"))
        return _json(start_response, {"name": normalize_name(request["name"]), "addresses": addresses})
    except (NetworkError, ValueError) as error:
        return _json(start_response, {"message": str(error)}, "400 Bad Request")


def _json(start_response: Callable[..., Any], document: Any, status: str = "200 OK") -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


# The entry point's side (tests, demo): plain HTTP to the emulator's own route.


def _post(endpoint: str, path: str, document: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{endpoint}{path}", json.dumps(document).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
    return answer


def register_name(
    endpoint: str, name: str, *, port: int | None = None, addresses: Sequence[str] | None = None
) -> list[str]:
    """Register ``name`` with the emulator at ``endpoint``; returns the addresses it answers."""
    document: dict[str, Any] = {"name": name}
    if port is not None:
        document["port"] = port
    if addresses is not None:
        document["addresses"] = list(addresses)
    return list(_post(endpoint, ROUTE, document)["addresses"])


def issue_certificate(endpoint: str, names: Sequence[str]) -> dict[str, str]:
    """A certificate (``certificate``, ``key``, ``ca``: PEM) for ``names`` from the run's CA."""
    answer = _post(endpoint, f"{ROUTE}/certificates", {"names": list(names)})
    return {key: str(answer[key]) for key in ("certificate", "key", "ca")}
