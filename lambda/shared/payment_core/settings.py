"""Typed view of the function environment (names from ``environment.py``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from payment_core import environment as env
from payment_core.money import parse_currencies


@dataclass(frozen=True)
class BusinessRules:
    max_payment_amount: Decimal
    allowed_currencies: frozenset[str]
    blocked_merchant_ids: frozenset[str] = frozenset()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BusinessRules:
        source = os.environ if environ is None else environ
        raw_max = source[env.MAX_PAYMENT_AMOUNT]
        try:
            maximum = Decimal(raw_max)
        except InvalidOperation as exc:
            raise ValueError(f"{env.MAX_PAYMENT_AMOUNT} is not a number: {raw_max!r}") from exc
        if not maximum.is_finite() or maximum <= 0:
            raise ValueError(f"{env.MAX_PAYMENT_AMOUNT} must be a positive number")
        blocked = frozenset(
            merchant.strip() for merchant in source.get(env.BLOCKED_MERCHANT_IDS, "").split(",") if merchant.strip()
        )
        return cls(
            max_payment_amount=maximum,
            allowed_currencies=parse_currencies(source[env.ALLOWED_CURRENCIES]),
            blocked_merchant_ids=blocked,
        )


def required(name: str, environ: Mapping[str, str] | None = None) -> str:
    """Read a variable the stack must set; a missing one is a deployment bug."""
    source = os.environ if environ is None else environ
    value = source.get(name, "")
    if not value:
        raise RuntimeError(f"environment variable {name} is not set")
    return value
