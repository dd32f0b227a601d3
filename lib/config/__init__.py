"""Per-environment configuration: the schema (``schema``), AWS's bounds (``limits``) and the
three presets (``presets``). Import from here."""

from lib.config.batch_workflow import BatchWorkflowConfig
from lib.config.presets import config_for
from lib.config.schema import (
    ENVIRONMENTS,
    AlarmConfig,
    ApiConfig,
    BatchBucketConfig,
    BillingMode,
    FunctionsConfig,
    FunctionSettings,
    LogLevel,
    PaymentRules,
    PlatformConfig,
    QueueConfig,
    TableConfig,
)
from lib.config.subscribers import AlarmSubscriber
from lib.config.tenancy import EdgeConfig, MerchantTier, TenancyConfig

__all__ = [
    "ENVIRONMENTS",
    "AlarmConfig",
    "AlarmSubscriber",
    "ApiConfig",
    "BatchBucketConfig",
    "BatchWorkflowConfig",
    "BillingMode",
    "EdgeConfig",
    "FunctionSettings",
    "FunctionsConfig",
    "LogLevel",
    "MerchantTier",
    "PaymentRules",
    "PlatformConfig",
    "QueueConfig",
    "TableConfig",
    "TenancyConfig",
    "config_for",
]
