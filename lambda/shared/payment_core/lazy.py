"""Create AWS clients on first use, and let tests swap them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built by ``factory`` the first time it is needed.

    Module-level clients built at import time would bind to whatever endpoint and
    credentials exist then; building on first use lets tests (and the emulator) set
    the environment first, and ``override`` injects a fake outright.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None

    def get(self) -> T:
        if self._value is None:
            self._value = self._factory()
        return self._value

    def override(self, value: T) -> None:
        self._value = value

    def reset(self) -> None:
        self._value = None
