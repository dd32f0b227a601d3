"""The list page-token MAC keys are versioned (api.page_token_key_version): the stack holds the
current key (it signs) and the previous one (it verifies); the api function is told both and may
use exactly those two; an older key is gone from the stack (Terraform schedules its deletion)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from cdktf import Testing

from lib.config import config_for
from lib.config.api import ApiConfig
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_settings
from tests.unit.synth import SynthesizedStack

# Every test here builds a stack of its own or imports the provider: the stack worker (testkit/stack_scheduling.py).
pytestmark = pytest.mark.stacks


def _mac_keys(stack: SynthesizedStack) -> dict[str, dict[str, Any]]:
    return {
        logical_id: key
        for logical_id, key in stack.resources("aws_kms_key").items()
        if key.get("key_usage") == "GENERATE_VERIFY_MAC"
    }


def _grant(stack: SynthesizedStack) -> dict[str, Any]:
    documents = stack.document["data"]["aws_iam_policy_document"].values()
    (grant,) = [s for d in documents for s in d.get("statement", []) if s.get("sid") == "SignListTokens"]
    return dict(grant)


def _api_variables(stack: SynthesizedStack, suffix: str) -> dict[str, str]:
    function = stack.named("aws_lambda_function", "function_name", f"payment-api-{suffix}")
    return dict(function["environment"]["variables"])


def test_as_first_deployed_one_key_version_1_signs_and_there_is_no_previous(dev: SynthesizedStack) -> None:
    (logical_id,) = _mac_keys(dev)
    arn = f"${{aws_kms_key.{logical_id}.arn}}"
    variables = _api_variables(dev, "dev")

    assert logical_id.startswith("platform_keys_page_token_key_")  # the unversioned key's address
    assert (variables["PAGE_TOKEN_KEY_ID"], variables["PAGE_TOKEN_KEY_VERSION"]) == (arn, "1")
    assert variables["PAGE_TOKEN_PREVIOUS_KEY_ID"] == ""
    assert (_grant(dev)["actions"], _grant(dev)["resources"]) == (["kms:GenerateMac", "kms:VerifyMac"], [arn])


@pytest.fixture(scope="module")
def at_version_3() -> SynthesizedStack:
    from lib.tap_stack import synth_environments

    settings = preset_settings(alarm_subscribers=SYNTH_ONLY_SUBSCRIBERS)["dev"]
    config = replace(settings.config, api=replace(settings.config.api, page_token_key_version=3))
    settings = replace(settings, config=config, environment_suffix="rot")
    (stack,) = synth_environments(Testing.app(), {"rot": settings}).values()
    return SynthesizedStack(stack=stack, text=Testing.synth(stack))


def test_after_two_rotations_the_stack_holds_versions_3_and_2_only(at_version_3: SynthesizedStack) -> None:
    keys = _mac_keys(at_version_3)
    by_description = {key["description"]: logical_id for logical_id, key in keys.items()}
    assert sorted(by_description) == [
        "Payment platform list-token MAC key v2 (rot)",
        "Payment platform list-token MAC key v3 (rot)",
    ]
    current = f"${{aws_kms_key.{by_description['Payment platform list-token MAC key v3 (rot)']}.arn}}"
    previous = f"${{aws_kms_key.{by_description['Payment platform list-token MAC key v2 (rot)']}.arn}}"
    variables = _api_variables(at_version_3, "rot")

    assert variables["PAGE_TOKEN_KEY_VERSION"] == "3"
    assert (variables["PAGE_TOKEN_KEY_ID"], variables["PAGE_TOKEN_PREVIOUS_KEY_ID"]) == (current, previous)
    assert _grant(at_version_3)["resources"] == [current, previous]
    assert all(key["customer_master_key_spec"] == "HMAC_256" for key in keys.values())


def test_the_version_is_at_least_1() -> None:
    with pytest.raises(ValueError) as refused:
        replace(config_for("dev").api, page_token_key_version=0)
    assert str(refused.value) == "page_token_key_version must be at least 1, got 0"
    assert ApiConfig(1, 1, False).page_token_key_version == 1
