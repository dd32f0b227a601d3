"""payment_core.payments.cardholder_data: Luhn-valid 13-19 digit runs in free text, however the
digits are written or separated."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from payment_core.payments.cardholder_data import contains_pan, find_pan, luhn_valid, mask

# Test PANs published by the card networks (Luhn-valid), 13 to 19 digits.
VISA_16 = "4111111111111111"
VISA_13 = "4222222222222"
AMEX_15 = "378282246310005"


# Full-width forms (U+FF01-FF5E) are ASCII + 0xFEE0: written so, the source stays ASCII.
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)}


def with_check_digit(body: str) -> str:
    """``body`` plus the digit that makes it Luhn-valid."""
    return next(body + str(d) for d in range(10) if luhn_valid(body + str(d)))


def digits_of(text: str) -> str:
    """The ASCII digits a reader sees in ``text``."""
    return "".join(str(unicodedata.decimal(c)) for c in unicodedata.normalize("NFKC", text) if c.isdecimal())


def test_known_test_numbers_are_luhn_valid_and_neighbours_are_not() -> None:
    for pan in (VISA_16, VISA_13, AMEX_15, with_check_digit("675964982643845300")):
        assert luhn_valid(pan)
    assert not luhn_valid("4111111111111112")


@pytest.mark.parametrize(
    "text",
    [
        VISA_16,
        "card 4111 1111 1111 1111 thanks",
        "4111-1111-1111-1111",
        f"ref:{AMEX_15}",
        f"x{VISA_13}y",
        "order 12 4111 1111 1111 1111",  # an unrelated number before the PAN
        "4111 1111 1111 1111 exp 12",  # and after it
        with_check_digit("675964982643845300"),  # 19 digits
        "3782-822463-10005",  # Amex grouping
        "4111111111111111".translate(FULL_WIDTH),  # full-width digits
        "4111-1111-1111-1111".translate(FULL_WIDTH),  # and full-width dashes
        "4111.1111.1111.1111",
        "4111/1111/1111/1111",
        "4111  1111  1111  1111",  # any run of separators joins groups
        "4111_1111_1111_1111",
        "4111 / 1111 / 1111 / 1111",
        "(4111) 1111,1111;1111",
        "④①①① 1111 1111 1111",  # circled digits: NFKC makes them ASCII
        "٤١١١ 1111 1111 1111",  # Arabic-Indic digits count by their value
    ],
)
def test_a_pan_in_free_text_is_found(text: str) -> None:
    found = find_pan(text)

    assert found is not None
    assert digits_of(text[found.start : found.end])[-4:] == found.last_four
    assert len(digits_of(text[found.start : found.end])) in range(13, 20)


@pytest.mark.parametrize(
    "text",
    [
        "4111111111111112",  # Luhn fails
        "411111111111",  # 12 digits: too short even though a prefix of a PAN
        "cust-000123",
        "invoice 2024/118 for order 55",
        "A4111B1111C1111D1111",  # letters end a run: an alphanumeric reference
        "4111111111111112".translate(FULL_WIDTH),  # full-width, but Luhn fails
        "12345678901234567890123",  # one unbroken 23-digit reference: not a PAN
        "",
    ],
)
def test_text_without_a_pan_passes(text: str) -> None:
    assert find_pan(text) is None
    assert not contains_pan(text)


def test_mask_keeps_only_the_last_four_digits() -> None:
    masked = mask("pay with 4111-1111-1111-1111 or 378282246310005 today")

    assert masked == "pay with ****1111 or ****0005 today"
    assert "411111" not in masked.replace("-", "")


@given(st.text(alphabet="0123456789 -./abc" + "4".translate(FULL_WIDTH), max_size=60))
def test_mask_leaves_no_pan_behind(text: str) -> None:
    assert find_pan(mask(text)) is None


@given(st.integers(min_value=12, max_value=18), st.data())
def test_every_generated_pan_is_found(body_length: int, data: st.DataObject) -> None:
    body = data.draw(st.text(alphabet="0123456789", min_size=body_length, max_size=body_length))
    pan = with_check_digit(body)
    prefix = data.draw(st.sampled_from(["", "ref ", "id:", "a-"]))

    found = find_pan(prefix + pan)

    assert found is not None and found.last_four == pan[-4:]
