"""The per-file batch workflow under LOCALCLOUD_FAULTS: every valid row still queued exactly once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from testkit.fault_switch import fault_switch
from tests.localcloud.conftest import clients, cloud_with_faults
from tests.localcloud.test_batch_file_workflow import MerchantDirectory, Platform, file_bytes, job_id_for

FAULT_RATES = {"sqs:SendMessageBatch": 0.3, "s3:GetObject": 0.3, "dynamodb:TransactWriteItems": 0.1}


@pytest.fixture(scope="module")
def faulty_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], Any]]:
    """A server of its own: LOCALCLOUD_FAULTS is read once, at start. Only the functions'
    calls are faulted (never this test's, nor the Step Functions interpreter's)."""
    with cloud_with_faults(tmp_path_factory.mktemp("faulty-batch-state"), seed=12, rates=FAULT_RATES) as cloud:
        yield clients(cloud.endpoint)


def test_under_faults_every_valid_row_is_queued_exactly_once(faulty_aws: Callable[[str], Any]) -> None:
    role = faulty_aws("iam").create_role(RoleName="batch", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    platform = Platform(faulty_aws, "faulty", role, records_per_chunk=50)
    # The rows name three merchants; a batch row's merchant must be active (issue #11), and
    # the Platform onboards merchant-1 only.
    directory = MerchantDirectory(faulty_aws("dynamodb"), platform.merchants)
    for merchant in ("merchant-0", "merchant-2"):
        directory.onboard(merchant, "standard", f"key-of-{merchant}-padded", f"kid-{merchant}")
    rows = [f"p-{n:04d},merchant-{n % 3},{n % 90 + 1}.50,EUR,cust-{n}" for n in range(1, 301)]
    rows[99] = "p-0100,merchant-1,0,EUR,cust-100"  # amount must be positive: rejected
    rows[199] = "p-0007,merchant-1,5.50,EUR,cust-200"  # duplicate of row 8
    put = faulty_aws("s3").put_object(Bucket=platform.bucket, Key="incoming/faulty.csv", Body=file_bytes(rows))

    [execution] = platform.wait_finished(1, timeout=300)

    assert execution["status"] == "SUCCEEDED", platform.failures(execution["executionArn"])
    queued = [message["row_number"] for message in platform.drain()]
    assert len(queued) == len(set(queued)) == 298  # each valid row once: no copies, none missing
    assert set(queued) == set(range(2, 302)) - {101, 201}
    job = platform.job(job_id_for(platform.bucket, "incoming/faulty.csv", put["VersionId"]))
    assert (job["state"], job["rows"], job["queued"], job["rejected"]) == ("COMPLETED", "300", "298", "2")
    faults = fault_switch(faulty_aws("s3").meta.endpoint_url)
    print(f"faults injected: {faults}")
    # The run proves something only if the faults named in the issue did happen.
    assert faults["failed"].get("sqs:SendMessageBatch", 0) > 0, faults
    assert faults["failed"].get("s3:GetObject", 0) > 0, faults
