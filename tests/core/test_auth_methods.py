"""Session, JWT, refresh-token store and TLS settings in process: what each registers with the
redactor, how the store is written, and each faulty setting named before any request."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from urllib.parse import quote, quote_plus

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from rest_api_core.auth import build_authenticator
from rest_api_core.credentials import RenewableCredential
from rest_api_core.errors import ConfigError
from rest_api_core.jwt_auth import JwtSettings
from rest_api_core.redact import SECRETS
from rest_api_core.tls import Transport
from rest_api_core.token_store import RefreshTokenStore
from tests.auth_keys import RSA_KEY
from tests.conftest import CANARY_PASSWORD, CANARY_REFRESH_TOKEN, CANARY_USER


def test_every_value_of_a_login_body_is_redacted_raw_and_url_encoded():
    build_authenticator({"type": "session", "login": {
        "url": "https://api/login", "form": {"user": CANARY_USER, "pass": f"{CANARY_PASSWORD} &x"},
        "cookie": True}}, "https://api")

    for form in (CANARY_USER, f"{CANARY_PASSWORD} &x", quote_plus(f"{CANARY_PASSWORD} &x"),
                 quote(f"{CANARY_PASSWORD} &x", safe="")):
        assert SECRETS.redact(f"<{form}>") == "<***>"


def test_proxy_credentials_are_redacted_in_the_url_and_the_proxy_authorization_header():
    password = f"{CANARY_PASSWORD}/+"
    Transport.parse(None, f"http://{CANARY_USER}:{quote(password, safe='')}@proxy:3128")
    header = base64.b64encode(f"{CANARY_USER}:{password}".encode()).decode()

    assert SECRETS.redact(f"{password} {quote(password, safe='')} {header}") == "*** *** ***"


def test_a_private_key_with_escaped_newlines_from_an_environment_variable_parses():
    escaped = RSA_KEY.private_pem.replace("\n", "\\n")
    settings = JwtSettings.parse({"private_key": escaped, "claims": {"iss": "me"}}, "auth")

    token = settings.sign(assertion_for="https://t/token")

    claims = jwt.decode(token, RSA_KEY.public_pem, algorithms=["RS256"], audience="https://t/token")
    assert claims["iss"] == "me" and claims["jti"]
    assert SECRETS.redact(token) == "***"
    assert SECRETS.redact(escaped) == "***"


def test_an_encrypted_private_key_is_named_as_such_and_never_shown():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.BestAvailableEncryption(b"pw")).decode()

    with pytest.raises(ConfigError) as raised:
        build_authenticator({"type": "jwt", "private_key": pem}, "https://api", "streams[2].auth")

    assert str(raised.value) == ("streams[2].auth.private_key: expected an unencrypted PEM "
                                 "private key (-----BEGIN PRIVATE KEY-----), but it is encrypted")


def test_the_store_is_written_0600_atomically_in_a_new_private_directory(tmp_path: Path):
    previous = os.umask(0)
    try:
        store = RefreshTokenStore(str(tmp_path / "new" / "store.json"))
        store.write(CANARY_REFRESH_TOKEN)
        store.write(f"{CANARY_REFRESH_TOKEN}-2")
    finally:
        os.umask(previous)

    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert json.loads(store.path.read_text())["refresh_token"] == f"{CANARY_REFRESH_TOKEN}-2"
    assert os.listdir(store.path.parent) == ["store.json"]  # no temporary file left
    assert store.read() == f"{CANARY_REFRESH_TOKEN}-2"


@pytest.mark.parametrize(
    ("content", "mode", "problem"),
    [
        (None, None, "is a directory; expected a JSON file path"),
        ('{"refresh_token": "x-token"}', 0o640, "can be read by group or others (mode 640)"),
        ("not json", 0o600, "is not a token store (JSONDecodeError)"),
        ('{"other": 1}', 0o600, "is not a token store (ValueError)"),
    ],
)
def test_an_unusable_store_is_a_config_error_naming_the_field(tmp_path: Path, content, mode,
                                                               problem):
    path = tmp_path / "store.json"
    if content is None:
        path.mkdir()
    else:
        path.write_text(content)
        path.chmod(mode)

    with pytest.raises(ConfigError) as raised:
        RefreshTokenStore(str(path)).check("auth.refresh_token_store")

    assert str(raised.value).startswith(f"auth.refresh_token_store: {path} {problem}")


def test_tls_problems_are_named_each_at_its_field(tmp_path: Path):
    unreadable = tmp_path / "key.pem"
    unreadable.write_text("x")
    unreadable.chmod(0)

    with pytest.raises(ConfigError) as raised:
        Transport.parse({"verify": "no", "client_key": str(unreadable), "cafile": "x"},
                        "ftp://proxy", "streams[1].tls", "streams[1].proxy")

    problems = str(raised.value).split("; ")
    assert problems[0] == ("streams[1].tls.cafile: unknown setting (expected one of: "
                           "ca_bundle, client_cert, client_key, verify)")
    assert problems[1] == "streams[1].tls.verify: expected true or false, got 'no'"
    if os.geteuid() != 0:  # root reads any file
        assert f"streams[1].tls.client_key: cannot read {unreadable}" in problems
    assert ("streams[1].tls.client_key: needs client_cert (the certificate the key belongs "
            "to)") in problems
    assert problems[-1].startswith("streams[1].proxy: expected a proxy URL")


class _Counter(RenewableCredential):
    """Credentials "c1", "c2", ... with no known lifetime."""

    def __init__(self) -> None:
        super().__init__()
        self.made = 0

    @property
    def shown_url(self) -> str:
        return "here"

    def _obtain(self) -> tuple[str, float | None]:
        self.made += 1
        return f"c{self.made}", None


def test_a_401_is_an_outright_refusal_only_when_no_other_request_could_still_prove_it_works():
    source = _Counter()
    value = source.current()

    with source.in_use(value):
        alone = source.refused_outright(value)
        with source.in_use(value):  # another thread's request with it, not answered yet
            racing = source.refused_outright(value)
            source.accepted(value)
        after_acceptance = source.refused_outright(value)

    assert (alone, racing, after_acceptance) == (True, False, False)
    assert source.renew("c0") is False and source.renew(value) is True
    assert source.current() == "c2" and source.made == 2
