"""docs/webhooks.md: the verifier merchants copy is the tested one, and its vectors hold."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from payment_core.events import verifier
from payment_core.events.signature import signature_header
from payment_core.events.verifier import InvalidSignature, verify_signature

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")


def _block(after_heading: str, language: str) -> str:
    section = DOC.split(after_heading, 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match, f"no {language} block after {after_heading!r}"
    return match.group(1)


VECTORS: list[dict[str, Any]] = json.loads(_block("### Test vectors", "json"))


def test_the_documented_verifier_is_the_module_verbatim() -> None:
    assert _block("### Verifying a delivery", "python") == Path(verifier.__file__).read_text(encoding="utf-8")


def test_the_vectors_cover_rotation_tolerance_and_tampering() -> None:
    assert len(VECTORS) >= 8
    assert {vector["valid"] for vector in VECTORS} == {True, False}
    assert any(vector["header"].count("v1=") == 2 for vector in VECTORS)


@pytest.mark.parametrize("vector", VECTORS, ids=[vector["name"] for vector in VECTORS])
def test_each_vector_verifies_as_documented(vector: dict[str, Any]) -> None:
    body = vector["body"].encode()
    if vector["valid"]:
        assert verify_signature(body, vector["header"], vector["secret"], now=vector["now"]) == int(
            vector["header"].split(",")[0].removeprefix("t=")
        )
    else:
        with pytest.raises(InvalidSignature):
            verify_signature(body, vector["header"], vector["secret"], now=vector["now"])


def test_the_signer_produces_the_documented_headers() -> None:
    one, rotation = VECTORS[0], VECTORS[1]
    timestamp = int(one["header"].split(",")[0].removeprefix("t="))
    assert signature_header([one["secret"]], timestamp, one["body"].encode()) == one["header"]
    old_secret = VECTORS[2]["secret"]
    assert signature_header([rotation["secret"], old_secret], timestamp, one["body"].encode()) == rotation["header"]


@pytest.mark.parametrize(
    "header",
    ["", "v1=abc", "t=12,t=13,v1=abc", "t=-5,v1=abc", "t=1x,v1=abc", "t=12"],
)
def test_a_malformed_header_is_refused(header: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_signature(b"{}", header, "whsec_x", now=12)


def test_no_secret_signs_nothing() -> None:
    with pytest.raises(ValueError, match="at least one secret"):
        signature_header([], 1, b"{}")
