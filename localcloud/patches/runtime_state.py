"""Process-wide facts the patches need (set once by localcloud.server)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RuntimeState:
    endpoint: str = ""
    state_dir: Path = field(default_factory=lambda: Path(".localcloud"))


RUNTIME = RuntimeState()
