"""Point a function's ``live`` alias back at its previous published version, on a deployed stack.

``python -m ops.rollback --function <contract name>|all --suffix <environment suffix>
[--endpoint <url>] [--region <region>]`` prints one JSON line per function:
``{"function", "from", "to", "state_machines"}``.

Every event source invokes the ``live`` alias (API Gateway, event source mappings, S3, the
schedule), so moving it is the rollback for them, from their next invocation on. A state machine's
tasks name a function *version* (an execution keeps the version it started on: Step Functions runs
each execution on the definition it started with), so the rollback also rewrites the definition of
each state machine naming the rolled-back version to name the previous one: executions started
from then on run it, executions already running finish on the version they started with.

The previous version is the highest published version below the one the alias names; none is an
error. The change is out of band: `make drift` reports it until the next deploy (which publishes
and points the alias again). The target is only what the arguments say; credentials come from
boto3's usual chain. Errors print ``{"error": ...}`` and exit 1.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from payment_core.contract import FUNCTION_NAMES, LIVE_ALIAS, function_base_name

from ops.suffix_command import suffix_command


class RollbackError(RuntimeError):
    pass


def previous_version(versions: list[str], current: str) -> str:
    """The highest published version below ``current`` (``$LATEST`` is never one)."""
    published = sorted(int(v) for v in versions if v.isdigit())
    earlier = [v for v in published if v < int(current)]
    if not earlier:
        raise RollbackError(f"no published version before {current} to roll back to")
    return str(earlier[-1])


def _versions(lam: Any, function_name: str) -> list[str]:
    found: list[str] = []
    for page in lam.get_paginator("list_versions_by_function").paginate(FunctionName=function_name):
        found.extend(str(v["Version"]) for v in page["Versions"])
    return found


def _repoint_state_machines(sfn: Any, function_arn: str, current: str, previous: str) -> list[str]:
    """Rewrite every state machine whose definition names ``<function_arn>:<current>``."""
    old, new = f'"{function_arn}:{current}"', f'"{function_arn}:{previous}"'
    changed: list[str] = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            definition = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["definition"]
            if old in definition:
                sfn.update_state_machine(
                    stateMachineArn=machine["stateMachineArn"], definition=definition.replace(old, new)
                )
                changed.append(str(machine["name"]))
    return changed


def rollback(lam: Any, sfn: Any, function_name: str) -> dict[str, Any]:
    alias = lam.get_alias(FunctionName=function_name, Name=LIVE_ALIAS)
    current = str(alias["FunctionVersion"])
    if not current.isdigit():
        raise RollbackError(f"alias {LIVE_ALIAS} of {function_name} names {current}, not a published version")
    previous = previous_version(_versions(lam, function_name), current)
    function_arn = str(alias["AliasArn"]).rsplit(":", 1)[0]
    lam.update_alias(FunctionName=function_name, Name=LIVE_ALIAS, FunctionVersion=previous)
    machines = _repoint_state_machines(sfn, function_arn, current, previous)
    return {"function": function_name, "from": current, "to": previous, "state_machines": machines}


def main(argv: list[str] | None = None) -> int:
    parser = suffix_command("rollback", __doc__)
    parser.add_argument("--function", required=True, help=f"one of {', '.join(FUNCTION_NAMES)}, or all")
    args = parser.parse_args(argv)
    if args.function != "all" and args.function not in FUNCTION_NAMES:
        print(json.dumps({"error": f"function must be one of {sorted(FUNCTION_NAMES)} or all, got {args.function!r}"}))
        return 1
    names = FUNCTION_NAMES if args.function == "all" else (args.function,)
    session = boto3.session.Session(region_name=args.region)
    lam = session.client("lambda", endpoint_url=args.endpoint)
    sfn = session.client("stepfunctions", endpoint_url=args.endpoint)
    status = 0
    for name in names:
        function_name = f"{function_base_name(name)}-{args.suffix}"
        try:
            line = rollback(lam, sfn, function_name)
        except (RollbackError, ClientError, BotoCoreError) as error:
            line, status = {"error": str(error), "function": function_name}, 1
        print(json.dumps(line, sort_keys=True))
    return status


if __name__ == "__main__":
    sys.exit(main())
