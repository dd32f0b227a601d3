"""The security gates reuse the unit suite's session fixtures: one synth per environment per run."""

from __future__ import annotations

from tests.unit.conftest import dev, env_stack, local, prod, stacks  # noqa: F401
