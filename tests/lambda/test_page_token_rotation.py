"""Page-token MAC key rotation (payment_core.api.page_tokens.KeyRing): tokens name the version of
the key that signed them; the current key signs, current and previous verify, an older version
is refused as retired (400 on ``next_token``), a version not yet in use as invalid."""

from __future__ import annotations

import pytest
from payment_core.api.page_tokens import INVALID, RETIRED, HmacSha256, KeyRing, PageQuery, PageTokens
from payment_core.errors import InvalidRequest

QUERY = PageQuery("m-1", "2026-01-01T00:00:00.000000Z", "2026-12-31T23:59:59.999999Z")
KEY = {"payment_id": "pay_1", "merchant_id": "m-1", "created_at": "2026-06-01T00:00:00.000000Z"}
NOW = 1_800_000_000.0
SECRETS = {version: bytes([version]) * 32 for version in range(1, 5)}


def at_version(version: int) -> PageTokens:
    """The stack at ``version``: that key signs, the one before (if any) still verifies."""
    previous = HmacSha256(SECRETS[version - 1]) if version > 1 else None
    return PageTokens(KeyRing(version, HmacSha256(SECRETS[version]), previous), clock=lambda: NOW)


def refusal(codec: PageTokens, token: str) -> str:
    with pytest.raises(InvalidRequest) as error:
        codec.read(token, QUERY)
    assert error.value.field == "next_token"
    return error.value.message


def test_tokens_name_the_key_version_that_signed_them() -> None:
    assert at_version(1).issue(QUERY, KEY).startswith("v2.1.")
    assert at_version(3).issue(QUERY, KEY).startswith("v2.3.")


def test_after_a_rotation_the_previous_keys_tokens_still_read_and_new_ones_use_the_new_key() -> None:
    before = at_version(1).issue(QUERY, KEY)

    after = at_version(2)

    assert after.read(before, QUERY) == KEY
    assert after.issue(QUERY, KEY).startswith("v2.2.")
    assert after.read(after.issue(QUERY, KEY), QUERY) == KEY


def test_a_token_of_a_retired_key_is_refused_as_retired() -> None:
    token = at_version(1).issue(QUERY, KEY)

    assert refusal(at_version(3), token) == RETIRED
    assert RETIRED == "next_token was signed with a retired key; list again without it"


def test_a_token_naming_the_previous_version_but_signed_otherwise_is_invalid() -> None:
    """The version in the token picks the verifying key; it cannot pick a key that would pass."""
    forged = at_version(2).issue(QUERY, KEY).replace("v2.2.", "v2.1.", 1)

    assert refusal(at_version(2), forged) == INVALID


def test_a_version_newer_than_the_current_one_is_invalid() -> None:
    """A token from after a rotation that was rolled back: not one this stack's keys signed."""
    token = at_version(3).issue(QUERY, KEY)

    assert refusal(at_version(2), token) == INVALID


def test_version_one_has_no_previous_key() -> None:
    with pytest.raises(ValueError, match=r"^version 1 has no previous key$"):
        KeyRing(1, HmacSha256(SECRETS[1]), HmacSha256(SECRETS[2]))
    with pytest.raises(ValueError, match=r"^current_version must be at least 1, got 0$"):
        KeyRing(0, HmacSha256(SECRETS[1]))


def test_a_rotation_with_the_previous_key_missing_refuses_its_tokens_as_retired() -> None:
    """Version 2 deployed without its previous key (PAGE_TOKEN_PREVIOUS_KEY_ID empty)."""
    token = at_version(1).issue(QUERY, KEY)
    codec = PageTokens(KeyRing(2, HmacSha256(SECRETS[2])), clock=lambda: NOW)

    assert refusal(codec, token) == RETIRED
