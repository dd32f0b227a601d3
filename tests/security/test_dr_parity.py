"""The DR region's differences between presets (test_parity.py leaves them to this file, DR_PATHS):
the second provider and the tables' replica blocks exist exactly where ``disaster_recovery.dr_region``
is set, and say that region and the key made there, nothing else."""

from __future__ import annotations

import re

from lib.config import ENVIRONMENTS, config_for
from tests.unit.synth import SynthesizedStack


def test_the_second_provider_and_the_replicas_exist_exactly_where_the_dr_region_is_set(
    stacks: dict[str, SynthesizedStack],
) -> None:
    for env in ENVIRONMENTS:
        stack, dr_region = stacks[env], config_for(env).disaster_recovery.dr_region
        aliased = [(p["alias"], p["region"]) for p in stack.document["provider"]["aws"] if "alias" in p]
        replicas = [
            replica for table in stack.resources("aws_dynamodb_table").values() for replica in table.get("replica", [])
        ]
        if dr_region is None:
            assert (aliased, replicas) == ([], []), env
            continue
        assert aliased == [("dr", dr_region)], env
        dr_keys = {name for name, key in stack.resources("aws_kms_key").items() if key.get("provider") == "aws.dr"}
        assert len(replicas) == 4, env
        for replica in replicas:
            match = re.fullmatch(r"\$\{aws_kms_key\.([^.]+)\.arn\}", replica["kms_key_arn"])
            assert match and match.group(1) in dr_keys, env
            assert (replica["region_name"], replica["point_in_time_recovery"]) == (dr_region, True), env
