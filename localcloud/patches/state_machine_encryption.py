"""Step Functions' ``encryptionConfiguration`` checked on ``CreateStateMachine`` and ``UpdateStateMachine``.

The stack encrypts both state machines with the platform key (``CUSTOMER_MANAGED_KMS_KEY``,
lib/components/base.py). moto 5.2.5 stores any ``encryptionConfiguration`` on a state machine
unchecked (it validates one only for ``CreateActivity``), so a machine naming no key, or a key
that does not exist or cannot encrypt, would deploy here and fail on AWS.

AWS (Step Functions API reference, ``InvalidEncryptionConfiguration``): "if ``type`` is set to
``CUSTOMER_MANAGED_KMS_KEY``, but ``kmsKeyId`` is null, or ``kmsDataKeyReusePeriodSeconds`` is
not between 60 and 900, or the KMS key is not symmetric or inactive"; and
``KmsAccessDeniedException``: "Either your KMS key policy or API caller does not have the
required permissions", which is what a key that is not in the account and region comes to.
The patch refuses exactly these (the messages are the emulator's). Not modelled: whether the
caller and the execution role are allowed to use the key (moto does not evaluate IAM here).
"""

from __future__ import annotations

from typing import Any

ENCRYPTION_TYPES = ("AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY")
DATA_KEY_REUSE_SECONDS = (60, 900)


def check_encryption(account: str, region: str, configuration: dict[str, Any] | None) -> None:
    """Raise the error AWS answers for ``configuration``; return when AWS would accept it."""
    from moto.stepfunctions.exceptions import InvalidEncryptionConfiguration

    if configuration is None:
        return
    encryption_type = configuration.get("type")
    if encryption_type not in ENCRYPTION_TYPES:
        raise InvalidEncryptionConfiguration(
            f"Invalid Encryption Configuration: 'type' must be one of {', '.join(ENCRYPTION_TYPES)}, "
            f"got {encryption_type!r}"
        )
    if encryption_type == "AWS_OWNED_KEY":
        return
    key_id = configuration.get("kmsKeyId")
    if not key_id:
        raise InvalidEncryptionConfiguration(
            "Invalid Encryption Configuration: 'kmsKeyId' is required when 'type' is 'CUSTOMER_MANAGED_KMS_KEY'"
        )
    reuse = configuration.get("kmsDataKeyReusePeriodSeconds")
    low, high = DATA_KEY_REUSE_SECONDS
    if reuse is not None and not low <= int(reuse) <= high:
        raise InvalidEncryptionConfiguration(
            f"Invalid Encryption Configuration: 'kmsDataKeyReusePeriodSeconds' must be between {low} and {high}, "
            f"got {reuse}"
        )
    _check_key(account, region, str(key_id))


def _check_key(account: str, region: str, key_id: str) -> None:
    from moto.core.exceptions import JsonRESTError
    from moto.kms.models import kms_backends
    from moto.stepfunctions.exceptions import InvalidEncryptionConfiguration

    try:
        key = kms_backends[account][region].describe_key(key_id)
    except Exception as error:  # moto's NotFoundException for an unknown key or alias
        raise JsonRESTError(
            "KmsAccessDeniedException", f"Either your KMS key policy or API caller cannot use {key_id}"
        ) from error
    # moto keeps None for what CreateKey defaulted (AWS's defaults: SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT).
    spec, usage = key.key_spec or "SYMMETRIC_DEFAULT", key.key_usage or "ENCRYPT_DECRYPT"
    if spec != "SYMMETRIC_DEFAULT" or usage != "ENCRYPT_DECRYPT":
        raise InvalidEncryptionConfiguration(
            f"Invalid Encryption Configuration: KMS key {key_id} is {spec} for {usage}, not a symmetric encryption key"
        )
    if not key.enabled:
        raise InvalidEncryptionConfiguration(f"Invalid Encryption Configuration: KMS key {key_id} is not enabled")


def apply() -> None:
    from moto.stepfunctions.models import StepFunctionBackend

    original_create = StepFunctionBackend.create_state_machine
    original_update = StepFunctionBackend.update_state_machine

    def create_state_machine(self: Any, *args: Any, **kwargs: Any) -> Any:
        check_encryption(self.account_id, self.region_name, kwargs.get("encryptionConfiguration"))
        return original_create(self, *args, **kwargs)

    def update_state_machine(self: Any, *args: Any, **kwargs: Any) -> Any:
        check_encryption(self.account_id, self.region_name, kwargs.get("encryption_configuration"))
        return original_update(self, *args, **kwargs)

    StepFunctionBackend.create_state_machine = create_state_machine  # type: ignore[method-assign]
    StepFunctionBackend.update_state_machine = update_state_machine  # type: ignore[method-assign]
