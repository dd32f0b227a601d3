"""TLS 1.2 at least: staging and prod answer only on their custom domain (edge.custom_domain_required)."""

from __future__ import annotations

from lib.config import config_for
from lib.settings import EXAMPLE_CUSTOM_DOMAIN
from tests.unit.synth import SynthesizedStack


def _environment(stack: SynthesizedStack) -> str:
    return str(stack.stack.node.id).removeprefix("TapStack")


def test_the_custom_domain_has_a_tls_1_2_policy_and_the_stage_at_its_root(env_stack: SynthesizedStack) -> None:
    environment = _environment(env_stack)
    rest_api = env_stack.only("aws_api_gateway_rest_api")
    outputs = env_stack.document["output"]
    if not config_for(environment).edge.custom_domain_required:
        assert env_stack.resources("aws_api_gateway_domain_name") == {}
        assert env_stack.resources("aws_api_gateway_base_path_mapping") == {}
        assert rest_api["disable_execute_api_endpoint"] is False
        stage = env_stack.only("aws_api_gateway_stage")
        assert outputs["api_endpoint_url"]["value"] == env_stack.reference_of(
            "aws_api_gateway_stage", stage, "invoke_url"
        )
        assert "api_domain_target" not in outputs
        return
    domain = env_stack.only("aws_api_gateway_domain_name")
    assert domain == {
        "domain_name": f"api.{environment}.example.com",
        "regional_certificate_arn": EXAMPLE_CUSTOM_DOMAIN["API_CERTIFICATE_ARN"],
        "endpoint_configuration": {"types": ["REGIONAL"]},
        "security_policy": "TLS_1_2",
    }
    mapping = env_stack.only("aws_api_gateway_base_path_mapping")
    stage = env_stack.only("aws_api_gateway_stage")
    assert mapping == {
        "api_id": env_stack.reference_of("aws_api_gateway_rest_api", rest_api, "id"),
        "stage_name": env_stack.reference_of("aws_api_gateway_stage", stage, "stage_name"),
        "domain_name": env_stack.reference_of("aws_api_gateway_domain_name", domain, "domain_name"),
    }
    # The default endpoint (TLS 1.0 and up) answers nothing once the domain is there.
    assert rest_api["disable_execute_api_endpoint"] is True
    assert outputs["api_endpoint_url"]["value"] == f"https://api.{environment}.example.com"
    assert outputs["api_domain_target"]["value"] == env_stack.reference_of(
        "aws_api_gateway_domain_name", domain, "regional_domain_name"
    )
    assert outputs["api_domain_zone_id"]["value"] == env_stack.reference_of(
        "aws_api_gateway_domain_name", domain, "regional_zone_id"
    )
