"""Which part of a DynamoDB request holds the emulator's DynamoDB lock (``patches/dynamodb_isolation.py``).

The action (reads and writes of moto's tables) runs under the lock; turning an item read's
result, already copied out of the tables into plain data, into the response body does not, so a
large read does not make every other DynamoDB request (and the stream poller) wait for moto's
serializer (issue #18). Other results are still serialized under the lock.

Run in a child process: the patches change moto's classes, which this test process must not see.
"""

from __future__ import annotations

import json
import subprocess
import sys

import testkit

PROBE = r"""
import json, threading
import boto3
from moto import mock_aws
from moto.core.responses import BaseResponse

from localcloud.patches import dynamodb_isolation

seen = []
moto_serialized = BaseResponse.serialized


def spying_serialized(self, action_result):
    # Could another thread take the lock while this body is built?
    free = []

    def try_lock():
        taken = dynamodb_isolation.DYNAMODB_LOCK.acquire(blocking=False)
        free.append(taken)
        if taken:
            dynamodb_isolation.DYNAMODB_LOCK.release()

    other = threading.Thread(target=try_lock)
    other.start()
    other.join()
    seen.append((self._get_action(), free[0]))
    return moto_serialized(self, action_result)


BaseResponse.serialized = spying_serialized
dynamodb_isolation.apply()

with mock_aws():
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="t", Item={"pk": {"S": "a"}, "tags": {"SS": ["x", "y"]}})
    client.get_item(TableName="t", Key={"pk": {"S": "a"}})
    client.batch_get_item(RequestItems={"t": {"Keys": [{"pk": {"S": "a"}}]}})
    client.query(TableName="t", KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"S": "a"}})
    client.describe_continuous_backups(TableName="t")
print(json.dumps(seen))
"""


def test_item_reads_are_serialized_without_the_lock_and_errors_with_it() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=testkit.ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert probe.returncode == 0, probe.stderr
    lock_free_while_serializing = dict(map(tuple, json.loads(probe.stdout.splitlines()[-1])))
    assert lock_free_while_serializing["GetItem"] is True
    assert lock_free_while_serializing["BatchGetItem"] is True
    assert lock_free_while_serializing["Query"] is True
    # Not an item read (its result is not a copy made under the lock): built under the lock.
    assert lock_free_while_serializing["DescribeContinuousBackups"] is False
