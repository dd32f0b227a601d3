"""X-Ray's account encryption setting (localcloud/patches/xray_encryption.py): what AWS accepts
is accepted and read back, what AWS refuses is refused."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture
def xray(aws: Callable[[str], Any]) -> Iterator[Any]:
    client = aws("xray")
    yield client
    client.put_encryption_config(Type="NONE")  # the session's emulator is shared


def refusal(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidRequestException"
    return str(error["Message"])


def test_a_symmetric_key_of_the_account_becomes_the_setting(xray: Any, aws: Callable[[str], Any]) -> None:
    assert xray.get_encryption_config()["EncryptionConfig"] == {"Type": "NONE", "Status": "ACTIVE"}
    key = aws("kms").create_key(Description="traces")["KeyMetadata"]
    aws("kms").create_alias(AliasName="alias/traces-test", TargetKeyId=key["KeyId"])

    for named_by in (key["Arn"], key["KeyId"], "alias/traces-test"):
        put = xray.put_encryption_config(Type="KMS", KeyId=named_by)["EncryptionConfig"]
        assert put == {"Type": "KMS", "KeyId": key["Arn"], "Status": "ACTIVE"}
        assert xray.get_encryption_config()["EncryptionConfig"] == put

    xray.put_encryption_config(Type="NONE")
    assert xray.get_encryption_config()["EncryptionConfig"] == {"Type": "NONE", "Status": "ACTIVE"}


def test_a_key_x_ray_cannot_encrypt_with_is_refused(xray: Any, aws: Callable[[str], Any]) -> None:
    kms = aws("kms")
    missing = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    assert refusal(lambda: xray.put_encryption_config(Type="KMS", KeyId=missing)) == (
        f"KMS key {missing} does not exist in us-east-1"
    )
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["Arn"]
    assert refusal(lambda: xray.put_encryption_config(Type="KMS", KeyId=signing)) == (
        f"KMS key {signing} is RSA_2048 for SIGN_VERIFY: X-Ray needs a symmetric encryption key"
    )
    disabled_key = kms.create_key()["KeyMetadata"]
    kms.disable_key(KeyId=disabled_key["KeyId"])
    disabled = disabled_key["Arn"]
    assert refusal(lambda: xray.put_encryption_config(Type="KMS", KeyId=disabled)) == f"KMS key {disabled} is disabled"
    assert refusal(lambda: xray.put_encryption_config(Type="KMS")) == "KeyId is required when Type is KMS"
    # Nothing refused became the setting.
    assert xray.get_encryption_config()["EncryptionConfig"] == {"Type": "NONE", "Status": "ACTIVE"}
