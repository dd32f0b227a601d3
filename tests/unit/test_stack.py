"""TapStack: provider, backend, tags and outputs; terraform validate for every environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cdktf import Testing

from lib.config import ENVIRONMENTS, config_for
from lib.settings import preset_environ, read_settings
from localcloud.provider import LOCAL_MAX_RETRIES, provider_settings
from tests.unit.conftest import LOCAL_ENDPOINT
from tests.unit.synth import SynthesizedStack, normalized

OUTPUTS = {
    "api_endpoint_url",
    "merchants_table_name",
    "merchant_usage_plan_ids",
    "authorizer_function_name",
    "payments_table_name",
    "audit_table_name",
    "batch_jobs_table_name",
    "batch_claims_table_name",
    "batch_state_machine_arn",
    "batch_file_dlq_url",
    "batch_bucket_name",
    "payment_queue_url",
    "payment_dlq_url",
    "webhook_delivery_queue_url",
    "webhook_delivery_dlq_url",
    "status_topic_arn",
    "alarm_topic_arn",
    "state_machine_arn",
    "kms_key_arn",
    "api_function_name",
    "workflow_function_name",
    "batch_ingest_function_name",
    "queue_consumer_function_name",
}


def test_provider_pins_region_and_default_tags(dev: SynthesizedStack) -> None:
    (provider,) = dev.document["provider"]["aws"]
    assert provider["region"] == "us-east-1"
    assert provider["default_tags"] == [
        {
            "tags": {
                "Environment": "dev",
                "EnvironmentSuffix": "dev",
                "Project": "payment-platform",
                "ManagedBy": "cdktf",
            }
        }
    ]
    assert "endpoints" not in provider
    assert dev.document["terraform"]["required_providers"]["aws"]["version"] == "5.100.0"


def test_local_state_by_default(dev: SynthesizedStack) -> None:
    assert dev.document["terraform"]["backend"] == {"local": {"path": "terraform.TapStackdev.tfstate"}}


# The service (Terraform endpoint name) each resource or data source type the stacks synthesize
# calls; the longest matching prefix wins. The policy document data source is computed locally.
ENDPOINT_OF_TYPE = {
    "aws_api_gateway_": "apigateway",
    "aws_backup_": "backup",
    "aws_caller_identity": "sts",
    "aws_partition": None,  # computed from the provider's region
    "aws_cloudwatch_": "cloudwatch",
    "aws_cloudwatch_log_": "logs",
    "aws_dynamodb_": "dynamodb",
    "aws_scheduler_": "scheduler",
    "aws_iam_": "iam",
    "aws_iam_policy_document": None,
    "aws_kms_": "kms",
    "aws_lambda_": "lambda",
    "aws_s3_": "s3",
    "aws_sfn_": "sfn",
    "aws_sns_": "sns",
    "aws_sqs_": "sqs",
    "aws_wafv2_": "wafv2",
    "aws_xray_": "xray",
}


def endpoint_of(resource_type: str) -> str | None:
    prefixes = [prefix for prefix in ENDPOINT_OF_TYPE if resource_type.startswith(prefix)]
    assert prefixes, f"{resource_type}: which service does it call? (add it to ENDPOINT_OF_TYPE)"
    return ENDPOINT_OF_TYPE[max(prefixes, key=len)]


def test_emulator_target_points_every_service_at_it(stacks: dict[str, SynthesizedStack]) -> None:
    # Every service any environment's stack or the account stack calls (WAF only in staging and
    # prod, X-Ray's setting only in the account stack), and no other.
    from lib.account_stack import AccountStack
    from localcloud.provider import provider_overrides

    account_settings = read_settings({"ENVIRONMENT_SUFFIX": "local", "LOCAL_CLOUD_ENDPOINT": LOCAL_ENDPOINT})
    account = AccountStack(
        Testing.app(), settings=account_settings, provider_overrides=provider_overrides(LOCAL_ENDPOINT)
    )
    account_document = json.loads(Testing.synth(account))
    documents = [stack.document for stack in stacks.values()] + [account_document]
    used = {
        endpoint_of(resource_type)
        for document in documents
        for block in ("resource", "data")
        for resource_type in document.get(block, {})
    } - {None}
    (provider,) = stacks["local"].document["provider"]["aws"]
    (endpoints,) = provider["endpoints"]
    assert set(endpoints.values()) == {"http://127.0.0.1:4566"}
    assert set(endpoints) == used
    assert provider["skip_credentials_validation"] is True
    assert provider["skip_requesting_account_id"] is True
    assert provider["s3_use_path_style"] is True
    assert provider["max_retries"] == LOCAL_MAX_RETRIES == 5
    # The account stack's providers, the backup copy region's included, reach the emulator alike.
    for each in account_document["provider"]["aws"]:
        assert each["endpoints"] == provider["endpoints"]


def test_emulator_target_is_exactly_the_emulators_one_copy_of_the_provider_options(local: SynthesizedStack) -> None:
    # tap.py injects localcloud.provider's overrides; TapStack adds only region and tags.
    (provider,) = local.document["provider"]["aws"]
    expected = provider_settings(LOCAL_ENDPOINT)
    expected["skip_metadata_api_check"] = "true"  # a string in the provider's schema
    assert {name: value for name, value in provider.items() if name != "default_tags"} == expected


@pytest.mark.stacks
def test_an_emulator_target_without_the_emulators_provider_is_refused() -> None:
    from lib.tap_stack import synth_environments

    settings = read_settings({"ENVIRONMENT_SUFFIX": "local", "LOCAL_CLOUD_ENDPOINT": LOCAL_ENDPOINT})
    with pytest.raises(ValueError) as refused:
        synth_environments(Testing.app(), {"local": settings})
    assert str(refused.value) == "TapStacklocal targets the emulator but no emulator_provider was given"


def test_emulator_target_deploys_exactly_the_dev_resources(dev: SynthesizedStack, local: SynthesizedStack) -> None:
    # Only the provider differs: localcloud makes the emulator read back what AWS would, so
    # the stack needs no emulator-only setting and the local deploy exercises the real one.
    def body(stack: SynthesizedStack, suffix: str) -> str:
        sections = {k: stack.document.get(k) for k in ("resource", "data", "output")}
        return (
            normalized(json.dumps(sections, sort_keys=True))
            .replace(f"-{suffix}", "-<suffix>")
            .replace(f"({suffix})", "(<suffix>)")
        )

    assert body(local, "local") == body(dev, "dev")


def test_outputs_are_named_resource_attribute(env_stack: SynthesizedStack) -> None:
    environment = str(env_stack.stack.node.id).removeprefix("TapStack")
    # Where the API has its custom domain: what the domain's DNS record aliases.
    domain = (
        {"api_domain_target", "api_domain_zone_id"} if config_for(environment).edge.custom_domain_required else set()
    )
    assert set(env_stack.document["output"]) == OUTPUTS | domain


@pytest.mark.stacks
def test_s3_backend_with_ci_tags_when_configured() -> None:
    app = Testing.app()
    from lib.tap_stack import TapStack

    settings = read_settings(
        {
            **preset_environ("staging", "payments-oncall@alerts.payments.internal"),
            "ENVIRONMENT_SUFFIX": "pr7",
            "TERRAFORM_STATE_BUCKET": "tf-state",
            "TERRAFORM_STATE_BUCKET_REGION": "us-east-2",
            "PR_NUMBER": "7",
        }
    )
    stack = SynthesizedStack(stack=None, text=Testing.synth(TapStack(app, settings.stack_name, settings=settings)))
    assert stack.document["terraform"]["backend"] == {
        "s3": {
            "bucket": "tf-state",
            "key": "pr7/TapStackpr7.tfstate",
            "region": "us-east-2",
            "encrypt": True,
            "use_lockfile": True,
        }
    }
    (provider,) = stack.document["provider"]["aws"]
    assert provider["default_tags"][0]["tags"]["PRNumber"] == "7"


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_terraform_validates_against_the_provider_schema(
    stacks: dict[str, SynthesizedStack], environment: str, tmp_path: Path
) -> None:
    # The session synth's document (synthesized with the stack's validations run), laid out as
    # cdktf writes an app (the manifest naming the stack's directory), which is what
    # to_be_valid_terraform runs `terraform init` + `validate` in. Testing.full_synth would
    # synthesize the stack again (~7 CPU-s per environment) to add only the Lambda archives,
    # which validate does not read.
    stack_name = str(stacks[environment].stack.node.id)
    stack_dir = tmp_path / "stacks" / stack_name
    stack_dir.mkdir(parents=True)
    (stack_dir / "cdk.tf.json").write_text(stacks[environment].text)
    manifest = {"stacks": {stack_name: {"workingDirectory": f"stacks/{stack_name}"}}}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    assert Testing.to_be_valid_terraform(str(tmp_path))
