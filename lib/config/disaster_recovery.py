"""The disaster-recovery slice of the config: the environment's home region and its DR region.

With ``dr_region`` set, the primary stack keeps a copy of the data there (the replicated tables as
global-table replicas, the batch bucket through S3 Replication, both under a customer-managed key of
that region: ``lib/components/replication.py``), and the same stack deployed with
``AWS_REGION=<dr_region>`` is the DR site that adopts them (``docs/disaster-recovery.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lib.config.checks import require

# AWS's region names by partition (AWS General Reference, "AWS Regions"): a DR region must be a real
# one, and in the primary's partition (neither global tables nor S3 Replication cross partitions).
KNOWN_REGIONS: dict[str, str] = {
    **dict.fromkeys(
        (
            "us-east-1",
            "us-east-2",
            "us-west-1",
            "us-west-2",
            "af-south-1",
            "ap-east-1",
            "ap-south-1",
            "ap-south-2",
            "ap-southeast-1",
            "ap-southeast-2",
            "ap-southeast-3",
            "ap-southeast-4",
            "ap-southeast-5",
            "ap-southeast-7",
            "ap-northeast-1",
            "ap-northeast-2",
            "ap-northeast-3",
            "ca-central-1",
            "ca-west-1",
            "eu-central-1",
            "eu-central-2",
            "eu-west-1",
            "eu-west-2",
            "eu-west-3",
            "eu-south-1",
            "eu-south-2",
            "eu-north-1",
            "il-central-1",
            "me-south-1",
            "me-central-1",
            "mx-central-1",
            "sa-east-1",
        ),
        "aws",
    ),
    "us-gov-east-1": "aws-us-gov",
    "us-gov-west-1": "aws-us-gov",
    "cn-north-1": "aws-cn",
    "cn-northwest-1": "aws-cn",
}
# The tables a DR site needs to take over (by their name stem): payments and their audit trail, the
# merchants and their keys, the merchants' events. Batch jobs and claims are per-file working state:
# a file in flight at failover is re-submitted from the replicated bucket (the runbook).
REPLICATED_TABLES: tuple[str, ...] = ("payments", "payment-audit", "merchants", "payment-events")
# What a replica needs of its table: AWS requires a stream of new and old images to add one
# (DynamoDB API reference, CreateGlobalTable/UpdateGlobalTable: "DynamoDB Streams enabled, with the
# stream containing both the new and the old images of the item").
REPLICA_STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"

Site = Literal["primary", "dr"]


@dataclass(frozen=True)
class DisasterRecoveryConfig:
    # Where the environment runs: AWS_REGION's default.
    primary_region: str
    # Where its data is replicated to and where it fails over; None: no DR region.
    dr_region: str | None
    # S3 Replication Time Control: 99.99% of objects replicated within 15 minutes (an SLA, billed).
    bucket_replication_time_control: bool = False

    def __post_init__(self) -> None:
        require(
            self.primary_region in KNOWN_REGIONS,
            f"disaster_recovery.primary_region must be a known AWS region name such as us-east-1, "
            f"got {self.primary_region!r}",
        )
        if self.dr_region is None:
            require(
                not self.bucket_replication_time_control,
                "disaster_recovery.bucket_replication_time_control needs a dr_region to replicate to",
            )
            return
        require(
            self.dr_region in KNOWN_REGIONS,
            f"disaster_recovery.dr_region must be a known AWS region name such as us-west-2, got {self.dr_region!r}",
        )
        require(
            self.dr_region != self.primary_region,
            f"disaster_recovery.dr_region must differ from the primary region ({self.primary_region}), "
            f"got {self.dr_region!r}",
        )
        primary, dr = KNOWN_REGIONS[self.primary_region], KNOWN_REGIONS[self.dr_region]
        require(
            primary == dr,
            f"disaster_recovery.dr_region must be in the primary region's partition ({primary}): global tables "
            f"and S3 Replication do not cross partitions, got {self.dr_region!r} ({dr})",
        )

    @property
    def enabled(self) -> bool:
        return self.dr_region is not None

    def site(self, region: str) -> Site:
        """What a stack deployed in ``region`` is: the DR site in the DR region, else the primary."""
        return "dr" if region == self.dr_region else "primary"

    def check_deploy_region(self, region: str, variable: str) -> None:
        """With a DR region, an environment deploys to its primary or its DR region only: a third
        region would add replicas to tables that already belong to the primary's global tables."""
        if self.dr_region is None:
            return
        require(
            region in (self.primary_region, self.dr_region),
            f"{variable} must be the primary region ({self.primary_region}) or the DR region ({self.dr_region}) "
            f"of an environment with disaster_recovery.dr_region, got {region!r}",
        )


def check_replicable(recovery: DisasterRecoveryConfig, bucket_versioning: bool) -> None:
    """S3 Replication needs versioning on the source and destination buckets (S3 user guide,
    "Requirements and considerations for replication")."""
    require(
        not recovery.enabled or bucket_versioning,
        "batch_bucket.versioning must be true when disaster_recovery.dr_region is set: "
        "S3 Replication needs versioning on both buckets",
    )
