"""TapStack: the one place that owns the provider, the backend, default tags and outputs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypedDict

from cdktf import App, LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from lib.naming import Namer
from lib.platform import PaymentPlatform
from lib.settings import DeploymentSettings
from lib.target import ProviderOverrides

# Endpoint url -> provider overrides for the emulator (``localcloud.provider.provider_overrides``).
EmulatorProvider = Callable[[str], ProviderOverrides]


class _ProviderArguments(TypedDict, total=False):
    """The AwsProvider keyword arguments overrides set (typed, so mypy checks the call)."""

    access_key: str
    secret_key: str
    skip_credentials_validation: bool
    skip_requesting_account_id: bool
    skip_metadata_api_check: str
    skip_region_validation: bool
    s3_use_path_style: bool
    max_retries: int
    endpoints: list[AwsProviderEndpoints]


def _provider_arguments(overrides: ProviderOverrides | None) -> _ProviderArguments:
    if overrides is None:
        return {}
    return {
        "access_key": overrides.access_key,
        "secret_key": overrides.secret_key,
        "skip_credentials_validation": overrides.skip_credentials_validation,
        "skip_requesting_account_id": overrides.skip_requesting_account_id,
        # A string in the provider's schema ("true"/"false").
        "skip_metadata_api_check": str(overrides.skip_metadata_api_check).lower(),
        "skip_region_validation": overrides.skip_region_validation,
        "s3_use_path_style": overrides.s3_use_path_style,
        "max_retries": overrides.max_retries,
        # ``lambda`` is a Python keyword: the binding's argument is ``lambda_``.
        "endpoints": [
            AwsProviderEndpoints(
                **{("lambda_" if service == "lambda" else service): url for service, url in overrides.endpoints.items()}
            )
        ],
    }


PROJECT_TAG = "payment-platform"


def build_provider(
    stack: TerraformStack, settings: DeploymentSettings, overrides: ProviderOverrides | None, tags: Mapping[str, str]
) -> AwsProvider:
    """The stack's AWS provider: the settings' region, default tags, and the target's overrides."""
    return AwsProvider(
        stack,
        "aws",
        region=settings.region,
        default_tags=[AwsProviderDefaultTags(tags=dict(tags))],
        **_provider_arguments(overrides),
    )


def build_backend(stack: TerraformStack, settings: DeploymentSettings, state_key: str) -> None:
    """Local state (``terraform.<stack>.tfstate``) or the settings' S3 bucket at ``state_key``."""
    state = settings.state_backend
    if state is None:
        LocalBackend(stack, path=f"terraform.{stack.node.id}.tfstate")
        return
    S3Backend(stack, bucket=state.bucket, key=state_key, region=state.region, encrypt=True)
    # S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field.
    stack.add_override("terraform.backend.s3.use_lockfile", True)


class TapStack(TerraformStack):
    """The provider, the state backend, default tags, the platform and its outputs."""

    def __init__(
        self,
        scope: Construct,
        stack_id: str,
        *,
        settings: DeploymentSettings,
        provider_overrides: ProviderOverrides | None = None,
    ) -> None:
        super().__init__(scope, stack_id)
        tags = {
            "Environment": settings.config.environment,
            "EnvironmentSuffix": settings.environment_suffix,
            "Project": PROJECT_TAG,
            "ManagedBy": "cdktf",
            **settings.ci_tags,
        }
        build_provider(self, settings, provider_overrides, tags)
        build_backend(self, settings, f"{settings.environment_suffix}/{stack_id}.tfstate")
        self.platform: PaymentPlatform = PaymentPlatform(
            self,
            "platform",
            config=settings.config,
            namer=Namer(settings.environment_suffix),
            region=settings.region,
            custom_domain=settings.custom_domain,
        )
        self._build_outputs()

    def _build_outputs(self) -> None:
        platform = self.platform
        storage, queues = platform.storage, platform.queues
        outputs = {
            "api_endpoint_url": platform.api.endpoint_url,
            "merchants_table_name": storage.merchants_table.name,
            # tier -> usage plan id: where `make merchant TIER=<tier>` puts a merchant's key.
            "merchant_usage_plan_ids": {tier: plan.id for tier, plan in platform.api.usage_plans.items()},
            "payments_table_name": storage.payments_table.name,
            "audit_table_name": storage.audit_table.name,
            "batch_jobs_table_name": storage.batch_jobs_table.name,
            "batch_claims_table_name": storage.batch_claims_table.name,
            "batch_state_machine_arn": platform.ingestion.file_state_machine.arn,
            "batch_file_dlq_url": platform.ingestion.file_dlq.url,
            "batch_bucket_name": storage.batch_bucket.bucket,
            "payment_queue_url": queues.queue.url,
            "payment_dlq_url": queues.dlq.url,
            "status_topic_arn": queues.status_topic.arn,
            "alarm_topic_arn": queues.alarm_topic.arn,
            "state_machine_arn": platform.workflow.state_machine.arn,
            "kms_key_arn": platform.keys.key.arn,
            "api_function_name": platform.api.api_function.lambda_function.function_name,
            "workflow_function_name": platform.workflow.workflow_function.lambda_function.function_name,
            "batch_ingest_function_name": platform.ingestion.ingest_function.lambda_function.function_name,
            "queue_consumer_function_name": platform.ingestion.consumer_function.lambda_function.function_name,
            "authorizer_function_name": platform.api.authorizer_function.lambda_function.function_name,
        }
        domain = platform.api.domain
        if domain is not None:
            # What the domain's DNS record aliases (the record lives with the domain's zone).
            outputs["api_domain_target"] = domain.regional_domain_name
            outputs["api_domain_zone_id"] = domain.regional_zone_id
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)


def synth_environments(
    app: App,
    environments: Mapping[str, DeploymentSettings],
    *,
    emulator_provider: EmulatorProvider | None = None,
) -> dict[str, TapStack]:
    """One TapStack per entry of ``environments`` in ``app``, by the same key.

    The one loop tap.py, the tests, the bench and the checkov script share. The caller
    synthesizes (``app.synth()`` writes them all; ``Testing.synth(stack)`` reads one), and
    passes ``emulator_provider`` when a settings object targets the emulator: ``lib/`` does not
    know the emulator, it only takes the overrides.
    """
    return {
        key: TapStack(
            app,
            settings.stack_name,
            settings=settings,
            provider_overrides=target_overrides(settings, emulator_provider),
        )
        for key, settings in environments.items()
    }


def target_overrides(
    settings: DeploymentSettings, emulator_provider: EmulatorProvider | None
) -> ProviderOverrides | None:
    """The provider overrides of the settings' target: None for AWS, the emulator's for the emulator."""
    if settings.emulator is None:
        return None
    if emulator_provider is None:
        raise ValueError(f"{settings.stack_name} targets the emulator but no emulator_provider was given")
    return emulator_provider(settings.emulator.endpoint_url)
