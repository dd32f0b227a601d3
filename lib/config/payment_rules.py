"""The business rules' slice of the config: what payments the API accepts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from payment_core import contract

from lib.config.checks import require

_CURRENCY_PATTERN = re.compile(contract.CURRENCY_PATTERN)
_MERCHANT_ID_PATTERN = re.compile(contract.MERCHANT_ID_PATTERN)


@dataclass(frozen=True)
class PaymentRules:
    max_amounts: Mapping[str, str]  # per allowed currency, major unit (one for all: JPY ~65 USD)
    allowed_currencies: tuple[str, ...]
    blocked_merchant_ids: tuple[str, ...] = ()

    @property
    def max_amounts_setting(self) -> str:  # MAX_PAYMENT_AMOUNT: CUR=AMOUNT pairs, sorted
        return ",".join(f"{currency}={amount}" for currency, amount in sorted(self.max_amounts.items()))

    def __post_init__(self) -> None:
        for currency, amount in self.max_amounts.items():
            try:
                maximum = Decimal(amount)
            except InvalidOperation:
                maximum = Decimal(0)
            require(
                maximum.is_finite() and maximum > 0,
                f"max_amounts[{currency}] must be a positive decimal string, got {amount!r}",
            )
        require(len(self.allowed_currencies) >= 1, "allowed_currencies must not be empty")
        missing = sorted(set(self.allowed_currencies) - set(self.max_amounts))
        require(not missing, f"max_amounts has no maximum for {', '.join(missing)}")
        for currency in self.allowed_currencies:
            require(
                bool(_CURRENCY_PATTERN.fullmatch(currency)),
                f"allowed_currencies must hold ISO-4217 codes, got {currency!r}",
            )
        for merchant_id in self.blocked_merchant_ids:
            require(
                bool(_MERCHANT_ID_PATTERN.fullmatch(merchant_id)),
                f"blocked_merchant_ids holds an invalid merchant id: {merchant_id!r}",
            )
