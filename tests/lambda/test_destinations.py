"""Webhook destinations: https only, public addresses only, at registration and after resolution."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from payment_core.events.destinations import Destination, UnsafeDestination, check_url, resolve_public


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "url must use https"),
        ("ftp://hooks.example.com/x", "url must use https"),
        ("https://user:pw@hooks.example.com/x", "url must not carry credentials"),
        ("https:///x", "url must name a host"),
        ("https://localhost/x", "url must name a public host"),
        ("https://api.localhost/x", "url must name a public host"),
        ("https://intranet/x", "url must name a public host"),
        ("https://127.0.0.1/x", "url must not point to a private, loopback, link-local or metadata address"),
        ("https://169.254.169.254/latest/meta-data", "url must not point to a private"),
        ("https://10.1.2.3/x", "url must not point to a private"),
        ("https://192.168.0.10/x", "url must not point to a private"),
        ("https://172.16.5.5/x", "url must not point to a private"),
        ("https://100.64.0.1/x", "url must not point to a private"),
        ("https://0.0.0.0/x", "url must not point to a private"),
        ("https://[::1]/x", "url must not point to a private"),
        ("https://[fd00:ec2::254]/x", "url must not point to a private"),
        ("https://[fe80::1]/x", "url must not point to a private"),
        ("https://[::ffff:127.0.0.1]/x", "url must not point to a private"),
        ("https://hooks.example.com:99999/x", "url is not a valid URL"),
        ("https://hööks.example.com/x", "url must be an ASCII https URL"),
        ("", "url must be an ASCII https URL"),
    ],
)
def test_registration_refuses_what_the_platform_must_not_call(url: str, message: str) -> None:
    with pytest.raises(UnsafeDestination) as refused:
        check_url(url)
    assert refused.value.message.startswith(message) and refused.value.field == "url"


def test_registration_accepts_a_public_https_url() -> None:
    assert check_url("https://hooks.example.com/payments?x=1") == Destination(
        "https://hooks.example.com/payments?x=1", "hooks.example.com", 443
    )
    assert check_url("https://93.184.215.14:8443/h").port == 8443


def resolver(*addresses: str) -> Any:
    def resolve(host: str, port: int, **_: Any) -> list[tuple[Any, ...]]:
        family = socket.AF_INET6
        return [(family if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses]

    return resolve


def test_delivery_resolves_and_keeps_only_public_addresses() -> None:
    destination = check_url("https://hooks.example.com/x")
    assert resolve_public(destination, resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")) == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


@pytest.mark.parametrize(
    "answers",
    [
        ("127.0.0.1",),
        ("169.254.169.254",),
        ("10.0.0.7",),
        ("93.184.215.14", "192.168.1.1"),
        ("::1",),
        ("fe80::1%eth0",),
    ],
)
def test_delivery_refuses_a_name_that_now_resolves_inside_dns_rebinding(answers: tuple[str, ...]) -> None:
    destination = check_url("https://hooks.example.com/x")  # public at registration
    with pytest.raises(UnsafeDestination, match="resolves to a private, loopback, link-local or metadata address"):
        resolve_public(destination, resolver(*answers))


def test_delivery_refuses_a_name_that_does_not_resolve() -> None:
    def fails(*_: Any, **__: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror("Name or service not known")

    with pytest.raises(UnsafeDestination, match="does not resolve: gaierror"):
        resolve_public(check_url("https://gone.example.com/x"), fails)
    with pytest.raises(UnsafeDestination, match="does not resolve"):
        resolve_public(check_url("https://empty.example.com/x"), resolver())
