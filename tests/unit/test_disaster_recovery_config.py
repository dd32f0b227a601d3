"""The DR region knob: its validation (exact messages naming the field), where it is on, and the
deploy region it allows. No synth: the config and the settings only."""

from __future__ import annotations

from dataclasses import replace

import pytest

from lib.config import DisasterRecoveryConfig, config_for
from lib.settings import SYNTH_ONLY_SUBSCRIBERS, preset_environ, read_settings


def test_prod_has_a_dr_region_and_dev_and_staging_do_not() -> None:
    assert {env: config_for(env).disaster_recovery.dr_region for env in ("dev", "staging", "prod")} == {
        "dev": None,
        "staging": None,
        "prod": "us-west-2",
    }
    assert config_for("prod").disaster_recovery.bucket_replication_time_control is True
    assert {config_for(env).disaster_recovery.primary_region for env in ("dev", "staging", "prod")} == {"us-east-1"}


@pytest.mark.parametrize(
    ("primary", "dr", "rtc", "message"),
    [
        (
            "us-east-1",
            "us-east-1",
            False,
            "disaster_recovery.dr_region must differ from the primary region (us-east-1), got 'us-east-1'",
        ),
        (
            "us-east-1",
            "us-west-9",
            False,
            "disaster_recovery.dr_region must be a known AWS region name such as us-west-2, got 'us-west-9'",
        ),
        (
            "us-east-1",
            "US-WEST-2",
            False,
            "disaster_recovery.dr_region must be a known AWS region name such as us-west-2, got 'US-WEST-2'",
        ),
        (
            "mars-1",
            None,
            False,
            "disaster_recovery.primary_region must be a known AWS region name such as us-east-1, got 'mars-1'",
        ),
        (
            "us-east-1",
            "us-gov-west-1",
            False,
            "disaster_recovery.dr_region must be in the primary region's partition (aws): global tables and S3 "
            "Replication do not cross partitions, got 'us-gov-west-1' (aws-us-gov)",
        ),
        (
            "us-east-1",
            None,
            True,
            "disaster_recovery.bucket_replication_time_control needs a dr_region to replicate to",
        ),
    ],
)
def test_a_bad_dr_setting_is_refused_naming_the_field(primary: str, dr: str | None, rtc: bool, message: str) -> None:
    with pytest.raises(ValueError) as refused:
        DisasterRecoveryConfig(primary_region=primary, dr_region=dr, bucket_replication_time_control=rtc)
    assert str(refused.value) == message


def test_replication_needs_a_versioned_batch_bucket() -> None:
    prod = config_for("prod")
    with pytest.raises(ValueError) as refused:
        replace(prod, batch_bucket=replace(prod.batch_bucket, versioning=False))
    assert str(refused.value) == (
        "batch_bucket.versioning must be true when disaster_recovery.dr_region is set: "
        "S3 Replication needs versioning on both buckets"
    )
    # Without a DR region, versioning stays the bucket's own knob.
    dev = config_for("dev")
    assert replace(dev, batch_bucket=replace(dev.batch_bucket, versioning=False)).batch_bucket.versioning is False


def _prod(**variables: str) -> dict[str, str]:
    return preset_environ("prod", SYNTH_ONLY_SUBSCRIBERS) | variables


def test_the_region_defaults_to_the_primary_and_prod_deploys_only_to_its_two_regions() -> None:
    assert read_settings(_prod()).region == "us-east-1"
    certificate = "arn:aws:acm:us-west-2:123456789012:certificate/00000000-0000-0000-0000-000000000000"
    assert read_settings(_prod(AWS_REGION="us-west-2", API_CERTIFICATE_ARN=certificate)).region == "us-west-2"
    with pytest.raises(ValueError) as refused:
        read_settings(_prod(AWS_REGION="eu-west-1"))
    assert str(refused.value) == (
        "AWS_REGION must be the primary region (us-east-1) or the DR region (us-west-2) of an environment with "
        "disaster_recovery.dr_region, got 'eu-west-1'"
    )
    # Without a DR region any region goes.
    assert read_settings({"ENVIRONMENT": "dev", "AWS_REGION": "eu-central-1"}).region == "eu-central-1"


def test_a_stack_is_the_dr_site_exactly_in_its_dr_region() -> None:
    recovery = config_for("prod").disaster_recovery
    assert (recovery.site("us-east-1"), recovery.site("us-west-2")) == ("primary", "dr")
    assert config_for("dev").disaster_recovery.site("us-west-2") == "primary"
