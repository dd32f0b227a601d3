"""moto's KMS makes every key's RSA key pair when the key is created, only when it is first used.

moto gives every KMS key, symmetric and HMAC keys included, a 2048-bit RSA key pair at
``CreateKey`` (~65 ms of CPU each): the handler tests' account holds two keys and is built
afresh for every test, so key generation was about a quarter of their setup CPU. Deferred,
the pair is generated on the key's first sign, verify or public-key request, the same pair
type for the same key spec: what moto answers is unchanged, only when the CPU is spent.
"""

from __future__ import annotations

from typing import Any

from moto.kms import models as kms_models
from moto.kms.utils import AbstractPrivateKey, generate_private_key


class DeferredKeyPair:
    """Stands in for moto's key pair; makes it on the first use of any of its attributes."""

    def __init__(self, key_spec: str) -> None:
        self._key_spec = key_spec
        self._key_pair: AbstractPrivateKey | None = None

    def __getattr__(self, name: str) -> Any:
        # Only called for names the stand-in itself lacks: every one of the key pair's.
        if self._key_pair is None:
            self._key_pair = generate_private_key(self._key_spec)
        return getattr(self._key_pair, name)


def defer_kms_key_pairs() -> None:
    """From now on, in this process, moto KMS keys make their key pair on first use."""
    setattr(kms_models, "generate_private_key", DeferredKeyPair)  # noqa: B010  (moto does not export the name)
