"""X-Ray's account encryption setting: ``PutEncryptionConfig`` and ``GetEncryptionConfig``.

moto 5.2.5 has neither (no URL, no response method), so the account stack's
``aws_xray_encryption_config`` (lib/account_stack.py) could not be applied to the emulator.
The patch adds both, on X-Ray's own paths (``POST /PutEncryptionConfig``, ``POST
/EncryptionConfig``, botocore's xray model), one setting per account and region as on AWS
(default ``{"Type": "NONE", "Status": "ACTIVE"}``).

As strict as AWS where AWS documents a refusal: ``Type`` is ``NONE`` or ``KMS``; ``KMS`` needs
a ``KeyId`` naming a key of this account and region (key id, key ARN, alias name or alias ARN);
X-Ray "does not support asymmetric KMS keys" (PutEncryptionConfig API reference), so a key that
is not a symmetric ENCRYPT_DECRYPT key, or is disabled (X-Ray stops storing data when it cannot
use its key), is refused with ``InvalidRequestException`` (the operation's documented error; the
message is the emulator's). The emulator answers ``ACTIVE`` at once; AWS reports ``UPDATING``
while it propagates the new key, and the provider waits for ``ACTIVE`` either way.
"""

from __future__ import annotations

import json
from typing import Any

PUT_PATH = "{0}/PutEncryptionConfig$"
GET_PATH = "{0}/EncryptionConfig$"
ENCRYPTION_TYPES = ("NONE", "KMS")
DEFAULT_SETTING: dict[str, str] = {"Type": "NONE", "Status": "ACTIVE"}

# (account, region) -> the setting GetEncryptionConfig answers.
SETTINGS: dict[tuple[str, str], dict[str, str]] = {}


class InvalidEncryptionKey(ValueError):
    """The request names no key X-Ray could encrypt with; the message says why."""


def _usable_key_arn(account: str, region: str, key_id: str) -> str:
    """The ARN of the symmetric, enabled ENCRYPT_DECRYPT key ``key_id`` names, or a refusal."""
    from moto.kms.models import kms_backends

    backend = kms_backends[account][region]
    try:
        key = backend.describe_key(key_id)
    except Exception as error:  # moto's NotFoundException for an unknown key or alias
        raise InvalidEncryptionKey(f"KMS key {key_id} does not exist in {region}") from error
    # moto keeps None for what CreateKey defaulted (AWS's defaults: SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT).
    spec, usage = key.key_spec or "SYMMETRIC_DEFAULT", key.key_usage or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        raise InvalidEncryptionKey(f"KMS key {key_id} is {spec} for {usage}: X-Ray needs a symmetric encryption key")
    if not key.enabled:
        raise InvalidEncryptionKey(f"KMS key {key_id} is disabled")
    return str(key.arn)


def put_setting(account: str, region: str, request: dict[str, Any]) -> dict[str, str]:
    """Validate ``request`` (PutEncryptionConfig's body) and make it the account's setting."""
    encryption_type = request.get("Type")
    if encryption_type not in ENCRYPTION_TYPES:
        raise InvalidEncryptionKey(f"Type must be one of {', '.join(ENCRYPTION_TYPES)}, got {encryption_type!r}")
    if encryption_type == "NONE":
        setting = dict(DEFAULT_SETTING)
    else:
        key_id = request.get("KeyId")
        if not key_id:
            raise InvalidEncryptionKey("KeyId is required when Type is KMS")
        setting = {"Type": "KMS", "KeyId": _usable_key_arn(account, region, str(key_id)), "Status": "ACTIVE"}
    SETTINGS[(account, region)] = setting
    return setting


def get_setting(account: str, region: str) -> dict[str, str]:
    return dict(SETTINGS.get((account, region), DEFAULT_SETTING))


def apply() -> None:
    from moto.xray import urls
    from moto.xray.responses import XRayResponse

    def put_encryption_config(self: Any) -> Any:
        try:
            setting = put_setting(self.current_account, self.region, self.request_params)
        except InvalidEncryptionKey as error:
            return self._error("InvalidRequestException", str(error))
        return json.dumps({"EncryptionConfig": setting})

    def encryption_config(self: Any) -> str:
        return json.dumps({"EncryptionConfig": get_setting(self.current_account, self.region)})

    urls.url_paths.setdefault(PUT_PATH, XRayResponse.dispatch)
    urls.url_paths.setdefault(GET_PATH, XRayResponse.dispatch)
    responses: Any = XRayResponse
    # XRayResponse._get_action turns the path into the method name: put_encryption_config for
    # /PutEncryptionConfig, encryption_config for /EncryptionConfig.
    responses.put_encryption_config = put_encryption_config
    responses.encryption_config = encryption_config
