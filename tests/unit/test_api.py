"""REST API: validated, keyed, throttled, logged, redeployed on change."""

from __future__ import annotations

import json
import re

from cdktf import Testing

from lib.config import config_for
from lib.gateway_responses import GATEWAY_ANSWERS
from tests.unit.synth import SynthesizedStack, key_arn


def test_api_is_regional(dev: SynthesizedStack) -> None:
    api = dev.only("aws_api_gateway_rest_api")
    assert api["name"] == "payments-api-dev"
    assert api["endpoint_configuration"] == {"types": ["REGIONAL"]}


def test_every_method_requires_the_api_key_and_proxies_to_the_handler(dev: SynthesizedStack) -> None:
    methods = dev.resources("aws_api_gateway_method")
    # POST /payments, GET /payments, GET /payments/{payment_id}, POST .../capture and .../void,
    # GET /events, GET /events/{event_id}, POST .../refunds, GET .../refunds/{refund_id};
    # POST and GET /webhook_endpoints, GET and DELETE
    # /webhook_endpoints/{endpoint_id}, POST .../rotate_secret
    assert sorted(m["http_method"] for m in methods.values()) == ["DELETE", *["GET"] * 7, *["POST"] * 6]
    assert all(m["api_key_required"] is True for m in methods.values())
    handler = dev.named("aws_lambda_function", "function_name", "payment-api-dev")
    for integration in dev.resources("aws_api_gateway_integration").values():
        assert integration["type"] == "AWS_PROXY"
        assert integration["uri"] == dev.live_reference(handler, "invoke_arn")


def test_create_payment_is_validated_at_the_edge(dev: SynthesizedStack) -> None:
    posts = [m for m in dev.resources("aws_api_gateway_method").values() if m["http_method"] == "POST"]
    [post] = [m for m in posts if "request_models" in m and m.get("request_parameters")]
    assert post["request_parameters"] == {"method.request.header.Idempotency-Key": True}
    model = dev.named("aws_api_gateway_model", "name", "CreatePayment")
    assert post["request_models"] == {"application/json": dev.reference_of("aws_api_gateway_model", model, "name")}
    validator = dev.only("aws_api_gateway_request_validator")
    assert (validator["validate_request_body"], validator["validate_request_parameters"]) == (True, True)
    schema = json.loads(model["schema"])
    # merchant_id is optional: the merchant is the API key's (the handler refuses another one).
    assert schema["required"] == ["amount", "currency", "customer_ref"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["capture"] == {"type": "string", "enum": ["automatic", "manual"]}


def test_capture_and_void_are_routes_of_one_payment_behind_the_authorizer(dev: SynthesizedStack) -> None:
    resources = {r["path_part"]: r for r in dev.resources("aws_api_gateway_resource").values()}
    payment = dev.reference_of("aws_api_gateway_resource", resources["{payment_id}"], "id")
    authorizer = dev.reference_of("aws_api_gateway_authorizer", dev.only("aws_api_gateway_authorizer"), "id")
    for part in ("capture", "void"):
        assert resources[part]["parent_id"] == payment
        resource = dev.reference_of("aws_api_gateway_resource", resources[part], "id")
        [method] = [m for m in dev.resources("aws_api_gateway_method").values() if m["resource_id"] == resource]
        wanted = ("POST", "CUSTOM", authorizer)
        assert (method["http_method"], method["authorization"], method["authorizer_id"]) == wanted
        assert method["request_parameters"] == {"method.request.path.payment_id": True}


def test_gateway_refusals_answer_in_the_handlers_error_shape(dev: SynthesizedStack) -> None:
    responses = {r["response_type"]: r for r in dev.resources("aws_api_gateway_gateway_response").values()}
    assert sorted(responses) == sorted(GATEWAY_ANSWERS)
    template = json.loads(responses["BAD_REQUEST_BODY"]["response_templates"]["application/json"])
    assert template == {
        "error": {
            "code": "invalid_request",
            "message": "the request body does not match the API's schema",
            "type": "$context.error.responseType",
            "request_id": "$context.requestId",
        }
    }


def test_stage_is_named_after_the_environment_with_json_access_logs(env_stack: SynthesizedStack) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    stage = env_stack.only("aws_api_gateway_stage")
    assert stage["stage_name"] == config.environment
    assert stage["xray_tracing_enabled"] is True
    log_format = json.loads(stage["access_log_settings"]["format"])
    assert log_format["requestId"] == "$context.requestId"
    assert log_format["status"] == "$context.status"
    log_group = env_stack.named(
        "aws_cloudwatch_log_group", "name", f"/aws/apigateway/payments-api-{config.environment}"
    )
    assert stage["access_log_settings"]["destination_arn"] == env_stack.reference_of(
        "aws_cloudwatch_log_group", log_group, "arn"
    )
    assert log_group["kms_key_id"] == key_arn(env_stack)


def test_throttling_and_quota_follow_config(env_stack: SynthesizedStack) -> None:
    config = config_for(env_stack.stack.node.id.removeprefix("TapStack"))
    api = config.api
    settings = env_stack.only("aws_api_gateway_method_settings")["settings"]
    assert (settings["throttling_rate_limit"], settings["throttling_burst_limit"]) == (
        api.throttle_rate_limit,
        api.throttle_burst_limit,
    )
    assert settings["data_trace_enabled"] is api.data_trace_enabled
    # One usage plan per merchant tier; keys join them as data (`make merchant`), not Terraform.
    plans = {p["description"]: p for p in env_stack.resources("aws_api_gateway_usage_plan").values()}
    assert sorted(plans) == sorted(f"merchant tier {tier.name}" for tier in config.tenancy.merchant_tiers)
    for tier in config.tenancy.merchant_tiers:
        plan = plans[f"merchant tier {tier.name}"]
        assert plan["quota_settings"] == {"limit": tier.daily_quota, "period": "DAY"}
        assert plan["throttle_settings"] == {"rate_limit": tier.rate_limit, "burst_limit": tier.burst_limit}
    assert env_stack.resources("aws_api_gateway_usage_plan_key") == {}
    assert env_stack.resources("aws_api_gateway_api_key") == {}


def test_deployment_is_replaced_before_destroy_when_the_api_changes(dev: SynthesizedStack) -> None:
    deployment = dev.only("aws_api_gateway_deployment")
    assert deployment["lifecycle"] == {"create_before_destroy": True}
    assert sorted(deployment["triggers"]) == ["handler", "routes", "static_spec"]
    assert deployment["triggers"]["routes"].startswith("${sha1(jsonencode([")


def test_only_this_api_may_invoke_the_handler(dev: SynthesizedStack) -> None:
    assert Testing.to_have_resource_with_properties(
        dev.text,
        "aws_lambda_permission",
        {"principal": "apigateway.amazonaws.com", "action": "lambda:InvokeFunction"},
    )
    permissions = sorted(
        p["source_arn"]
        for p in dev.resources("aws_lambda_permission").values()
        if p["principal"] == "apigateway.amazonaws.com"
    )
    assert len(permissions) == 4
    assert permissions[0].endswith(".execution_arn}/*/*/events*")
    assert permissions[1].endswith(".execution_arn}/*/*/payments*")
    assert permissions[2].endswith(".execution_arn}/*/*/webhook_endpoints*")
    assert re.fullmatch(
        r"\$\{aws_api_gateway_rest_api\.[^}]+\.execution_arn\}/authorizers/\$\{aws_api_gateway_authorizer\.[^}]+\.id\}",
        permissions[3],
    )
