"""Money: decimal strings in, ``Decimal`` inside, never ``float``.

An amount is written as plain digits with at most the currency's minor-unit digits
(``"10"``, ``"10.5"``, ``"10.50"`` for USD; ``"1000"`` for JPY). No sign, exponent,
leading zeros, separators or surrounding spaces. It must be > 0 and <= the configured
maximum.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from payment_core import contract
from payment_core.errors import InvalidRequest

# ISO 4217 minor units for the currencies the platform can be configured with.
MINOR_UNITS: dict[str, int] = {
    "AUD": 2,
    "BHD": 3,
    "CAD": 2,
    "CHF": 2,
    "CZK": 2,
    "DKK": 2,
    "EUR": 2,
    "GBP": 2,
    "HKD": 2,
    "ISK": 0,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "NOK": 2,
    "NZD": 2,
    "PLN": 2,
    "SEK": 2,
    "SGD": 2,
    "USD": 2,
}

# The handler's exact form (no leading zeros; decimal places checked per currency below); API
# Gateway's model checks the looser contract.AMOUNT_PATTERN with the same digit bound.
_AMOUNT = re.compile(rf"(0|[1-9][0-9]{{0,{contract.AMOUNT_MAX_INTEGER_DIGITS - 1}}})(?:\.([0-9]+))?")


def parse_currencies(raw: str) -> frozenset[str]:
    """Parse the comma-separated ALLOWED_CURRENCIES value; unknown codes are a config error."""
    codes = frozenset(code.strip().upper() for code in raw.split(",") if code.strip())
    unknown = sorted(codes - MINOR_UNITS.keys())
    if unknown:
        raise ValueError(f"unsupported currencies in configuration: {', '.join(unknown)}")
    if not codes:
        raise ValueError("no currencies configured")
    return codes


def parse_currency(value: object, allowed: Iterable[str], field: str = "currency") -> str:
    allowed_set = frozenset(allowed)
    if not isinstance(value, str):
        raise InvalidRequest("currency must be a string", field)
    if value not in allowed_set:
        raise InvalidRequest(f"currency must be one of {', '.join(sorted(allowed_set))}", field)
    return value


def parse_amount(value: object, currency: str, maximum: Decimal, field: str = "amount") -> Decimal:
    """Turn a client's decimal string into an exact ``Decimal`` or raise ``InvalidRequest``."""
    if not isinstance(value, str):
        raise InvalidRequest('amount must be a decimal string such as "10.50"', field)
    match = _AMOUNT.fullmatch(value)
    if match is None:
        raise InvalidRequest('amount must be a plain decimal string such as "10.50"', field)
    fraction = match.group(2)
    digits = MINOR_UNITS[currency]
    if fraction is not None and len(fraction) > digits:
        raise InvalidRequest(f"amount has more than {digits} decimal places for {currency}", field)
    amount = Decimal(value)
    if amount <= 0:
        raise InvalidRequest("amount must be greater than zero", field)
    if amount > maximum:
        raise InvalidRequest(f"amount must not exceed {maximum}", field)
    return amount


def format_amount(amount: Decimal, currency: str) -> str:
    """Render with exactly the currency's minor-unit digits: ``Decimal("10.5")`` -> ``"10.50"``."""
    digits = MINOR_UNITS[currency]
    return str(amount.quantize(Decimal(1).scaleb(-digits)))
