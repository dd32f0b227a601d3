"""Names, for every suffix: any suffix tap.py accepts yields names within each AWS limit, and
any suffix outside the rule is refused before a construct is built, naming the rule.

(The one test of names: tests/unit used to hold a second copy of the limits and the check.)

The dev stack is synthesized once; each example substitutes its suffix into dev's names.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.naming import SUFFIX_PATTERN, SUFFIX_RULE, validate_suffix
from lib.settings import preset_environ, read_settings
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
}

# S3's rules for bucket names beyond length: lowercase letters, digits, hyphens and dots,
# alphanumeric at both ends, no IP-address shape, no reserved prefix or suffix.
_S3_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_S3_RESERVED = (re.compile(r"^xn--|^sthree-|^amzn-s3-demo-"), re.compile(r"-s3alias$|--ol-s3$|--x-s3$|\.mrap$"))
# The execution log group API Gateway writes to is named by it: API-Gateway-Execution-Logs_<api id>/<stage>.
EXECUTION_LOG_GROUP_PREFIX = "API-Gateway-Execution-Logs_"
# Where dev's suffix sits in a name: at the end, or before the role/policy ending.
_DEV_SUFFIX = re.compile(r"-dev($|-role$|-policy$)")

allowed_suffixes = st.from_regex(SUFFIX_PATTERN, fullmatch=True)


def _name_templates(stack: SynthesizedStack) -> list[tuple[str, str, int]]:
    """(resource type, name with {suffix} in place of dev's, limit) for every named resource."""
    templates = []
    for (resource_type, field), limit in LIMITS.items():
        resources = stack.resources(resource_type)
        assert resources, f"no {resource_type} in the stack"
        for resource in resources.values():
            if resource[field].startswith(EXECUTION_LOG_GROUP_PREFIX):
                continue  # API Gateway's own name: unique by API id, ~50 characters whatever the suffix
            name = re.sub(r"\$\{data\.aws_caller_identity\.[^}]+\}", ACCOUNT_ID, resource[field])
            assert _DEV_SUFFIX.search(name), f"{name} does not carry the suffix"
            templates.append((resource_type, _DEV_SUFFIX.sub(r"-{suffix}\1", name), limit))
    return templates


@pytest.fixture(scope="module")
def name_templates(dev: SynthesizedStack) -> list[tuple[str, str, int]]:
    return _name_templates(dev)


def test_the_brief_limits_are_the_ones_checked() -> None:
    assert {
        ("aws_s3_bucket", "bucket"): 63,
        ("aws_lambda_function", "function_name"): 64,
        ("aws_iam_role", "name"): 64,
        ("aws_sqs_queue", "name"): 80,
        ("aws_cloudwatch_log_group", "name"): 512,
        ("aws_cloudwatch_metric_alarm", "alarm_name"): 255,
        ("aws_sfn_state_machine", "name"): 80,
    }.items() <= LIMITS.items()


def test_the_longest_suffix_is_accepted_and_every_name_then_fits(name_templates: list[tuple[str, str, int]]) -> None:
    assert validate_suffix(LONGEST_SUFFIX) == LONGEST_SUFFIX
    with pytest.raises(ValueError):
        validate_suffix(LONGEST_SUFFIX + "a")
    names = [(t, template.format(suffix=LONGEST_SUFFIX), limit) for t, template, limit in name_templates]
    assert [(t, n, len(n), limit) for t, n, limit in names if len(n) > limit] == []
    assert sorted(n for t, n, _ in names if t == "aws_s3_bucket") == [
        f"payment-batch-{ACCOUNT_ID}-{LONGEST_SUFFIX}",
        f"payment-start-give-ups-{ACCOUNT_ID}-{LONGEST_SUFFIX}",
    ]


@settings(max_examples=200, deadline=None)
@given(suffix=allowed_suffixes)
def test_every_allowed_suffix_fits_every_limit(name_templates: list[tuple[str, str, int]], suffix: str) -> None:
    assert read_settings({"ENVIRONMENT_SUFFIX": suffix}).environment_suffix == suffix
    too_long = []
    for resource_type, template, limit in name_templates:
        name = template.format(suffix=suffix)
        if len(name) > limit:
            too_long.append((resource_type, name, len(name), limit))
        if resource_type == "aws_s3_bucket":
            assert _S3_NAME.fullmatch(name) and ".." not in name, name
            assert not any(reserved.search(name) for reserved in _S3_RESERVED), name
            assert not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name)
    assert too_long == []


def _refused(suffix: str) -> str:
    with pytest.raises(ValueError) as refusal:
        read_settings({"ENVIRONMENT": "dev", "ENVIRONMENT_SUFFIX": suffix})
    return str(refusal.value)


def _assert_refused_naming_the_rule(suffix: str) -> None:
    assert _refused(suffix) == f"ENVIRONMENT_SUFFIX must be {SUFFIX_RULE}, got {suffix!r}"


@settings(max_examples=50, deadline=None)
@given(suffix=allowed_suffixes.filter(lambda s: re.search("[a-z]", s)), data=st.data())
def test_uppercase_is_refused(suffix: str, data: st.DataObject) -> None:
    letters = [i for i, c in enumerate(suffix) if c.isalpha()]
    index = data.draw(st.sampled_from(letters))
    _assert_refused_naming_the_rule(suffix[:index] + suffix[index].upper() + suffix[index + 1 :])


@settings(max_examples=50, deadline=None)
@given(suffix=allowed_suffixes, data=st.data())
def test_underscore_is_refused(suffix: str, data: st.DataObject) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(suffix)))
    _assert_refused_naming_the_rule(suffix[:index] + "_" + suffix[index:])


@settings(max_examples=50, deadline=None)
@given(suffix=st.from_regex(r"[a-z0-9]{21,64}", fullmatch=True))
def test_too_long_is_refused(suffix: str) -> None:
    _assert_refused_naming_the_rule(suffix)


@settings(max_examples=50, deadline=None)
@given(suffix=allowed_suffixes)
def test_leading_or_trailing_hyphen_is_refused(suffix: str) -> None:
    _assert_refused_naming_the_rule("-" + suffix)
    _assert_refused_naming_the_rule(suffix + "-")


@settings(max_examples=50, deadline=None)
@given(suffix=st.text(min_size=1, max_size=20).filter(lambda s: not SUFFIX_PATTERN.fullmatch(s)))
def test_anything_else_outside_the_rule_is_refused(suffix: str) -> None:
    _assert_refused_naming_the_rule(suffix)


def test_empty_is_refused_and_unset_means_the_environment() -> None:
    _assert_refused_naming_the_rule("")
    # A pattern's "$" also matches before a final newline; the rule must not.
    _assert_refused_naming_the_rule("pr42\n")
    unset_suffix = {
        name: value
        for name, value in preset_environ("staging", "oncall@payments.internal").items()
        if name != "ENVIRONMENT_SUFFIX"
    }
    assert read_settings(unset_suffix).environment_suffix == "staging"
