"""Versioned code: every function publishes a version per deploy; every event source invokes its
``live`` alias; the state machines name the version the deploy published (an execution keeps the
version it started on)."""

from __future__ import annotations

import json
import re

from payment_core.contract import FUNCTION_NAMES, LIVE_ALIAS

from tests.unit.synth import SynthesizedStack


def _suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def _function(stack: SynthesizedStack, name: str) -> dict:  # type: ignore[type-arg]
    return stack.named("aws_lambda_function", "function_name", f"payment-{name.replace('_', '-')}-{_suffix(stack)}")


def test_every_function_publishes_and_has_a_live_alias_on_the_published_version(env_stack: SynthesizedStack) -> None:
    functions = env_stack.resources("aws_lambda_function")
    assert len(functions) == len(FUNCTION_NAMES)
    assert all(function["publish"] is True for function in functions.values())
    aliases = env_stack.resources("aws_lambda_alias").values()
    assert len(aliases) == len(FUNCTION_NAMES)
    for name in FUNCTION_NAMES:
        function = _function(env_stack, name)
        function_name = env_stack.reference_of("aws_lambda_function", function, "function_name")
        (alias,) = [a for a in aliases if a["function_name"] == function_name]
        assert alias["name"] == LIVE_ALIAS == "live"
        assert alias["function_version"] == env_stack.reference_of("aws_lambda_function", function, "version")


def test_nothing_invokes_latest(env_stack: SynthesizedStack) -> None:
    """No unqualified function ARN feeds an invoker: API integrations and authorizer, event source
    mappings, the S3 notification, the schedule, and API Gateway's and S3's permissions."""
    text = env_stack.text
    assert not re.search(r"aws_lambda_function\.[^.]+\.invoke_arn", text)
    for mapping in env_stack.resources("aws_lambda_event_source_mapping").values():
        assert mapping["function_name"].startswith("${aws_lambda_alias.")
    (notification,) = env_stack.only("aws_s3_bucket_notification")["lambda_function"]
    assert notification["lambda_function_arn"].startswith("${aws_lambda_alias.")
    assert env_stack.only("aws_scheduler_schedule")["target"]["arn"].startswith("${aws_lambda_alias.")
    permissions = env_stack.resources("aws_lambda_permission").values()
    # API Gateway: the API (payments, events, webhook_endpoints) and the authorizer; S3: batch_ingest
    assert len(permissions) == 5
    for permission in permissions:
        (alias,) = [
            a
            for a in env_stack.resources("aws_lambda_alias").values()
            if a["function_name"] == permission["function_name"]
        ]
        assert permission["qualifier"] == env_stack.reference_of("aws_lambda_alias", alias, "name")


def test_state_machines_name_the_published_version(env_stack: SynthesizedStack) -> None:
    """Step Functions runs an execution on the definition it started with, so naming the version
    (not the alias, which Lambda resolves per invocation) keeps an execution on its version."""
    for machine_name, function_name in (("payment-workflow", "workflow"), ("batch-file", "batch_ingest")):
        machines = [
            m for m in env_stack.resources("aws_sfn_state_machine").values() if m["name"].startswith(machine_name)
        ]
        (machine,) = machines
        version = env_stack.reference_of("aws_lambda_function", _function(env_stack, function_name), "qualified_arn")
        # The definition is a jsonencode() expression: references appear bare, literals quoted.
        references = set(re.findall(r'"Resource" = (aws_lambda_[a-z]+\.[^,}\s]+)', machine["definition"]))
        assert {f"${{{reference}}}" for reference in references} == {version}, json.dumps(sorted(references))
