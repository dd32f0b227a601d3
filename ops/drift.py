"""Does a deployed environment still match its code? ``terraform plan -detailed-exitcode`` against
the stack's real state, the drifted resources printed by name.

``python -m ops.drift --stack-dir cdktf.out/stacks/TapStack<suffix>`` (after ``terraform init`` in
that directory; ``make drift ENVIRONMENT=<env>`` does both) prints one line per resource the plan
would change: ``<address>: <actions> (<attributes that differ>)``, with ``; changed outside
Terraform`` when the refresh found it changed since the last apply. Exit status: 0 no drift,
2 drift (the plan's own code: a scheduled job fails loudly on it), 1 the plan failed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PLAN_FILE = "drift.tfplan"
NO_CHANGES, FAILED, CHANGES = 0, 1, 2


@dataclass(frozen=True)
class Drift:
    address: str
    actions: tuple[str, ...]  # ("update",), ("delete", "create"), ...
    attributes: tuple[str, ...]  # the top-level attributes that differ (empty for a create or delete)
    outside_terraform: bool  # the refresh found the resource changed since the last apply

    def line(self) -> str:
        what = ", ".join(self.actions)
        if self.attributes:
            what += f" ({', '.join(self.attributes)})"
        return f"{self.address}: {what}" + ("; changed outside Terraform" if self.outside_terraform else "")


def _changed_keys(before: Any, after: Any) -> tuple[str, ...]:
    if not isinstance(before, dict) or not isinstance(after, dict):
        return ()
    return tuple(sorted(k for k in set(before) | set(after) if k in after and before.get(k) != after.get(k)))


def drifts_of(plan: Mapping[str, Any]) -> list[Drift]:
    """The resources ``terraform show -json <plan>`` would change, each with what differs."""
    outside = {drifted["address"] for drifted in plan.get("resource_drift", [])}
    found: list[Drift] = []
    for planned in plan.get("resource_changes", []):
        change = planned["change"]
        if change["actions"] in (["no-op"], ["read"]):
            continue
        keys = _changed_keys(change.get("before"), change.get("after"))
        found.append(Drift(planned["address"], tuple(change["actions"]), keys, planned["address"] in outside))
    return found


def check(stack_dir: Path, env: Mapping[str, str] | None = None) -> tuple[int, list[Drift], str]:
    """Plan ``stack_dir`` with a detailed exit code; the code, the drifts, and the plan's output."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=stack_dir, env=env, capture_output=True, text=True, check=False)

    planned = run("terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", f"-out={PLAN_FILE}")
    output = planned.stdout + planned.stderr
    if planned.returncode not in (NO_CHANGES, CHANGES):
        return FAILED, [], output
    shown = run("terraform", "show", "-json", PLAN_FILE)
    if shown.returncode != 0:
        return FAILED, [], output + shown.stdout + shown.stderr
    return planned.returncode, drifts_of(json.loads(shown.stdout)), output


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ops.drift", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack-dir", type=Path, required=True, help="the synthesized stack, initialised")
    args = parser.parse_args(argv)
    code, drifts, output = check(args.stack_dir)
    if code == FAILED:
        print(output[-4000:], file=sys.stderr)
        print(f"drift: terraform plan failed in {args.stack_dir}", file=sys.stderr)
        return FAILED
    for drift in drifts:
        print(drift.line())
    print(f"drift: {len(drifts)} resource(s) differ from the code" if drifts else "drift: none")
    return code


if __name__ == "__main__":
    sys.exit(main())
