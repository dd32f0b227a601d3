"""payment_core.tenancy.callers: the verified merchant, mismatches, scoped ids, no card numbers."""

from __future__ import annotations

import pytest
from payment_core.errors import InvalidRequest
from payment_core.tenancy.callers import (
    CardholderDataRefused,
    MerchantMismatch,
    MerchantUnidentified,
    bind_merchant,
    payment_id_for,
    refuse_cardholder_data,
    verified_merchant,
)


def test_the_merchant_comes_from_the_authorizer_context() -> None:
    assert verified_merchant({"authorizer": {"merchant_id": "m-1", "principalId": "m-1"}}) == "m-1"


@pytest.mark.parametrize("context", [None, {}, {"authorizer": None}, {"authorizer": {"merchant_id": ""}}])
def test_no_verified_merchant_is_an_error(context: dict[str, object] | None) -> None:
    with pytest.raises(MerchantUnidentified):
        verified_merchant(context)


def test_a_claimed_merchant_must_be_the_verified_one() -> None:
    assert bind_merchant(None, "m-1") == "m-1"
    assert bind_merchant("m-1", "m-1") == "m-1"
    with pytest.raises(MerchantMismatch) as refused:
        bind_merchant("m-2", "m-1")
    assert (refused.value.message, refused.value.field) == (
        "merchant_id does not match the merchant of this API key",
        "merchant_id",
    )


def test_payment_ids_are_scoped_per_merchant_and_stable() -> None:
    first = payment_id_for("m-1", "key-1")

    assert first == payment_id_for("m-1", "key-1")
    assert first != payment_id_for("m-2", "key-1")
    assert first.startswith("pay_") and len(first) == 36
    # The separator keeps ("m-1\nk", "x") and ("m-1", "k\nx") apart only if ids cannot hold "\n":
    # merchant ids are [A-Za-z0-9_-], so the merchant part never does.
    assert payment_id_for("m-1", "a") != payment_id_for("m-1a", "")


def test_cardholder_data_is_refused_naming_only_the_last_four() -> None:
    assert refuse_cardholder_data("cust-0042", "customer_ref") == "cust-0042"
    with pytest.raises(CardholderDataRefused) as refused:
        refuse_cardholder_data("card 4111 1111 1111 1111", "customer_ref")

    assert isinstance(refused.value, InvalidRequest)
    assert refused.value.field == "customer_ref"
    assert refused.value.message == (
        "customer_ref looks like a card number (ending 1111); send a tokenized reference instead"
    )
    assert "4111" not in refused.value.message
