"""Read-back differences that make ``terraform plan`` show drift right after ``apply``.

Verified with tests/localcloud/fixtures/terraform (hashicorp/aws 5.100.0, moto 5.2.5): without
these patches a plan after apply reports exactly two in-place updates:

* ``aws_sqs_queue.redrive_policy`` "whitespace changes": moto stores the policy as a dict and
  returns ``json.dumps(policy)`` (``", "``/``": "`` separators, ``moto/sqs/models.py``
  ``Queue.attributes``) while the provider writes compact JSON; AWS returns it compact. Patched
  to return compact JSON.
* ``aws_lambda_function.dead_letter_config``: moto ignores ``DeadLetterConfig`` on
  CreateFunction/UpdateFunctionConfiguration and never returns it
  (``LambdaFunction.get_configuration``). Patched to keep and return it as AWS does.

With both patches the stack needs no emulator-only ``ignore_changes``.
"""

from __future__ import annotations

import json
from typing import Any


def _patch_sqs_redrive_policy() -> None:
    from moto.sqs.models import Queue

    original = Queue.attributes

    def attributes(self: Any) -> dict[str, Any]:
        result: dict[str, Any] = original.fget(self)  # type: ignore[attr-defined]
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy, separators=(",", ":"))
        return result

    Queue.attributes = property(attributes)  # type: ignore[assignment,method-assign]


def _patch_lambda_dead_letter_config() -> None:
    from moto.awslambda.models import LambdaFunction

    original_init = LambdaFunction.__init__
    original_update = LambdaFunction.update_configuration
    original_get = LambdaFunction.get_configuration

    def __init__(self: Any, account_id: str, spec: dict[str, Any], *args: Any, **kw: Any) -> None:
        original_init(self, account_id, spec, *args, **kw)
        self.dead_letter_config = spec.get("DeadLetterConfig") or None

    def update_configuration(self: Any, config_updates: dict[str, Any]) -> dict[str, Any]:
        if "DeadLetterConfig" in config_updates:
            target = (config_updates["DeadLetterConfig"] or {}).get("TargetArn")
            self.dead_letter_config = {"TargetArn": target} if target else None
        return original_update(self, config_updates)

    def get_configuration(self: Any, on_create: bool = False) -> dict[str, Any]:
        config: dict[str, Any] = original_get(self, on_create)
        dead_letter_config = getattr(self, "dead_letter_config", None)
        if dead_letter_config and dead_letter_config.get("TargetArn"):
            config["DeadLetterConfig"] = {"TargetArn": dead_letter_config["TargetArn"]}
        return config

    LambdaFunction.__init__ = __init__  # type: ignore[method-assign]
    LambdaFunction.update_configuration = update_configuration  # type: ignore[method-assign]
    LambdaFunction.get_configuration = get_configuration  # type: ignore[method-assign]


def apply() -> None:
    _patch_sqs_redrive_policy()
    _patch_lambda_dead_letter_config()
