"""TapStack: the one place that owns the provider, the backend, default tags and outputs."""

from __future__ import annotations

from typing import TypedDict

from cdktf import LocalBackend, S3Backend, TerraformOutput, TerraformStack
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags, AwsProviderEndpoints
from constructs import Construct

from lib.config import EmulatorTarget
from lib.naming import Namer
from lib.platform import PaymentPlatform
from lib.settings import DeploymentSettings
from localcloud.provider import LOCAL_MAX_RETRIES, TEST_ACCESS_KEY, TEST_SECRET_KEY, cdktf_provider_endpoints


class _EmulatorOptions(TypedDict, total=False):
    """The provider arguments that point it at the emulator (typed, so mypy checks the call)."""

    access_key: str
    secret_key: str
    skip_credentials_validation: bool
    skip_requesting_account_id: bool
    skip_metadata_api_check: str
    s3_use_path_style: bool
    max_retries: int
    endpoints: list[AwsProviderEndpoints]


class TapStack(TerraformStack):
    """Exposes ``platform`` (the PaymentPlatform construct)."""

    def __init__(self, scope: Construct, stack_id: str, *, settings: DeploymentSettings) -> None:
        super().__init__(scope, stack_id)
        config = settings.config
        self._build_provider(settings)
        self._build_backend(stack_id, settings)
        self.platform = PaymentPlatform(
            self, "platform", config=config, namer=Namer(settings.environment_suffix), region=settings.region
        )
        self._build_outputs()

    def _build_provider(self, settings: DeploymentSettings) -> None:
        tags = {
            "Environment": settings.config.environment,
            "EnvironmentSuffix": settings.environment_suffix,
            "Project": "payment-platform",
            "ManagedBy": "cdktf",
            **settings.ci_tags,
        }
        emulator = settings.config.emulator
        AwsProvider(
            self,
            "aws",
            region=settings.region,
            default_tags=[AwsProviderDefaultTags(tags=tags)],
            **self._emulator_options(emulator),
        )

    @staticmethod
    def _emulator_options(emulator: EmulatorTarget | None) -> _EmulatorOptions:
        if emulator is None:
            return {}
        return {
            "access_key": TEST_ACCESS_KEY,
            "secret_key": TEST_SECRET_KEY,
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": "true",
            "s3_use_path_style": True,
            # A gap in the emulator should fail fast, not look like a hung apply.
            "max_retries": LOCAL_MAX_RETRIES,
            # The emulator's own list of the services it serves for this stack.
            "endpoints": [AwsProviderEndpoints(**cdktf_provider_endpoints(emulator.endpoint_url))],
        }

    def _build_backend(self, stack_id: str, settings: DeploymentSettings) -> None:
        state = settings.state_backend
        if state is None:
            LocalBackend(self, path=f"terraform.{stack_id}.tfstate")
            return
        S3Backend(
            self,
            bucket=state.bucket,
            key=f"{settings.environment_suffix}/{stack_id}.tfstate",
            region=state.region,
            encrypt=True,
        )
        # S3-native state locking (Terraform >= 1.10); cdktf 0.21's S3Backend has no field.
        self.add_override("terraform.backend.s3.use_lockfile", True)

    def _build_outputs(self) -> None:
        platform = self.platform
        storage, queues = platform.storage, platform.queues
        outputs = {
            "api_endpoint_url": platform.api.endpoint_url,
            "api_key_id": platform.api.api_key.id,
            "payments_table_name": storage.payments_table.name,
            "audit_table_name": storage.audit_table.name,
            "idempotency_table_name": storage.idempotency_table.name,
            "batch_jobs_table_name": storage.batch_jobs_table.name,
            "batch_bucket_name": storage.batch_bucket.bucket,
            "payment_queue_url": queues.queue.url,
            "payment_dlq_url": queues.dlq.url,
            "status_topic_arn": queues.status_topic.arn,
            "alarm_topic_arn": queues.alarm_topic.arn,
            "state_machine_arn": platform.workflow.state_machine.arn,
            "kms_key_arn": platform.keys.key.arn,
            "api_function_name": platform.api.handler_function.function.function_name,
            "workflow_function_name": platform.workflow.step_function.function.function_name,
            "batch_ingest_function_name": platform.ingestion.ingest_function.function.function_name,
            "queue_consumer_function_name": platform.ingestion.consumer_function.function.function_name,
        }
        for name, value in outputs.items():
            TerraformOutput(self, name, value=value)
