"""A certificate authority and a broker certificate for the local secured broker's TLS
listener (secure_kafka.py), as Strimzi's cluster CA signs the brokers' on Kubernetes: the
clients trust the CA (KAFKA_SSL_CAFILE), not the broker's own certificate. Made with
`cryptography` at each start, for 127.0.0.1 and localhost, valid for a day; never leaves the
broker's state dir."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class TlsFiles(NamedTuple):
    ca: Path  # the CA's certificate (PEM): what clients trust
    keystore: Path  # the broker's unencrypted PKCS#8 key and its certificate (PEM), for ssl.keystore.location


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make(directory: Path, host: str = "127.0.0.1") -> TlsFiles:
    """Writes a new CA and a certificate for `host` (and localhost) signed by it into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("advocacy local cluster CA")).issuer_name(_name(
        "advocacy local cluster CA")).public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    broker = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca.subject)
              .public_key(key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
              .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                          x509.DNSName("localhost")]), critical=False)
              .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
              .sign(ca_key, hashes.SHA256()))
    files = TlsFiles(directory / "ca.crt", directory / "broker.pem")
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.keystore.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        + broker.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    files.keystore.chmod(0o600)
    return files
