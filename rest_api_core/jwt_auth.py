"""Signed JWTs: RFC 7523 assertions traded for a token, or sent as the bearer themselves.

Signed by PyJWT on ``cryptography`` keys, never by hand. The private key is parsed when the
settings are read: an unreadable key is a config error naming the field, never the key. Both
libraries are imported only when a JWT setting is used (about 35 ms that every other run of a
plugin would pay at startup).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rest_api_core.auth_settings import MAX_JWT_LIFETIME
from rest_api_core.credentials import RenewableCredential
from rest_api_core.errors import ConfigError
from rest_api_core.http import HttpClient
from rest_api_core.redact import SECRETS

_KEY_KINDS = {"RS256": "an RSA", "PS256": "an RSA", "ES256": "an EC P-256"}


@dataclass(frozen=True)
class JwtSettings:
    """A checked signing setup: key, algorithm, key id, claims and lifetime of each JWT."""

    private_key: str
    algorithm: str = "RS256"
    private_key_id: str | None = None
    claims_json: str = "{}"
    lifetime: int = MAX_JWT_LIFETIME

    @classmethod
    def parse(cls, block: Mapping[str, Any], field_path: str,
              default_claims: Mapping[str, Any] | None = None) -> JwtSettings:
        """Settings from an auth block whose key parses for its algorithm; raises
        ``ConfigError`` naming the field otherwise. Registers the key with the redactor."""
        pem = str(block["private_key"])
        SECRETS.add(pem, *(line for line in pem.replace("\\n", "\n").splitlines()
                           if "-----" not in line))
        algorithm = str(block.get("algorithm") or "RS256")
        settings = cls(
            private_key=pem,
            algorithm=algorithm,
            private_key_id=block.get("private_key_id") or None,
            claims_json=json.dumps({**(default_claims or {}), **(block.get("claims") or {})},
                                   sort_keys=True),
            lifetime=int(block.get("lifetime") or MAX_JWT_LIFETIME),
        )
        settings.signing_key(field_path)
        return settings

    @property
    def claims(self) -> dict[str, Any]:
        """The configured claims (null ones left out)."""
        return {k: v for k, v in json.loads(self.claims_json).items() if v is not None}

    def signing_key(self, field_path: str = "auth") -> Any:
        """The parsed private key; ``ConfigError`` naming ``private_key`` if it is unusable."""
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from cryptography.hazmat.primitives.serialization import load_pem_private_key

        where = f"{field_path}.private_key"
        try:
            key = load_pem_private_key(self.private_key.replace("\\n", "\n").encode(), None)
        except (ValueError, TypeError) as error:
            reason = "it is encrypted" if "encrypted" in str(error) else "it is not readable"
            msg = (f"{where}: expected an unencrypted PEM private key (-----BEGIN PRIVATE "
                   f"KEY-----), but {reason}")
            raise ConfigError(msg) from None
        suits = (isinstance(key, ec.EllipticCurvePrivateKey)
                 and isinstance(key.curve, ec.SECP256R1)) if self.algorithm == "ES256" else (
            isinstance(key, rsa.RSAPrivateKey))
        if not suits:
            msg = f"{where}: algorithm {self.algorithm} needs {_KEY_KINDS[self.algorithm]} key"
            raise ConfigError(msg)
        return key

    def sign(self, assertion_for: str | None = None) -> str:
        """A new JWT: the claims, ``iat`` and ``exp``; an assertion for a token URL also gets
        it as ``aud`` (unless a claim sets one) and a fresh ``jti``. Registered with the
        redactor."""
        now = int(time.time())
        payload = {**self.claims, "iat": now, "exp": now + self.lifetime}
        if assertion_for is not None:
            payload.setdefault("aud", assertion_for)
            payload.setdefault("jti", secrets.token_hex(16))
        import jwt

        headers = {"kid": self.private_key_id} if self.private_key_id else None
        token = jwt.encode(payload, self.signing_key(), algorithm=self.algorithm,
                           headers=headers)
        SECRETS.add(token)
        return token


@dataclass(frozen=True)
class BearerJwtSettings:
    """``auth.type: jwt``: a signed JWT sent as the bearer, renewed before it expires."""

    jwt: JwtSettings

    @property
    def endpoint_url(self) -> None:
        """Made locally: no endpoint."""
        return None

    def make_source(self, client: HttpClient | None) -> RenewableCredential:
        """A source of JWTs signed with these settings."""
        return SignedJwtSource(self.jwt)


class SignedJwtSource(RenewableCredential):
    """A JWT signed here, renewed ahead of its ``exp`` (and after a 401)."""

    kind = "a JWT"

    def __init__(self, settings: JwtSettings) -> None:
        super().__init__()
        self.settings = settings

    @property
    def shown_url(self) -> str:
        """No endpoint: signed with the configured private key."""
        return "the configured private_key"

    def _obtain(self) -> tuple[str, float | None]:
        return self.settings.sign(), float(self.settings.lifetime)
