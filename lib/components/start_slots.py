"""The start slots: how many payment executions are in flight, and the payments waiting for one.

One small table (payment_core/payments/admission.py): the semaphore item, whose ``holders`` set
names the payments whose executions hold a slot (taken with a conditional write before
``StartExecution``, given back by the workflow's Notify and AwaitCapture steps, reclaimed by the
sweeper when an execution ended otherwise), one item per payment waiting for a slot, and one
admission marker per payment (so a redelivered record admits nothing twice), which expires. The
starter, the workflow and the sweeper share it; each gets the table and the limit as variables
and ``grants()`` on it. Why a semaphore before the start rather than a rate: docs/batch-files.md,
"Pacing".
"""

from __future__ import annotations

from cdktf_cdktf_provider_aws.data_aws_iam_policy_document import DataAwsIamPolicyDocumentStatement
from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
    DynamodbTableTtl,
)
from payment_core import contract

from lib.components.alarm_sources import AlarmSources, WatchedTable
from lib.components.base import ConfiguredConstruct
from lib.components.policies import statement
from lib.config.pacing import StartPacing
from lib.config.tables import TableConfig

# Every call admission makes: take and give back a slot (UpdateItem), read the holders and a
# payment's marker (GetItem), park, list and unpark a waiting payment (PutItem, Query, DeleteItem;
# parking and unparking are TransactWriteItems, which IAM authorizes per item as PutItem and
# DeleteItem: there is no transaction action to grant).
SLOT_ACTIONS = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
]


class StartSlots(ConfiguredConstruct[StartPacing, TableConfig]):
    """The start slots table (``table``), its variables (``environment``) and its grant (``grants``);
    its settings are the start pacing (the in-flight limit), its inputs the tables' config."""

    def _build(self, inputs: TableConfig) -> None:
        self.table: DynamodbTable = self._build_table(inputs)

    def _build_table(self, tables: TableConfig) -> DynamodbTable:
        provisioned = tables.billing_mode == "PROVISIONED"
        key = contract.START_SLOTS_TABLE_KEY
        return DynamodbTable(
            self,
            "table",
            name=self._context.namer("payment-start-slots"),
            billing_mode=tables.billing_mode,
            read_capacity=tables.read_capacity if provisioned else None,
            write_capacity=tables.write_capacity if provisioned else None,
            hash_key=key.hash_key.name,
            range_key=key.range_key_name,
            attribute=[DynamodbTableAttribute(name=each.name, type=each.type) for each in key.attributes],
            # Who waits for a slot is the one record of a payment not yet started: kept like payments.
            point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
            server_side_encryption=DynamodbTableServerSideEncryption(enabled=True, kms_key_arn=self._context.key.arn),
            deletion_protection_enabled=False,
            # Admission markers expire once no record of their payment can come again.
            ttl=DynamodbTableTtl(attribute_name=contract.START_SLOTS_EXPIRES_AT, enabled=True),
        )

    @property
    def environment(self) -> dict[str, str]:
        return {
            contract.START_SLOTS_TABLE_NAME: self.table.name,
            contract.IN_FLIGHT_LIMIT: str(self._settings.in_flight_limit),
        }

    def grants(self) -> list[DataAwsIamPolicyDocumentStatement]:
        return [statement("UseStartSlots", SLOT_ACTIONS, [self.table.arn])]

    def alarm_sources(self) -> AlarmSources:
        # One partition key takes every slot write: its throttling is the first sign of too high a pace.
        return AlarmSources(tables=(WatchedTable("payment-start-slots", self.table),))
