"""ops.drift's reading of ``terraform show -json`` (the plan itself: tests/e2e/test_lifecycle.py)."""

from __future__ import annotations

from ops.drift import Drift, drifts_of

PLAN = {
    "resource_drift": [
        {
            "address": "aws_sqs_queue.dlq",
            "change": {"actions": ["update"], "before": {"delay": 0}, "after": {"delay": 5}},
        }
    ],
    "resource_changes": [
        {"address": "aws_sqs_queue.queue", "change": {"actions": ["no-op"], "before": {}, "after": {}}},
        {"address": "data.aws_iam_policy_document.doc", "change": {"actions": ["read"], "before": None, "after": {}}},
        {
            "address": "aws_sqs_queue.dlq",
            "change": {"actions": ["update"], "before": {"delay": 5, "name": "d"}, "after": {"delay": 0, "name": "d"}},
        },
        {"address": "aws_lambda_alias.live", "change": {"actions": ["delete", "create"], "before": {}, "after": {}}},
    ],
}


def test_only_changing_resources_are_drift_each_with_what_differs() -> None:
    assert drifts_of(PLAN) == [
        Drift("aws_sqs_queue.dlq", ("update",), ("delay",), True),
        Drift("aws_lambda_alias.live", ("delete", "create"), (), False),
    ]
    assert [d.line() for d in drifts_of(PLAN)] == [
        "aws_sqs_queue.dlq: update (delay); changed outside Terraform",
        "aws_lambda_alias.live: delete, create",
    ]


def test_a_plan_without_changes_has_no_drift() -> None:
    assert drifts_of({"resource_changes": [PLAN["resource_changes"][0]]}) == []
