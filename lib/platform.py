"""The payment platform: every resource, composed from the sub-constructs.

A plain ``Construct`` holding no provider, so it can be placed in any stack.
"""

from __future__ import annotations

from cdktf import AssetType, TerraformAsset
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.lambda_layer_version import LambdaLayerVersion
from constructs import Construct

from lib.config import PlatformConfig
from lib.constructs.api import PaymentsApi
from lib.constructs.function import LAMBDA_RUNTIME
from lib.constructs.ingestion import BatchIngestion
from lib.constructs.keys import PlatformKey
from lib.constructs.monitoring import Monitoring
from lib.constructs.queues import Queues
from lib.constructs.storage import Storage
from lib.constructs.workflow import Workflow
from lib.lambda_sources import contract
from lib.layer import shared_layer_dir
from lib.naming import Namer

POWERTOOLS_SERVICE = "payment-platform"
METRICS_NAMESPACE = "PaymentPlatform"


class PaymentPlatform(Construct):
    """Exposes ``keys``, ``storage``, ``queues``, ``workflow``, ``ingestion``, ``api``,
    ``monitoring`` and ``layer``."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: PlatformConfig, namer: Namer, region: str
    ) -> None:
        super().__init__(scope, construct_id)
        account_id = DataAwsCallerIdentity(self, "account").account_id
        self.keys = PlatformKey(self, "keys", config=config, namer=namer, account_id=account_id, region=region)
        key = self.keys.key
        self.storage = Storage(self, "storage", config=config, namer=namer, key=key, account_id=account_id)
        self.queues = Queues(self, "queues", config=config, namer=namer, key=key)
        self.layer = self._build_layer(namer)
        common = self._common_environment(config)
        self.workflow = Workflow(
            self,
            "workflow",
            config=config,
            namer=namer,
            key=key,
            layer=self.layer,
            storage=self.storage,
            queues=self.queues,
            common_environment=common,
            account_id=account_id,
        )
        self.ingestion = BatchIngestion(
            self,
            "ingestion",
            config=config,
            namer=namer,
            key=key,
            layer=self.layer,
            storage=self.storage,
            queues=self.queues,
            state_machine=self.workflow.state_machine,
            common_environment=common,
            account_id=account_id,
        )
        self.api = PaymentsApi(
            self,
            "api",
            config=config,
            namer=namer,
            key=key,
            layer=self.layer,
            storage=self.storage,
            state_machine=self.workflow.state_machine,
            common_environment=common,
        )
        self.monitoring = Monitoring(
            self,
            "monitoring",
            config=config,
            namer=namer,
            region=region,
            functions=[
                self.api.handler_function,
                self.workflow.step_function,
                self.ingestion.ingest_function,
                self.ingestion.consumer_function,
            ],
            queues=self.queues,
            api=self.api,
            state_machine=self.workflow.state_machine,
        )

    def _build_layer(self, namer: Namer) -> LambdaLayerVersion:
        asset = TerraformAsset(self, "layer_code", path=str(shared_layer_dir()), type=AssetType.ARCHIVE)
        return LambdaLayerVersion(
            self,
            "layer",
            layer_name=namer("payment-shared"),
            description="Powertools and the payment_core domain package",
            filename=asset.path,
            source_code_hash=asset.asset_hash,
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=["x86_64"],
        )

    @staticmethod
    def _common_environment(config: PlatformConfig) -> dict[str, str]:
        rules = config.payment_rules
        return {
            contract.POWERTOOLS_SERVICE_NAME: POWERTOOLS_SERVICE,
            contract.POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
            contract.POWERTOOLS_LOG_LEVEL: config.log_level,
            contract.MAX_PAYMENT_AMOUNT: rules.max_payment_amount,
            contract.ALLOWED_CURRENCIES: ",".join(rules.allowed_currencies),
        }
