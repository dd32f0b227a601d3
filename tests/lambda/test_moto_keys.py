"""testkit.moto_keys (tests/conftest.py turns it on): a moto KMS key makes its key pair on first
use, of the type its key spec names, and answers sign, verify and GetPublicKey as before."""

from __future__ import annotations

import boto3
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key
from moto import mock_aws
from moto.kms.models import kms_backends

from testkit.environment import ACCOUNT_ID, REGION
from testkit.moto_keys import DeferredKeyPair


def test_a_key_makes_its_pair_on_first_use_of_its_spec_and_signs_with_it() -> None:
    with mock_aws():
        kms = boto3.client("kms", region_name=REGION)
        symmetric = kms.create_key(KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]["KeyId"]
        signing = kms.create_key(KeySpec="RSA_3072", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        ecc = kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
        keys = kms_backends[ACCOUNT_ID][REGION].keys
        pairs = {key_id: keys[key_id].private_key for key_id in (symmetric, signing, ecc)}
        assert all(isinstance(pair, DeferredKeyPair) and pair._key_pair is None for pair in pairs.values())

        ciphertext = kms.encrypt(KeyId=symmetric, Plaintext=b"card")["CiphertextBlob"]
        assert kms.decrypt(CiphertextBlob=ciphertext)["Plaintext"] == b"card"
        assert pairs[symmetric]._key_pair is None  # symmetric keys never need the pair

        public = load_der_public_key(kms.get_public_key(KeyId=signing)["PublicKey"])
        assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 3072
        signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
        verified = kms.verify(KeyId=signing, Message=b"m", Signature=signature, SigningAlgorithm="RSASSA_PSS_SHA_256")
        assert verified["SignatureValid"] is True
        assert isinstance(load_der_public_key(kms.get_public_key(KeyId=ecc)["PublicKey"]), ec.EllipticCurvePublicKey)
