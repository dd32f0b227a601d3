"""The IAM rules the least-privilege gate applies (tests/security/iam.py) catch what they claim to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.iam import identity_policy_violations


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"sid": "A", "actions": ["*"], "resources": ["arn:x"]}, "A: wildcard action *"),
        ({"sid": "B", "actions": ["dynamodb:*"], "resources": ["arn:x"]}, "B: wildcard action dynamodb:*"),
        ({"sid": "C", "actions": ["dynamodb:GetItem"], "resources": ["*"]}, "C: resource * for ['dynamodb:GetItem']"),
        ({"sid": "D", "not_actions": ["iam:*"], "resources": ["arn:x"]}, "D: not_actions grants everything not listed"),
    ],
)
def test_the_wildcard_rules_catch_what_they_claim_to(statement: dict[str, Any], problem: str) -> None:
    assert identity_policy_violations({"statement": [statement]}) == [problem]
    # X-Ray's "*" is the one accepted shape, and a Deny is never a grant.
    fine = [
        {"sid": "T", "actions": ["xray:PutTraceSegments"], "resources": ["*"]},
        {"sid": "N", "effect": "Deny", "actions": ["s3:*"], "resources": ["*"]},
    ]
    assert identity_policy_violations({"statement": fine}) == []
