"""What the components built first hand to the ones built after them, as one typed object each.

The platform builds storage, queues and start slots first (``Foundations``), then the payment
workflow and its outbox on them (``WorkflowFoundations``); a later component takes the one it
needs as its inputs (lib/components/base.py, ``ConfiguredConstruct``) and reads what it uses.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine

from lib.components.queues import Queues
from lib.components.start_slots import StartSlots
from lib.components.storage import Storage


@dataclass(frozen=True)
class Foundations:
    """The tables and the batch bucket, the queues and topics, and the start slots: what the
    workflow and every component after it may use."""

    storage: Storage
    queues: Queues
    start_slots: StartSlots

    def with_workflow(self, state_machine: SfnStateMachine, give_up_bucket: S3Bucket) -> WorkflowFoundations:
        return WorkflowFoundations(self.storage, self.queues, self.start_slots, state_machine, give_up_bucket)


@dataclass(frozen=True)
class WorkflowFoundations(Foundations):
    """The foundations with the payment workflow's state machine (what the sweeper re-drives) and
    the outbox's give-up bucket (where every stream consumer's abandoned batches go)."""

    state_machine: SfnStateMachine
    give_up_bucket: S3Bucket
