"""What checkov also checks, asserted here so the fast test loop catches it without checkov:
authentication on every method, tracing and logging everywhere, concurrency from config."""

from __future__ import annotations

from lib.config import PlatformConfig, config_for
from tests.unit.synth import SynthesizedStack


def _config(stack: SynthesizedStack) -> PlatformConfig:
    provider = stack.document["provider"]["aws"][0]  # prod's second, aliased one is its DR region's
    return config_for(provider["default_tags"][0]["tags"]["Environment"])


def test_every_method_is_metered_by_the_api_key_the_authorizer_names(env_stack: SynthesizedStack) -> None:
    methods = env_stack.resources("aws_api_gateway_method")
    # POST and GET /payments, GET /payments/{id}, POST /payments/{id}/capture and /void; GET /events, /events/{id};
    # POST /payments/{id}/refunds, GET /payments/{id}/refunds/{refund_id};
    # POST and GET /webhook_endpoints, GET and DELETE /webhook_endpoints/{id}, POST .../rotate_secret.
    assert len(methods) == 14
    assert {(m["http_method"], m["api_key_required"]) for m in methods.values()} == {
        ("GET", True),
        ("POST", True),
        ("DELETE", True),
    }
    # API keys meter only: the authorizer returns the merchant's (usageIdentifierKey), and a
    # client's x-api-key is not read, so the values API Gateway stores authenticate nothing.
    assert env_stack.only("aws_api_gateway_rest_api")["api_key_source"] == "AUTHORIZER"
    # Keys are merchants' (data, `make merchant`); the stack holds their tiers' plans only.
    assert env_stack.resources("aws_api_gateway_usage_plan_key") == {}
    assert {m["authorization"] for m in methods.values()} == {"CUSTOM"}


def test_every_function_is_traced_and_capped_by_config(env_stack: SynthesizedStack) -> None:
    config = _config(env_stack)
    assert config.xray_tracing
    sizes = config.functions.by_name()
    functions = env_stack.resources("aws_lambda_function").values()
    suffix = f"-{env_stack.stack.node.id.removeprefix('TapStack')}"
    capped = {
        # Absent when the config reserves nothing (dev): the function draws on the unreserved pool.
        f["function_name"].removeprefix("payment-").removesuffix(suffix).replace("-", "_"): f.get(
            "reserved_concurrent_executions"
        )
        for f in functions
    }
    assert capped == {name: settings.reserved_concurrency for name, settings in sizes.items()}
    assert {f["tracing_config"]["mode"] for f in functions} == {"Active"}


def test_stage_and_state_machine_are_traced_and_logged(env_stack: SynthesizedStack) -> None:
    stage = env_stack.only("aws_api_gateway_stage")
    assert stage["xray_tracing_enabled"] is True
    assert stage["access_log_settings"]["destination_arn"].startswith("${aws_cloudwatch_log_group.")
    settings = env_stack.only("aws_api_gateway_method_settings")["settings"]
    assert (settings["logging_level"], settings["metrics_enabled"]) == ("INFO", True)
    assert (settings["data_trace_enabled"], settings["caching_enabled"]) == (False, False)
    machines = env_stack.resources("aws_sfn_state_machine").values()
    assert len(machines) == 2  # the payment workflow and the batch-file workflow
    for machine in machines:
        assert machine["tracing_configuration"] == {"enabled": True}
        logging = machine["logging_configuration"]
        assert (logging["level"], logging["include_execution_data"]) == ("ALL", True)


def test_the_api_is_replaced_before_it_is_destroyed(env_stack: SynthesizedStack) -> None:
    # A new deployment (and a replacement API) is live before the old one goes: no gap for callers.
    assert env_stack.only("aws_api_gateway_deployment")["lifecycle"] == {"create_before_destroy": True}
    assert env_stack.only("aws_api_gateway_rest_api")["lifecycle"] == {"create_before_destroy": True}
