"""Keys and certificates made for the tests with ``cryptography``: signing keys for JWTs, and a
private CA with a server and a client certificate for TLS tests.

The private keys are canaries: ``tests.conftest.assert_no_canary`` fails on any line of them.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class KeyPair:
    """A private key as PEM (the setting's value) and its public key as PEM."""

    private_pem: str
    public_pem: str


def _pair(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> KeyPair:
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo)
    return KeyPair(private, public.decode())


RSA_KEY = _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
OTHER_RSA_KEY = _pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
"""Not the key the token server knows: its assertions are refused."""
EC_KEY = _pair(ec.generate_private_key(ec.SECP256R1()))


def key_canaries() -> set[str]:
    """The base64 lines of the tests' private keys."""
    return {line for pair in (RSA_KEY, OTHER_RSA_KEY, EC_KEY)
            for line in pair.private_pem.splitlines() if "-----" not in line and len(line) > 8}


@dataclass(frozen=True)
class Certificates:
    """PEM files under one directory: a private CA, a server and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: rsa.RSAPrivateKey, path: Path) -> None:
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _issue(ca_key: rsa.RSAPrivateKey, ca_name: x509.Name, subject: str,
           usage: x509.ObjectIdentifier) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(ca_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    return builder.sign(ca_key, hashes.SHA256()), key


def make_certificates(directory: Path) -> Certificates:
    """A new private CA, a certificate for 127.0.0.1 and a client certificate it signed."""
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _name("connector test CA")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    files = Certificates(*(directory / name for name in (
        "ca.pem", "server.pem", "server.key", "client.pem", "client.key")))
    files.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for usage, cert_path, key_path in (
        (ExtendedKeyUsageOID.SERVER_AUTH, files.server_cert, files.server_key),
        (ExtendedKeyUsageOID.CLIENT_AUTH, files.client_cert, files.client_key),
    ):
        cert, key = _issue(ca_key, ca_name, "127.0.0.1", usage)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        _write_key(key, key_path)
    return files
