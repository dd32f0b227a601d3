"""Per-currency maximum payment amounts.

One maximum for every currency caps JPY near 65 USD and lets KWD reach about 32,000 USD, so
each allowed currency has its own limit, written in that currency's major unit:
``"USD=10000,EUR=10000,JPY=1500000,KWD=3000"``. The configuration is the only source; a
currency without a limit, an unknown code, or a limit with more decimals than the currency
has minor units is a configuration error (``ValueError`` naming it), raised at cold start or
synth time, never at request time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from payment_core.errors import InvalidRequest
from payment_core.payments.money import MINOR_UNITS


@dataclass(frozen=True)
class CurrencyLimits:
    """The largest amount a payment may have, per currency."""

    maximums: Mapping[str, Decimal]

    @classmethod
    def parse(cls, raw: str, allowed: Iterable[str]) -> CurrencyLimits:
        maximums: dict[str, Decimal] = {}
        for entry in (part.strip() for part in raw.split(",") if part.strip()):
            code, separator, amount = entry.partition("=")
            code = code.strip()
            if not separator or code not in MINOR_UNITS:
                raise ValueError(f"currency limit {entry!r} is not CODE=AMOUNT with a supported currency code")
            if code in maximums:
                raise ValueError(f"currency limit for {code} is given twice")
            maximums[code] = _maximum(code, amount.strip())
        missing = sorted(set(allowed) - maximums.keys())
        if missing:
            raise ValueError(f"no maximum amount configured for {', '.join(missing)}")
        return cls(maximums=dict(sorted(maximums.items())))

    def render(self) -> str:
        """The setting's text form, what ``parse`` reads (stable order)."""
        return ",".join(f"{code}={amount}" for code, amount in sorted(self.maximums.items()))

    def maximum_for(self, currency: str) -> Decimal:
        return self.maximums[currency]

    def check(self, amount: Decimal, currency: str, field: str = "amount") -> Decimal:
        """``amount`` if within the currency's maximum, else ``InvalidRequest`` naming it."""
        maximum = self.maximums.get(currency)
        if maximum is None:
            raise InvalidRequest(f"currency {currency} is not accepted", "currency")
        if amount > maximum:
            raise InvalidRequest(f"amount must not exceed {maximum} {currency}", field)
        return amount


def _maximum(code: str, amount: str) -> Decimal:
    try:
        value = Decimal(amount)
    except InvalidOperation as exc:
        raise ValueError(f"maximum amount for {code} is not a number: {amount!r}") from exc
    if not value.is_finite() or value <= 0:
        raise ValueError(f"maximum amount for {code} must be a positive number")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and -exponent > MINOR_UNITS[code]:
        raise ValueError(f"maximum amount for {code} has more than {MINOR_UNITS[code]} decimal places")
    return value
