"""TLS trust for the emulator's network: one CA per emulator run, trusted by the function processes.

On AWS a function's ``ssl.create_default_context()`` trusts the CA bundle of the runtime's
operating system, and a merchant's receiver presents a certificate from a public CA. Here the
CA is generated when the emulator starts (its key only ever in the server's memory), the
receiver's certificate for its names is signed by it (``issue``), and the function processes
get ``SSL_CERT_FILE`` = ``<state>/network/trust.pem``: this machine's CA bundle plus the run's
CA, so verification stays on (hostname and chain checked by OpenSSL as on AWS) and nothing else
changes: a certificate for other names, or from another CA, fails exactly as it would there.
"""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

TRUST_FILE = "trust.pem"
CA_FILE = "ca.pem"
VALIDITY = datetime.timedelta(days=2)
_CLOCK_SKEW = datetime.timedelta(minutes=5)


def _system_bundle() -> str:
    """The PEM bundle OpenSSL trusts on this machine (what ``create_default_context`` loads)."""
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    import certifi  # no system bundle: the one botocore and requests ship

    return Path(certifi.where()).read_text()


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


class LocalCA:
    """The run's certificate authority; ``trust_file`` is what the functions trust."""

    def __init__(self, directory: Path, common_name: str = "localcloud network CA") -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        directory.mkdir(parents=True, exist_ok=True)
        self.ca_pem = _pem(self.certificate)
        (directory / CA_FILE).write_text(self.ca_pem)
        self.trust_file = directory / TRUST_FILE
        staging = directory / f"{TRUST_FILE}.tmp"
        staging.write_text(_system_bundle().rstrip("\n") + "\n" + self.ca_pem)
        staging.replace(self.trust_file)

    def issue(self, names: list[str]) -> dict[str, str]:
        """A server certificate for exactly ``names`` (subjectAltName DNS entries), with its key."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - _CLOCK_SKEW)
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
        return {"certificate": _pem(certificate), "key": key_pem, "ca": self.ca_pem}
