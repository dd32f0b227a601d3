"""Credentials and customer data out of telemetry, and every store of execution data on the CMK
(issue #21): WAF logs and samples, Step Functions data, and ARNs in the region's partition."""

from __future__ import annotations

import pytest

from lib.config import config_for
from tests.security.iam import grants, role_id, role_policy_documents
from tests.unit.synth import SynthesizedStack, key_arn


def _waf_enabled(stack: SynthesizedStack) -> bool:
    return config_for(str(stack.stack.node.id).removeprefix("TapStack")).edge.waf_enabled


@pytest.mark.stacks
def test_the_credential_headers_are_the_api_key_and_the_secret_key() -> None:
    from lib.components.api import CREDENTIAL_HEADERS

    assert CREDENTIAL_HEADERS == ("x-api-key", "authorization")


def test_waf_logs_redact_every_credential_header(env_stack: SynthesizedStack) -> None:
    if not _waf_enabled(env_stack):
        assert env_stack.resources("aws_wafv2_web_acl_logging_configuration") == {}
        return
    logging = env_stack.only("aws_wafv2_web_acl_logging_configuration")
    assert logging["redacted_fields"] == [
        {"single_header": {"name": "x-api-key"}},
        {"single_header": {"name": "authorization"}},
    ]


def test_waf_data_protection_substitutes_the_credentials_in_logs_and_samples(env_stack: SynthesizedStack) -> None:
    if not _waf_enabled(env_stack):
        return
    acl = env_stack.only("aws_wafv2_web_acl")
    assert acl["data_protection_config"] == {
        "data_protection": [
            {
                "action": "SUBSTITUTION",
                "field": {"field_type": "SINGLE_HEADER", "field_keys": ["x-api-key", "authorization"]},
            }
        ]
    }


def test_waf_keeps_no_sampled_requests_and_keeps_its_metrics(env_stack: SynthesizedStack) -> None:
    if not _waf_enabled(env_stack):
        return
    acl = env_stack.only("aws_wafv2_web_acl")
    visibility = [acl["visibility_config"], *(rule["visibility_config"] for rule in acl["rule"])]
    assert len(visibility) == 6  # the ACL, the credential-shape rule, two managed groups, two rate rules
    for config in visibility:
        assert (config["sampled_requests_enabled"], config["cloudwatch_metrics_enabled"]) == (False, True)


def test_every_state_machine_encrypts_its_data_with_the_platform_key(env_stack: SynthesizedStack) -> None:
    machines = env_stack.resources("aws_sfn_state_machine")
    assert len(machines) == 2  # the payment workflow and the batch file machine
    for machine in machines.values():
        assert machine["encryption_configuration"] == {
            "type": "CUSTOMER_MANAGED_KMS_KEY",
            "kms_key_id": key_arn(env_stack),
            "kms_data_key_reuse_period_seconds": 900,
        }


def test_every_state_machine_role_may_use_the_key_for_its_data(env_stack: SynthesizedStack) -> None:
    """Step Functions encrypts and decrypts execution data as the machine's role."""
    documents = role_policy_documents(env_stack)
    machines = env_stack.resources("aws_sfn_state_machine").values()
    for role in {role_id(machine["role_arn"]) for machine in machines}:
        assert ("kms:Decrypt", key_arn(env_stack)) in grants(documents[role])
        assert ("kms:GenerateDataKey", key_arn(env_stack)) in grants(documents[role])


def test_no_arn_names_the_commercial_partition_by_hand(env_stack: SynthesizedStack) -> None:
    """GovCloud and China are arn:aws-us-gov: and arn:aws-cn:: every ARN the stack builds takes
    the data source's partition (the custom domain's certificate ARN is the deployment's input)."""
    certificate = env_stack.document["resource"].get("aws_api_gateway_domain_name", {})
    text = env_stack.text
    for domain in certificate.values():
        text = text.replace(domain["regional_certificate_arn"], "<the deployment's certificate>")
    assert "arn:aws:" not in text
    assert len(env_stack.document["data"]["aws_partition"]) == 1
