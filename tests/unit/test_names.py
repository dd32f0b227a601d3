"""Every generated name stays within its AWS limit for the longest suffix tap.py accepts."""

from __future__ import annotations

import re

import pytest

from lib.naming import validate_suffix
from tests.unit.synth import SynthesizedStack

LONGEST_SUFFIX = "a" * 20
ACCOUNT_ID = "123456789012"
# (resource type, name field) -> AWS's maximum length
LIMITS = {
    ("aws_s3_bucket", "bucket"): 63,
    ("aws_lambda_function", "function_name"): 64,
    ("aws_lambda_layer_version", "layer_name"): 140,
    ("aws_iam_role", "name"): 64,
    ("aws_iam_role_policy", "name"): 128,
    ("aws_sqs_queue", "name"): 80,
    ("aws_sns_topic", "name"): 256,
    ("aws_dynamodb_table", "name"): 255,
    ("aws_cloudwatch_log_group", "name"): 512,
    ("aws_cloudwatch_metric_alarm", "alarm_name"): 255,
    ("aws_cloudwatch_dashboard", "dashboard_name"): 255,
    ("aws_sfn_state_machine", "name"): 80,
    ("aws_kms_alias", "name"): 256,
    ("aws_api_gateway_rest_api", "name"): 1024,
    ("aws_api_gateway_usage_plan", "name"): 1024,
    ("aws_api_gateway_api_key", "name"): 1024,
}


def _names_with_longest_suffix(stack: SynthesizedStack) -> list[tuple[str, str, int]]:
    found = []
    for (resource_type, field), limit in LIMITS.items():
        resources = stack.resources(resource_type)
        assert resources, f"no {resource_type} in the stack"
        for resource in resources.values():
            name = re.sub(r"\$\{data\.aws_caller_identity\.[^}]+\}", ACCOUNT_ID, resource[field])
            assert re.search(r"-dev($|-role$|-policy$)", name), f"{name} does not carry the suffix"
            longest = re.sub(r"-dev($|-role$|-policy$)", rf"-{LONGEST_SUFFIX}\1", name)
            found.append((resource_type, longest, limit))
    return found


def test_longest_suffix_is_accepted() -> None:
    assert validate_suffix(LONGEST_SUFFIX) == LONGEST_SUFFIX
    with pytest.raises(ValueError):
        validate_suffix(LONGEST_SUFFIX + "a")


def test_every_name_fits_its_limit(dev: SynthesizedStack) -> None:
    too_long = [(t, n, len(n), limit) for t, n, limit in _names_with_longest_suffix(dev) if len(n) > limit]
    assert too_long == []


def test_bucket_name_is_a_valid_s3_name(dev: SynthesizedStack) -> None:
    names = [n for t, n, _ in _names_with_longest_suffix(dev) if t == "aws_s3_bucket"]
    assert names == [f"payment-batch-{ACCOUNT_ID}-{LONGEST_SUFFIX}"]
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", n) for n in names)
