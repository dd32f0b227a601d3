"""What the components built first hand to the ones built after them, as one typed object each.

The platform builds storage, queues and start slots first (``Foundations``), then the payment
workflow on them (``WorkflowFoundations``), then its outbox (``StreamFoundations``); a later
component takes the one it needs as its inputs (lib/components/base.py, ``ConfiguredConstruct``)
and reads what it uses.
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

    def with_workflow(self, state_machine: SfnStateMachine) -> WorkflowFoundations:
        return WorkflowFoundations(self.storage, self.queues, self.start_slots, state_machine)


@dataclass(frozen=True)
class WorkflowFoundations(Foundations):
    """The foundations with the payment workflow's state machine: what the outbox starts and the
    sweeper re-drives."""

    state_machine: SfnStateMachine

    def with_give_up_bucket(self, give_up_bucket: S3Bucket) -> StreamFoundations:
        return StreamFoundations(self.storage, self.queues, self.start_slots, self.state_machine, give_up_bucket)


@dataclass(frozen=True)
class StreamFoundations(WorkflowFoundations):
    """With the outbox's give-up bucket too: where every stream consumer's abandoned batches go."""

    give_up_bucket: S3Bucket
