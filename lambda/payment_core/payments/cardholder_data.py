"""Cardholder data never enters the platform: find primary account numbers (PANs) in free text.

The platform takes tokenized references only (PCI DSS scope reduction). A PAN is 13 to 19
digits (ISO/IEC 7812) whose last digit is the Luhn check digit. Clients type them with
single spaces or dashes between digit groups (``4111 1111 1111 1111``,
``4111-1111-1111-1111``), so a candidate is any run of digit groups joined by one space or
dash whose digits number 13 to 19 and pass the Luhn check. Every contiguous span of groups is
tried, so a PAN after an unrelated number (``order 12 4111 1111 1111 1111``) is still found.
A single unbroken digit group longer than 19 digits is a reference number, not a PAN, and is
not searched inside (that would flag one window in ten of any long number).

Nothing here logs or returns the digits: ``mask`` keeps the last four, as PCI DSS 3.4.1
allows for display.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PAN_MIN_DIGITS = 13
PAN_MAX_DIGITS = 19

# Digit groups joined by exactly one space or dash; the run ends at anything else.
_GROUPED_DIGITS = re.compile(r"[0-9]+(?:[ -][0-9]+)*")


@dataclass(frozen=True)
class PanFound:
    """Where a PAN sits in the text (``start``/``end`` index the text) and its last four digits."""

    start: int
    end: int
    last_four: str

    @property
    def masked(self) -> str:
        return f"****{self.last_four}"


def luhn_valid(digits: str) -> bool:
    """True if the digit string ends with its Luhn check digit."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _groups(run: str, offset: int) -> list[tuple[int, int, str]]:
    return [(offset + m.start(), offset + m.end(), m.group()) for m in re.finditer(r"[0-9]+", run)]


def find_pan(text: str) -> PanFound | None:
    """The first Luhn-valid 13-19 digit run in ``text`` (spaces or dashes allowed), else None."""
    for run in _GROUPED_DIGITS.finditer(text):
        groups = _groups(run.group(), run.start())
        for first in range(len(groups)):
            digits = ""
            for last in range(first, len(groups)):
                digits += groups[last][2]
                if len(digits) > PAN_MAX_DIGITS:
                    break
                if len(digits) >= PAN_MIN_DIGITS and luhn_valid(digits):
                    return PanFound(start=groups[first][0], end=groups[last][1], last_four=digits[-4:])
    return None


def contains_pan(text: str) -> bool:
    return find_pan(text) is not None


def mask(text: str) -> str:
    """``text`` with every PAN replaced by ``****<last four>`` (safe to log)."""
    parts: list[str] = []
    rest = text
    while (found := find_pan(rest)) is not None:
        parts.append(rest[: found.start] + found.masked)
        rest = rest[found.end :]
    return "".join(parts) + rest
