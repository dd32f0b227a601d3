"""The emulator writes DynamoDB attribute values into response bodies directly
(``patches/dynamodb_serializer.py``): the bodies are the ones moto's serializer writes.

The same requests run twice in a child process (the patch changes moto's classes), with moto's
serializer and with the patch, over items holding every attribute type (binaries nested in maps
and lists, ``BOOL`` false, ``NULL``, an empty string, map and list, sets of each kind) through every action
that answers items; each pair of bodies must be equal as JSON.
"""

from __future__ import annotations

import json
import subprocess
import sys

import testkit

PROBE = r"""
import json
import boto3
from moto import mock_aws
from moto.core.serialize import get_serializer_class
from moto.dynamodb.responses import DynamoHandler

from localcloud.patches import dynamodb_serializer

ITEMS = [
    {"pk": {"S": "a"}, "sk": {"N": "1"}, "s": {"S": ""}, "n": {"N": "-12.50"}, "b": {"B": b"\x00\xffraw"},
     "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02\x03"]},
     "yes": {"BOOL": True}, "no": {"BOOL": False}, "nothing": {"NULL": True},
     "m": {"M": {"inner": {"B": b"\x10"}, "deep": {"M": {"l": {"L": [{"N": "3"}, {"B": b"\x11"}, {"NULL": True}]}}}}},
     "l": {"L": [{"S": "one"}, {"M": {"b": {"B": b"\x12"}, "f": {"BOOL": False}}}, {"L": []}, {"SS": ["z"]}]},
     "empty_m": {"M": {}}, "empty_l": {"L": []}},
    {"pk": {"S": "a"}, "sk": {"N": "2"}, "history": {"L": [{"M": {"status": {"S": f"S{i}"}}} for i in range(5)]}},
    {"pk": {"S": "b"}, "sk": {"N": "1"}, "only": {"S": "key"}},
]


def scenario():
    bodies = []
    original = DynamoHandler.call_action

    def recording(self):
        status, headers, body = original(self)
        bodies.append((self._get_action(), status, json.loads(body)))
        return status, headers, body

    DynamoHandler.call_action = recording
    try:
        with mock_aws():
            c = boto3.client("dynamodb", region_name="us-east-1")
            c.create_table(
                TableName="t",
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "N"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            bodies.clear()
            for item in ITEMS:
                c.put_item(TableName="t", Item=item)
            key = {"pk": {"S": "a"}, "sk": {"N": "1"}}
            c.get_item(TableName="t", Key=key)
            c.get_item(TableName="t", Key=key, ProjectionExpression="m.deep, l[1], bs")
            c.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"N": "0"}})
            c.batch_get_item(RequestItems={"t": {"Keys": [key, {"pk": {"S": "b"}, "sk": {"N": "1"}}]}})
            c.query(TableName="t", KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"S": "a"}},
                    Limit=1, ReturnConsumedCapacity="TOTAL")
            c.query(TableName="t", KeyConditionExpression="pk = :a", ExpressionAttributeValues={":a": {"S": "a"}},
                    ScanIndexForward=False, Select="COUNT")
            c.scan(TableName="t", ReturnConsumedCapacity="INDEXES")
            c.transact_get_items(TransactItems=[{"Get": {"TableName": "t", "Key": key}}])
            c.update_item(TableName="t", Key=key, UpdateExpression="SET added = :v",
                          ExpressionAttributeValues={":v": {"B": b"\x99"}}, ReturnValues="ALL_NEW")
            c.put_item(TableName="t", Item=ITEMS[1], ReturnValues="ALL_OLD")
            c.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")
    finally:
        DynamoHandler.call_action = original
    return bodies


plain = scenario()
dynamodb_serializer.apply()
assert getattr(get_serializer_class("dynamodb", "json")._serialize_type_structure, "_localcloud_direct", False)
direct = scenario()
print(json.dumps({"plain": plain, "direct": direct}))
"""


def test_attribute_values_are_written_as_moto_writes_them() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=testkit.ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert probe.returncode == 0, probe.stderr
    bodies = json.loads(probe.stdout.splitlines()[-1])
    plain, direct = bodies["plain"], bodies["direct"]
    assert [action for action, _, _ in plain] == [
        *["PutItem"] * 3,
        *["GetItem"] * 3,
        "BatchGetItem",
        *["Query"] * 2,
        "Scan",
        "TransactGetItems",
        "UpdateItem",
        "PutItem",
        "DeleteItem",
    ]
    assert direct == plain
    # The item came back whole: every type, binaries base64-encoded at every depth.
    item = plain[3][2]["Item"]
    assert item["b"] == {"B": "AP9yYXc="}
    assert item["m"]["M"]["deep"]["M"]["l"]["L"][1] == {"B": "EQ=="}
    assert item["no"] == {"BOOL": False}
    assert item["nothing"] == {"NULL": True}
