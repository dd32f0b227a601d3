"""The payment platform: every resource, composed from the components.

A plain ``Construct`` holding no provider, so it can be placed in any stack.
"""

from __future__ import annotations

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.data_aws_partition import DataAwsPartition
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from cdktf_cdktf_provider_aws.provider import AwsProvider
from constructs import Construct
from payment_core import contract

from lib.components.alarm_sources import Monitored, Watch
from lib.components.api import PaymentsApi
from lib.components.backup import TableBackups
from lib.components.context import PlatformContext
from lib.components.edge import ApiEdge
from lib.components.events import PaymentEvents
from lib.components.foundations import Foundations
from lib.components.function import LAMBDA_RUNTIME, PaymentFunction
from lib.components.ingestion import BatchIngestion
from lib.components.keys import PlatformKey
from lib.components.monitoring import Monitoring
from lib.components.outbox import WorkflowOutbox
from lib.components.queues import Queues
from lib.components.replication import RegionalCopy, adopt_regional_copy
from lib.components.start_slots import StartSlots
from lib.components.storage import Storage
from lib.components.sweeper import PaymentSweeper
from lib.components.webhooks import Webhooks
from lib.components.workflow import Workflow
from lib.config import CustomDomain, PlatformConfig
from lib.layer import shared_layer_dir
from lib.naming import Namer

POWERTOOLS_SERVICE = "payment-platform"
METRICS_NAMESPACE = "PaymentPlatform"


