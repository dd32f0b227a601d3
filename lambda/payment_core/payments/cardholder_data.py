"""Cardholder data never enters the platform: find primary account numbers (PANs) in free text.

The platform takes tokenized references only (PCI DSS scope reduction). A PAN is 13 to 19
digits (ISO/IEC 7812) whose last digit is the Luhn check digit. The screen must not be dodged
by how the digits are written, so each character is first NFKC-normalised (full-width and
circled digits, superscripts become ASCII digits; any other Unicode decimal digit counts by its
value) and every character that is neither a letter nor a digit is a separator: spaces,
``-``, ``.``, ``/``, ``_``, full-width punctuation, runs of them. A candidate is any run of
digit groups joined by separators whose digits number 13 to 19 and pass the Luhn check.
Every contiguous span of groups is tried, so a PAN after an unrelated number
(``order 12 4111 1111 1111 1111``) is still found. A letter ends a run: ``A12B34`` is an
identifier, and reading letters as separators would flag one alphanumeric reference in ten.
A single unbroken digit group longer than 19 digits is a reference number, not a PAN, and is
not searched inside (that would flag one window in ten of any long number).

Nothing here logs or returns the digits: ``mask`` keeps the last four, as PCI DSS 3.4.1
allows for display.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

PAN_MIN_DIGITS = 13
PAN_MAX_DIGITS = 19


@dataclass(frozen=True)
class PanFound:
    """Where a PAN sits in the text (``start``/``end`` index the text) and its last four digits."""

    start: int
    end: int
    last_four: str

    @property
    def masked(self) -> str:
        return f"****{self.last_four}"


@dataclass
class _Group:
    """Consecutive digit characters of the original text, as ASCII digits."""

    start: int
    end: int
    digits: str


def luhn_valid(digits: str) -> bool:
    """True if the ASCII digit string ends with its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _runs(text: str) -> Iterator[list[_Group]]:
    """The runs of digit groups in ``text``: groups split by separators, runs split by letters.

    Each character is normalised on its own, so the groups index the original text (NFKC may
    turn one character into several: ``⑴`` is ``(1)``, a digit between two separators).
    """
    run: list[_Group] = []
    in_group = False
    for index, char in enumerate(text):
        for part in unicodedata.normalize("NFKC", char):
            if part.isdecimal():
                digit = str(unicodedata.decimal(part))
                if in_group:
                    run[-1].digits += digit
                    run[-1].end = index + 1
                else:
                    run.append(_Group(index, index + 1, digit))
                    in_group = True
            elif part.isalnum():  # a letter, or a numeral that is no decimal digit (Ⅻ): ends the run
                if run:
                    yield run
                run, in_group = [], False
            else:  # a separator: ends the group, not the run
                in_group = False
    if run:
        yield run


def find_pan(text: str) -> PanFound | None:
    """The first Luhn-valid 13-19 digit run in ``text`` (whatever separates its digits), else None."""
    for groups in _runs(text):
        for first in range(len(groups)):
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last].digits
                if len(digits) > PAN_MAX_DIGITS:
                    break
                if len(digits) >= PAN_MIN_DIGITS and luhn_valid(digits):
                    return PanFound(start=groups[first].start, end=groups[last].end, last_four=digits[-4:])
    return None


def contains_pan(text: str) -> bool:
    return find_pan(text) is not None


def mask(text: str) -> str:
    """``text`` with every PAN replaced by ``****<last four>`` (safe to log).

    The text is searched again from the start after each replacement: ``*`` is a separator, so
    a masked last four and the digits after it could form another candidate.
    """
    while (found := find_pan(text)) is not None:
        text = text[: found.start] + found.masked + text[found.end :]
    return text
