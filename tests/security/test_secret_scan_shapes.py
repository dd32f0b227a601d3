"""The secret scan (testkit.secret_scan) finds a webhook signing secret and a PEM private key by
their shapes alone: ones nobody handed it, in any record, named by the record and never quoted;
what only looks like one (the bare prefix, too few digits, upper case; a certificate, a public
key) is no hit."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from payment_core import contract

from localcloud.network_tls import LocalCA
from testkit.secret_scan import Record, file_records, scan


def test_a_webhook_secret_in_clear_is_a_hit_wherever_it_is_recorded() -> None:
    secret = contract.WEBHOOK_SECRET_PREFIX + secrets.token_hex(32)
    records = [
        Record("logs:/aws/lambda/payment-api-e2e", f'{{"level":"INFO","body":{{"secret":"{secret}"}}}}'.encode()),
        Record("item:payment-events-e2e", b'{"signing_secrets":{"L":[{"M":{"ciphertext":{"B":"AQICAHh..."}}}]}}'),
        Record("file:server.log", f"webhook_delivery: signing with {secret[:-1]}\n".encode()),
    ]
    report = scan(records, {})
    assert report.hits == [("logs:/aws/lambda/payment-api-e2e", "webhook signing secret")]
    assert (report.records, report.scanned_bytes) == (
        {"logs": 1, "item": 1, "file": 1},
        sum(len(r.data) for r in records),
    )
    assert all(secret not in f"{source} {label}" for source, label in report.hits)


def test_what_only_looks_like_a_webhook_secret_is_no_hit() -> None:
    lookalikes = [
        b"the signing secret is shown once: whsec_...",
        b"whsec_" + b"0" * 63,
        b"whsec_" + b"A" * 64,
    ]
    assert scan([Record(f"file:{n}", data) for n, data in enumerate(lookalikes)], {}).hits == []


def test_needles_and_shapes_are_both_reported() -> None:
    secret = contract.WEBHOOK_SECRET_PREFIX + "ab" * 32
    record = Record("trace:1-abc", f"key sk_live_canary then {secret}".encode())
    assert scan([record], {"secret key #0": "sk_live_canary"}).hits == [
        ("trace:1-abc", "secret key #0"),
        ("trace:1-abc", "webhook signing secret"),
    ]


def test_a_pem_private_key_is_a_hit_in_every_format_raw_or_in_json(tmp_path: Path) -> None:
    # What a deploy of prod imports into ACM: a certificate and its key from the emulator's CA
    # (testkit.deployment.environment_variables), as the emulator's /certificates route issues them.
    issued = LocalCA(tmp_path / "network").issue(["api.prod.payments.internal"])
    pem = serialization.Encoding.PEM
    ec_key, rsa_key = ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)
    keys = {
        "acm import (PKCS #8)": issued["key"],
        "EC, OpenSSL's": ec_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
        "RSA, OpenSSL's": rsa_key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode(),
        "PKCS #8, encrypted": ec_key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"passphrase")
        ).decode(),
        "OpenSSH": ed25519.Ed25519PrivateKey.generate()
        .private_bytes(pem, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption())
        .decode(),
        # No OpenPGP library here: the armor's lines, as gpg --export-secret-keys --armor writes them.
        "OpenPGP": (
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlFgEZ0wBzhYJKwYBBAHaRw8BAQdA\n"
            "-----END PGP PRIVATE KEY BLOCK-----\n"
        ),
    }
    assert {key.splitlines()[0] for key in keys.values()} == {
        "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
    }
    records = [
        *(Record(f"file:server.log#{label}", f"import_certificate: {key}".encode()) for label, key in keys.items()),
        # Terraform state and log events are JSON: the key's newlines escaped.
        *(
            Record(f"file:terraform.tfstate#{label}", json.dumps({"private_key": key}).encode())
            for label, key in keys.items()
        ),
    ]
    report = scan(records, {})
    assert report.hits == [(record.source, "PEM private key") for record in records]
    assert all(key not in f"{source} {label}" for source, label in report.hits for key in keys.values())


def test_certificates_and_public_keys_are_no_hit(tmp_path: Path) -> None:
    # The emulator's network directory as a run leaves it: its CA certificate and the trust bundle
    # (this machine's CA certificates and the run's) the functions read; then what ACM's import is
    # given beside the key, a public key and a certificate request.
    ca = LocalCA(tmp_path / "network")
    issued = ca.issue(["api.prod.payments.internal"])
    key = ec.generate_private_key(ec.SECP256R1())
    public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "api.prod.payments.internal")]))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    records = [
        *file_records(tmp_path),
        Record("item:certificates", json.dumps({"certificate": issued["certificate"], "chain": issued["ca"]}).encode()),
        Record("logs:/aws/lambda/payment-api-e2e", public_key + request),
        Record("file:runbook.txt", b"never log the key: no PRIVATE KEY, no -----BEGIN PRIVATE KEY line\n"),
    ]
    assert {record.source for record in records} >= {"file:network/ca.pem", "file:network/trust.pem"}
    report = scan(records, {})
    assert report.hits == []
    assert report.scanned_bytes > 10_000  # the trust bundle: the machine's CA certificates
