"""payment_core.payments.currency_limits: one maximum per currency, checked at configuration time."""

from __future__ import annotations

from decimal import Decimal

import pytest
from payment_core.errors import InvalidRequest
from payment_core.payments.currency_limits import CurrencyLimits

SETTING = "USD=10000,EUR=10000,JPY=1500000,KWD=3000"


def test_each_currency_has_its_own_maximum() -> None:
    limits = CurrencyLimits.parse(SETTING, {"USD", "JPY", "KWD"})

    assert limits.maximum_for("JPY") == Decimal(1500000)
    assert limits.check(Decimal(1500000), "JPY") == Decimal(1500000)
    assert limits.check(Decimal("3000.000"), "KWD") == Decimal(3000)
    assert limits.render() == "EUR=10000,JPY=1500000,KWD=3000,USD=10000"
    assert CurrencyLimits.parse(limits.render(), {"USD"}) == limits


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        (Decimal("1500001"), "JPY", "amount must not exceed 1500000 JPY"),
        (Decimal("3000.001"), "KWD", "amount must not exceed 3000 KWD"),
        (Decimal("10000.01"), "USD", "amount must not exceed 10000 USD"),
    ],
)
def test_over_the_currency_maximum_is_refused(amount: Decimal, currency: str, message: str) -> None:
    limits = CurrencyLimits.parse(SETTING, set())

    with pytest.raises(InvalidRequest) as refused:
        limits.check(amount, currency)

    assert (refused.value.message, refused.value.field) == (message, "amount")


@pytest.mark.parametrize(
    ("setting", "allowed", "message"),
    [
        ("USD=10000", {"USD", "JPY"}, "no maximum amount configured for JPY"),
        ("USD:10000", {"USD"}, "currency limit 'USD:10000' is not CODE=AMOUNT with a supported currency code"),
        ("XXX=1", set(), "currency limit 'XXX=1' is not CODE=AMOUNT with a supported currency code"),
        ("USD=1,USD=2", {"USD"}, "currency limit for USD is given twice"),
        ("USD=abc", {"USD"}, "maximum amount for USD is not a number: 'abc'"),
        ("USD=0", {"USD"}, "maximum amount for USD must be a positive number"),
        ("USD=Infinity", {"USD"}, "maximum amount for USD must be a positive number"),
        ("JPY=10.5", {"JPY"}, "maximum amount for JPY has more than 0 decimal places"),
    ],
)
def test_bad_settings_are_configuration_errors(setting: str, allowed: set[str], message: str) -> None:
    with pytest.raises(ValueError) as refused:
        CurrencyLimits.parse(setting, allowed)

    assert str(refused.value) == message
