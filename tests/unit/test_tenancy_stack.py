"""The stack side of issue #11: merchants table, authorizer, per-tier plans, list-token key, WAF."""

from __future__ import annotations

import json

from lib.config import config_for
from tests.unit.synth import SynthesizedStack


def edge_suffix(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def _config(stack: SynthesizedStack):  # type: ignore[no-untyped-def]
    return config_for(stack.stack.node.id.removeprefix("TapStack"))


def test_every_method_is_authorized_by_the_merchant_authorizer(env_stack: SynthesizedStack) -> None:
    authorizer = env_stack.only("aws_api_gateway_authorizer")
    assert (authorizer["type"], authorizer["identity_source"]) == ("REQUEST", "method.request.header.Authorization")
    # API keys meter and authenticate nothing: API Gateway takes the one the authorizer names.
    assert env_stack.only("aws_api_gateway_rest_api")["api_key_source"] == "AUTHORIZER"
    assert authorizer["authorizer_result_ttl_in_seconds"] == _config(env_stack).tenancy.authorizer_cache_ttl_seconds
    assert authorizer["authorizer_result_ttl_in_seconds"] == 0  # revocation at once (docs/architecture.md)
    authorizer_ref = env_stack.reference_of("aws_api_gateway_authorizer", authorizer, "id")
    for method in env_stack.resources("aws_api_gateway_method").values():
        assert (method["authorization"], method["authorizer_id"], method["api_key_required"]) == (
            "CUSTOM",
            authorizer_ref,
            True,
        )


def test_the_authorizer_reads_only_the_merchants_table(dev: SynthesizedStack) -> None:
    table = dev.named("aws_dynamodb_table", "name", "merchants-dev")
    assert table["hash_key"] == "pk"
    function = dev.named("aws_lambda_function", "function_name", "payment-authorizer-dev")
    assert function["environment"]["variables"]["MERCHANTS_TABLE_NAME"] == dev.reference_of(
        "aws_dynamodb_table", table, "name"
    )


def test_list_tokens_are_signed_by_an_hmac_key_only_the_api_uses(dev: SynthesizedStack) -> None:
    key = next(k for k in dev.resources("aws_kms_key").values() if k.get("key_usage") == "GENERATE_VERIFY_MAC")
    assert key["customer_master_key_spec"] == "HMAC_256"
    api = dev.named("aws_lambda_function", "function_name", "payment-api-dev")
    assert api["environment"]["variables"]["PAGE_TOKEN_KEY_ID"] == dev.reference_of("aws_kms_key", key, "arn")


def test_the_web_acl_is_a_knob_on_in_staging_and_prod(env_stack: SynthesizedStack) -> None:
    edge = _config(env_stack).edge
    acls = env_stack.resources("aws_wafv2_web_acl")
    associations = env_stack.resources("aws_wafv2_web_acl_association")
    if not edge.waf_enabled:
        assert acls == {} and associations == {}
        return
    acl = env_stack.only("aws_wafv2_web_acl")
    assert acl["scope"] == "REGIONAL"
    rules = {rule["name"]: rule for rule in acl["rule"]}
    assert [(rule["name"], rule["priority"]) for rule in acl["rule"]] == [
        ("malformed-credential", 1),
        ("AWSManagedRulesCommonRuleSet", 10),
        ("AWSManagedRulesKnownBadInputsRuleSet", 20),
        ("rate-per-credential", 30),
        ("rate-per-source-ip", 40),
    ]
    for group in ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"):
        assert rules[group]["statement"] == {"managed_rule_group_statement": {"name": group, "vendor_name": "AWS"}}
        assert rules[group]["override_action"] == {"none": {}}
    # A merchant's requests are counted together whatever IP they come from (its secret key, in
    # the Authorization header: not x-api-key, which authenticates nothing and a client may
    # leave out or vary), and a flood of made-up keys from one address by its IP; both limits
    # sit above every tier's plan.
    assert rules["rate-per-credential"]["statement"] == {
        "rate_based_statement": {
            "limit": edge.rate_limit_per_5_minutes,
            "aggregate_key_type": "CUSTOM_KEYS",
            "custom_key": [
                {"header": {"name": "authorization", "text_transformation": [{"priority": 0, "type": "NONE"}]}}
            ],
        }
    }
    assert rules["rate-per-source-ip"]["statement"] == {
        "rate_based_statement": {"limit": edge.rate_limit_per_5_minutes, "aggregate_key_type": "IP"}
    }
    # First: a request without a secret-key-shaped Authorization header (missing: no match)
    # is blocked before it costs an authorizer run.
    assert rules["malformed-credential"]["statement"] == {
        "not_statement": {
            "statement": [
                {
                    "regex_match_statement": {
                        "regex_string": "^[Bb][Ee][Aa][Rr][Ee][Rr] sk_[A-Za-z0-9]{48}$",
                        "field_to_match": {"single_header": {"name": "authorization"}},
                        "text_transformation": [{"priority": 0, "type": "NONE"}],
                    }
                }
            ]
        }
    }
    for name in ("malformed-credential", "rate-per-credential", "rate-per-source-ip"):
        assert rules[name]["action"] == {"block": {}}
    logging = env_stack.only("aws_wafv2_web_acl_logging_configuration")
    log_group = env_stack.named(
        "aws_cloudwatch_log_group", "name", f"aws-waf-logs-payments-api-edge-{edge_suffix(env_stack)}"
    )
    assert logging["log_destination_configs"] == [env_stack.reference_of("aws_cloudwatch_log_group", log_group, "arn")]
    association = env_stack.only("aws_wafv2_web_acl_association")
    stage = env_stack.only("aws_api_gateway_stage")
    assert association["resource_arn"] == env_stack.reference_of("aws_api_gateway_stage", stage, "arn")
    assert association["web_acl_arn"] == env_stack.reference_of("aws_wafv2_web_acl", acl, "arn")


def test_staging_and_prod_synthesize_the_web_acl(stacks: dict[str, SynthesizedStack]) -> None:
    assert [name for name in ("dev", "staging", "prod") if stacks[name].resources("aws_wafv2_web_acl")] == [
        "staging",
        "prod",
    ]


def test_onboarding_reads_its_targets_from_the_outputs(dev: SynthesizedStack) -> None:
    outputs = dev.document["output"]
    assert "api_key_id" not in outputs  # no shared key: every credential is a merchant's
    plans = outputs["merchant_usage_plan_ids"]["value"]
    assert sorted(plans) == sorted(tier.name for tier in config_for("dev").tenancy.merchant_tiers)
    assert outputs["merchants_table_name"]["value"].startswith("${aws_dynamodb_table.")
    json.dumps(outputs)
