"""Per-environment configuration. Import from here.

A one-way chain (``tests/unit/test_config_imports.py`` keeps it so): ``checks`` (the validation
helpers) and ``limits`` (AWS's bounds) <- one module per slice (``functions``, ``tables``,
``batch_bucket``, ``batch_workflow``, ``queues``, ``api``, ``alarms`` with ``subscribers``,
``payment_rules``, ``tenancy``, ``edge``, ``sweeper``, ``events``, ``processor``,
``disaster_recovery``, ``webhooks``, ``backup``) <- ``platform_config``
(``PlatformConfig``, the checks that span slices) <- ``presets`` (dev, staging, prod).
"""

from lib.config.alarms import AlarmConfig
from lib.config.api import ApiConfig
from lib.config.backup import BackupConfig
from lib.config.batch_bucket import BatchBucketConfig
from lib.config.batch_workflow import BatchWorkflowConfig
from lib.config.checks import ENVIRONMENTS
from lib.config.disaster_recovery import DisasterRecoveryConfig
from lib.config.edge import CustomDomain, EdgeConfig
from lib.config.events import EventsConfig
from lib.config.functions import FunctionsConfig, FunctionSettings
from lib.config.payment_rules import PaymentRules
from lib.config.platform_config import LogLevel, PlatformConfig
from lib.config.presets import config_for
from lib.config.processor import ProcessorConfig
from lib.config.queues import QueueConfig
from lib.config.subscribers import AlarmSubscriber
from lib.config.sweeper import SweeperConfig
from lib.config.tables import BillingMode, TableConfig
from lib.config.tenancy import MerchantTier, TenancyConfig
from lib.config.webhooks import WebhooksConfig

__all__ = [
    "ENVIRONMENTS",
    "AlarmConfig",
    "AlarmSubscriber",
    "ApiConfig",
    "BackupConfig",
    "BatchBucketConfig",
    "BatchWorkflowConfig",
    "BillingMode",
    "CustomDomain",
    "DisasterRecoveryConfig",
    "EdgeConfig",
    "EventsConfig",
    "FunctionSettings",
    "FunctionsConfig",
    "LogLevel",
    "MerchantTier",
    "PaymentRules",
    "PlatformConfig",
    "ProcessorConfig",
    "QueueConfig",
    "SweeperConfig",
    "TableConfig",
    "TenancyConfig",
    "WebhooksConfig",
    "config_for",
]
