"""The business rules a payment is checked against, read only by the functions that check them.

``api`` and ``queue_consumer`` refuse a request that breaks them, ``batch_ingest`` a row, and
the workflow's Validate step re-checks every payment (and also refuses blocked merchants).
A function that reads them lists MAX_PAYMENT_AMOUNT and ALLOWED_CURRENCIES in its
``contract.FUNCTION_ENVIRONMENT``; the others (``authorizer``, ``workflow_starter``) are never given them.
"""

from __future__ import annotations

from dataclasses import dataclass

from payment_core import contract
from payment_core.payments.currency_limits import CurrencyLimits
from payment_core.payments.money import parse_currencies
from payment_core.settings import FunctionVariables


@dataclass(frozen=True)
class BusinessRules:
    """What a payment request must satisfy besides its shape."""

    amount_limits: CurrencyLimits  # the largest amount per currency (MAX_PAYMENT_AMOUNT: CUR=AMOUNT,...)
    allowed_currencies: frozenset[str]
    blocked_merchant_ids: frozenset[str] = frozenset()

    @classmethod
    def read(cls, variables: FunctionVariables, *, blocking: bool = False) -> BusinessRules:
        """Amount and currency limits; with ``blocking``, also the blocked merchants (the workflow's)."""
        allowed = parse_currencies(variables.required(contract.ALLOWED_CURRENCIES))
        try:
            limits = CurrencyLimits.parse(variables.required(contract.MAX_PAYMENT_AMOUNT), allowed)
        except ValueError as exc:
            raise ValueError(f"{contract.MAX_PAYMENT_AMOUNT}: {exc}") from exc
        return cls(
            amount_limits=limits,
            allowed_currencies=allowed,
            blocked_merchant_ids=variables.names(contract.BLOCKED_MERCHANT_IDS) if blocking else frozenset(),
        )
