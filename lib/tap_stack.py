"""TapStack: one environment's stack (the platform and its outputs) on the shared stack base."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf import App, TerraformOutput

from lib.naming import DR_SITE, Namer
from lib.platform import PaymentPlatform
from lib.settings import DeploymentSettings
from lib.stack_base import PROJECT_TAGS, EmulatorProvider, PlatformStack, target_overrides


def _is_dr_site(settings: DeploymentSettings) -> bool:
    return settings.config.disaster_recovery.site(settings.region) == "dr"


class TapStack(PlatformStack):
    """The platform and its outputs, tagged with the environment (provider and state: ``PlatformStack``)."""

    @classmethod
    def _default_id(cls, settings: DeploymentSettings) -> str:
        return settings.stack_name

    def _tags(self, settings: DeploymentSettings) -> Mapping[str, str]:
        return {
            "Environment": settings.config.environment,
            "EnvironmentSuffix": settings.environment_suffix,
            **PROJECT_TAGS,
            **settings.ci_tags,
        }

    def _state_key(self, settings: DeploymentSettings) -> str:
        # The DR site's state is its own: deployed while the primary's state still names the
        # primary's resources, it must never read or lock that one.
        site = f"{DR_SITE}/" if _is_dr_site(settings) else ""
        return f"{settings.environment_suffix}/{site}{self.node.id}.tfstate"

    def _local_state_path(self, settings: DeploymentSettings) -> str:
        site = f".{DR_SITE}" if _is_dr_site(settings) else ""
        return f"terraform.{self.node.id}{site}.tfstate"

    def _build(self, settings: DeploymentSettings) -> None:
        recovery = settings.config.disaster_recovery
        dr_site = _is_dr_site(settings)
        self.platform: PaymentPlatform = PaymentPlatform(
            self,
            "platform",
            config=settings.config,
            namer=Namer(settings.environment_suffix, DR_SITE if dr_site else ""),
            region=settings.region,
            custom_domain=settings.custom_domain,
            # The primary keeps its copy in the DR region through a second provider.
            dr_provider=self.regional_provider(DR_SITE, recovery.dr_region)
            if recovery.dr_region and not dr_site
            else None,
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
            "webhook_delivery_queue_url": platform.webhooks.queue.url,
            "webhook_delivery_dlq_url": platform.webhooks.dlq.url,
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
