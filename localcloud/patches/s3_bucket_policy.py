"""Bucket policies: treat emulator requests as TLS so a deny-non-TLS statement works.

moto 5.2.5 evaluates a bucket's policy on object operations even without IAM auth mode
(``moto/s3/responses.py`` key handling → ``FakeBucket.get_permission``), but it passes no
condition context, and its condition evaluator (``moto/iam/policy_conditions.py``) only knows
``StringEquals``: any other operator is skipped, i.e. treated as matching. A statement such
as ``Deny s3:* if {"Bool": {"aws:SecureTransport": "false"}}`` therefore denies every
request: PutObject/GetObject answer 403 and the batch pipeline cannot run. Verified with
tests/localcloud/fixtures/terraform.

The emulator listens on 127.0.0.1 only; this patch supplies ``aws:SecureTransport=true``
and teaches moto's evaluator the ``Bool`` operator, so the statement behaves as it does for
the stack's clients on AWS (which all use TLS). Other operators are still skipped by moto,
so a Deny conditioned on them would still match everything.

A second moto bug makes it worse: ``IAMPolicyStatement.is_action_permitted`` returns DENIED
whenever a statement's condition does *not* hold, whatever its Effect (so even a
``Bool aws:SecureTransport=true`` Deny or an unmatched conditional Allow denies). On AWS a
statement whose condition does not hold simply does not apply; the patch returns NEUTRAL.
"""

from __future__ import annotations

from typing import Any

CONDITION_CONTEXT = {"aws:SecureTransport": "true", "aws:securetransport": "true"}


def _bool_operation(expected_value: list[str] | str, actual_value: str) -> bool:
    expected = expected_value if isinstance(expected_value, list) else [expected_value]
    return str(actual_value).lower() in {str(value).lower() for value in expected}


def apply() -> None:
    from moto.iam import policy_conditions
    from moto.iam.access_control import IAMPolicy, IAMPolicyStatement, PermissionResult

    policy_conditions.CONDITION_OPERATIONS.setdefault("Bool", _bool_operation)
    original_statement_check = IAMPolicyStatement.is_action_permitted

    def is_action_permitted(
        self: Any,
        action: str,
        resource: str = "*",
        principal: str | None = None,
        incoming_condition_values: dict[str, str] | None = None,
    ) -> Any:
        if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
            return PermissionResult.NEUTRAL  # the statement does not apply
        return original_statement_check(self, action, resource, principal, incoming_condition_values)

    IAMPolicyStatement.is_action_permitted = is_action_permitted  # type: ignore[method-assign]
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = IAMPolicy(self.policy.decode())
        return policy.is_action_permitted(action, resource, incoming_condition_values=dict(CONDITION_CONTEXT))

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