class PaymentPlatform(Construct):
    """Key, layer, storage, queues, workflow, outbox, ingestion, API and monitoring, in dependency order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: PlatformConfig,
        namer: Namer,
        region: str,
        custom_domain: CustomDomain | None = None,
        dr_provider: AwsProvider | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._custom_domain = custom_domain
        account_id = DataAwsCallerIdentity(self, "account").account_id
        partition = DataAwsPartition(self, "partition").partition
        self.keys: PlatformKey = self._build_keys(namer, account_id, region, partition)
        self.layer: LambdaLayerVersion = self._build_layer(namer)
        self.context: PlatformContext = self._build_context(namer, account_id, region, partition)
        self.storage: Storage = Storage(
            self, "storage", context=self.context, tables=config.tables, bucket=config.batch_bucket
        )
        self.regional_copy: RegionalCopy | None = self._build_disaster_recovery(region, dr_provider)
        self.queues: Queues = Queues(self, "queues", context=self.context, settings=config.queues)
        # The functions built from here on may read the shared tables' and queues' variables.
        self.start_slots: StartSlots = StartSlots(self, "start_slots", self.context, config.start_pacing, config.tables)
        context = self.context.with_environment(
            self.storage.environment, self.queues.environment, self.start_slots.environment
        )
        foundations = Foundations(self.storage, self.queues, self.start_slots)
        self.workflow: Workflow = Workflow(self, "workflow", context, config.processor, foundations)
        started = foundations.with_workflow(self.workflow.state_machine)
        self.outbox: WorkflowOutbox = WorkflowOutbox(self, "outbox", context, config.start_pacing, started)
        self.sweeper: PaymentSweeper = PaymentSweeper(self, "sweeper", context, config.sweeper, started)
        streams = started.with_give_up_bucket(self.outbox.give_up_bucket)
        self.events: PaymentEvents = PaymentEvents(self, "events", context, config.events, streams)
        self.webhooks: Webhooks = Webhooks(self, "webhooks", context, config.webhooks, streams)
        self.ingestion: BatchIngestion = BatchIngestion(self, "ingestion", context, config.batch_workflow, foundations)
        self.api: PaymentsApi = self._build_api(context)
        self.edge: ApiEdge | None = self._build_edge(context)
        self.monitoring: Monitoring = self._build_monitoring(context)
        self.backups: TableBackups | None = self._build_backups()

    def _build_keys(self, namer: Namer, account_id: str, region: str, partition: str) -> PlatformKey:
        return PlatformKey(
            self,
            "keys",
            namer=namer,
            account_id=account_id,
            region=region,
            partition=partition,
            deletion_window_days=self._config.kms_deletion_window_days,
            page_token_key_version=self._config.api.page_token_key_version,
        )

    def _build_disaster_recovery(self, region: str, dr_provider: AwsProvider | None) -> RegionalCopy | None:
        """The primary's copy in the DR region (given its provider); at the DR site, its adoption."""
        config = self._config
        if config.disaster_recovery.site(region) == "dr":
            adopt_regional_copy(self, namer=self.context.namer, keys=self.keys, storage=self.storage)
            return None
        if dr_provider is None:
            return None
        return RegionalCopy(
            self,
            "disaster_recovery",
            context=self.context,
            recovery=config.disaster_recovery,
            bucket_settings=config.batch_bucket,
            deletion_window_days=config.kms_deletion_window_days,
            storage=self.storage,
            provider=dr_provider,
        )

    def _build_api(self, context: PlatformContext) -> PaymentsApi:
        config = self._config
        return PaymentsApi(
            self,
            "api",
            context=context,
            settings=config.api,
            stage_name=config.environment,
            storage=self.storage,
            tenancy=config.tenancy,
            page_token_keys=[self.keys.page_token_key, *filter(None, [self.keys.previous_page_token_key])],
            custom_domain=self._custom_domain,
        )

    def _build_edge(self, context: PlatformContext) -> ApiEdge | None:
        """The WAF web ACL on the stage, where the config turns it on (staging and prod)."""
        edge = self._config.edge
        return ApiEdge(self, "edge", context=context, config=edge, stage=self.api.stage) if edge.waf_enabled else None

    def _build_backups(self) -> TableBackups | None:
        """The tables' AWS Backup plan into the account stack's vaults, where the config turns it on."""
        backup = self._config.backup
        if not backup.enabled:
            return None
        # Each table by its logical name: the storage attribute is ``<logical>_table``.
        tables = {name: getattr(self.storage, f"{name}_table") for name in contract.TABLE_STEMS}
        # Each recovery point is copied into the account's vault of the DR region, where there is one
        # (none on the DR site itself: its region is the DR region).
        dr_region = self._config.disaster_recovery.dr_region
        copy_region = dr_region if dr_region != self.context.region else None
        return TableBackups(
            self, "backups", context=self.context, settings=backup, tables=tables, copy_region=copy_region
        )

    def _build_monitoring(self, context: PlatformContext) -> Monitoring:
        watched: list[Monitored] = [
            self.api,
            self.workflow,
            self.ingestion,
            self.outbox,
            self.sweeper,
            self.start_slots,
            self.events,
            self.webhooks,
            self.queues,
            self.storage,
            *([self.regional_copy] if self.regional_copy is not None else []),
        ]
        return Monitoring(self, "monitoring", context, self._config.alarms, Watch(watched, self.queues.alarm_topic))

    @property
    def functions(self) -> list[PaymentFunction]:
        """Every function of the platform, in the contract's order."""
        return [
            self.api.api_function,
            self.workflow.workflow_function,
            self.ingestion.ingest_function,
            self.ingestion.consumer_function,
            self.api.authorizer_function,
            self.outbox.starter_function,
            self.sweeper.sweeper_function,
            self.events.writer_function,
            self.webhooks.fanout_function,
            self.webhooks.delivery_function,
        ]

    def _build_layer(self, namer: Namer) -> LambdaLayerVersion:
        asset = TerraformAsset(self, "layer_code", path=str(shared_layer_dir()), type=AssetType.ARCHIVE)
        return LambdaLayerVersion(
            self,
            "layer",
            layer_name=namer("payment-shared"),
            description="Powertools and the other third-party packages the functions import",
            filename=asset.path,
            source_code_hash=asset.asset_hash,
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=["x86_64"],
        )

    def _build_context(self, namer: Namer, account_id: str, region: str, partition: str) -> PlatformContext:
        config = self._config
        rules = config.payment_rules
        previous_key = self.keys.previous_page_token_key
        return PlatformContext(
            namer=namer,
            account_id=account_id,
            region=region,
            partition=partition,
            key=self.keys.key,
            layer=self.layer,
            metrics_namespace=METRICS_NAMESPACE,
            service_name=POWERTOOLS_SERVICE,
            common_environment={
                contract.POWERTOOLS_SERVICE_NAME: POWERTOOLS_SERVICE,
                contract.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
                contract.POWERTOOLS_LOG_LEVEL: config.log_level,
                contract.MAX_PAYMENT_AMOUNT: rules.max_amounts_setting,
                contract.ALLOWED_CURRENCIES: ",".join(rules.allowed_currencies),
                contract.BLOCKED_MERCHANT_IDS: ",".join(rules.blocked_merchant_ids),
                contract.PAGE_TOKEN_KEY_ID: self.keys.page_token_key.arn,
                contract.PAGE_TOKEN_KEY_VERSION: str(config.api.page_token_key_version),
                contract.PAGE_TOKEN_PREVIOUS_KEY_ID: previous_key.arn if previous_key else "",
                contract.WEBHOOK_SECRET_KEY_ID: self.keys.key.arn,
                contract.WEBHOOK_SECRET_OVERLAP_SECONDS: str(config.webhooks.secret_overlap_seconds),
            },
            function_sizing=config.functions.by_name(),
            log_retention_days=config.log_retention_days,
            xray_tracing=config.xray_tracing,
        )
