"""Where a webhook may be delivered: ``https`` URLs whose host resolves only to public addresses.

A merchant names the URL, so without these checks the platform would make requests for it into
its own network: the instance metadata service (169.254.169.254, fd00:ec2::254), the Lambda
runtime API on loopback, private VPC ranges. The URL is checked when an endpoint is registered
(``check_url``: scheme, no credentials, a literal address must be public) and **again at each
delivery after name resolution** (``resolve_public``): a name that resolved to a public address
at registration may resolve to a private one later (DNS rebinding), so the delivery connects to
the address checked here, never re-resolving. Every address a name resolves to must be public:
one private answer among public ones refuses the delivery.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from payment_core import contract
from payment_core.errors import InvalidRequest

MAX_URL_LENGTH = contract.MAX_WEBHOOK_URL_LENGTH
HTTPS_PORT = 443

# socket.getaddrinfo's shape: (family, type, proto, canonname, sockaddr) per answer.
Resolver = Callable[..., Sequence[tuple[Any, ...]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeDestination(InvalidRequest):
    """The URL is not one the platform delivers to (field ``url``)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "url")


@dataclass(frozen=True)
class Destination:
    """A webhook URL that passed the checks, with the host and port it names."""

    url: str
    host: str
    port: int


def is_public(address: IpAddress) -> bool:
    """Globally routable unicast only: not private, loopback, link-local (metadata), shared
    (100.64/10), reserved, unspecified or multicast; an IPv4-mapped IPv6 address as its IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> Destination:
    """The endpoint URL, if the platform may deliver to it (registration's check)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or not url.isascii():
        raise UnsafeDestination(f"url must be an ASCII https URL of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port or HTTPS_PORT
    except ValueError as exc:
        raise UnsafeDestination("url is not a valid URL") from exc
    if parts.scheme != "https":
        raise UnsafeDestination("url must use https")
    if parts.username is not None or parts.password is not None:
        raise UnsafeDestination("url must not carry credentials")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeDestination("url must name a host")
    literal = _literal(host)
    if literal is not None and not is_public(literal):
        raise UnsafeDestination("url must not point to a private, loopback, link-local or metadata address")
    if literal is None and (host == "localhost" or host.endswith(".localhost") or "." not in host):
        raise UnsafeDestination("url must name a public host")
    return Destination(url=url, host=host, port=port)


def resolve_public(destination: Destination, resolver: Resolver = socket.getaddrinfo) -> list[str]:
    """Every address ``destination``'s host resolves to now, if all are public (delivery's check):
    connect to one of these, not to the name again."""
    try:
        answers = resolver(destination.host, destination.port, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise UnsafeDestination(f"url's host does not resolve: {exc.__class__.__name__}") from exc
    addresses = list(dict.fromkeys(str(answer[4][0]).split("%")[0] for answer in answers))
    if not addresses:
        raise UnsafeDestination("url's host does not resolve")
    refused = [each for each in addresses if not is_public(ipaddress.ip_address(each))]
    if refused:
        raise UnsafeDestination("url's host resolves to a private, loopback, link-local or metadata address")
    return addresses


def _literal(host: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
