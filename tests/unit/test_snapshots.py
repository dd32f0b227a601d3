"""One committed snapshot per environment: a reviewer sees every change to what is deployed.

Asset hashes are normalized (they change with every handler edit). To accept a change:
``UPDATE_SNAPSHOTS=1 pipenv run pytest tests/unit/test_snapshots.py`` and commit the diff.
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from lib.config import ENVIRONMENTS
from tests.unit.synth import SynthesizedStack, normalized

SNAPSHOTS = Path(__file__).parent / "snapshots"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_synth_matches_snapshot(stacks: dict[str, SynthesizedStack], environment: str) -> None:
    current = json.dumps(json.loads(normalized(stacks[environment].text)), indent=2, sort_keys=True) + "\n"
    snapshot = SNAPSHOTS / f"{environment}.json"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(current)
    assert snapshot.exists(), f"no snapshot for {environment}: run with UPDATE_SNAPSHOTS=1"
    expected = snapshot.read_text()
    if current != expected:
        diff = "".join(
            difflib.unified_diff(expected.splitlines(True), current.splitlines(True), "snapshot", "synth", n=2)
        )
        pytest.fail(f"{environment} synth differs from its snapshot (UPDATE_SNAPSHOTS=1 to accept):\n{diff[:6000]}")
