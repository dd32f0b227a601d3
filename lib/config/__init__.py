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

__all__ = [
    "ENVIRONMENTS",
    "AlarmConfig",
    "ApiConfig",
    "BatchBucketConfig",
    "BatchWorkflowConfig",
    "BillingMode",
    "FunctionSettings",
    "FunctionsConfig",
    "LogLevel",
    "PaymentRules",
    "PlatformConfig",
    "QueueConfig",
    "TableConfig",
    "config_for",
]
