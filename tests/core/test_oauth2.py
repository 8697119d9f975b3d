"""The OAuth2 token source in process: one fetch however many threads ask, the renewal
leeway, and each faulty auth setting named before any request."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from rest_api_core.auth import build_authenticator
from rest_api_core.credentials import CredentialSources, renewal_leeway
from rest_api_core.errors import ConfigError
from rest_api_core.oauth2 import OAuth2Settings
from rest_api_core.redact import SECRETS
from tests.conftest import CANARY_CLIENT_SECRET, CANARY_REFRESH_TOKEN
from tests.oauth2_server import TokenServer

THREADS = 8


def _all_at_once(work: callable) -> list[str]:
    start = threading.Barrier(THREADS)

    def call() -> str:
        start.wait()
        return work()

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(lambda _: call(), range(THREADS)))


@pytest.mark.parametrize(("lifetime", "leeway"), [(1, 0.1), (120, 12), (600, 60), (3600, 60)])
def test_tokens_are_renewed_a_tenth_of_their_lifetime_early_at_most_a_minute(lifetime, leeway):
    assert renewal_leeway(lifetime) == pytest.approx(leeway)


def test_threads_asking_at_once_share_one_token_fetch(token_server: TokenServer):
    token_server.delay = 0.2
    source = CredentialSources().source_for(OAuth2Settings.parse(token_server.auth()))

    tokens = _all_at_once(source.current)

    assert len(token_server.requests) == 1
    assert set(tokens) == {token_server.issued[0]}


def test_threads_refused_the_same_token_renew_it_once(token_server: TokenServer):
    source = CredentialSources().source_for(OAuth2Settings.parse(token_server.auth()))
    rejected = source.current()
    token_server.delay = 0.2

    renewed = _all_at_once(lambda: source.renew(rejected))

    assert len(token_server.requests) == 2
    assert sorted(renewed) == [False] * (THREADS - 1) + [True]  # one thread fetched it
    assert source.current() == token_server.issued[1]


def test_equal_auth_blocks_share_a_source_and_different_ones_do_not(token_server: TokenServer):
    sources = CredentialSources()
    first = sources.source_for(OAuth2Settings.parse(token_server.auth(scopes=["a", "b"])))
    same = sources.source_for(OAuth2Settings.parse(token_server.auth(scopes="a b")))
    other = sources.source_for(OAuth2Settings.parse(token_server.auth(scopes="a")))

    assert first is same
    assert other is not first


def test_the_secrets_of_an_oauth2_block_are_registered_for_redaction(token_server: TokenServer):
    build_authenticator(token_server.auth(grant_type="refresh_token",
                                          refresh_token=CANARY_REFRESH_TOKEN), "http://api")

    assert SECRETS.redact(f"{CANARY_CLIENT_SECRET} {CANARY_REFRESH_TOKEN}") == "*** ***"


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"client_id": "c", "client_secret": "s"},
         "streams[0].auth.token_url: required for auth type 'oauth2' (the token endpoint URL)"),
        ({"token_url": "https://login/t", "client_secret": "s"},
         "streams[0].auth.client_id: required for auth type 'oauth2' (the OAuth2 client ID)"),
        ({"token_url": "https://login/t", "client_id": "c"},
         "streams[0].auth.client_secret: required for auth type 'oauth2' (the OAuth2 client "
         "secret)"),
        ({"token_url": "https://login/t", "client_id": "c", "grant_type": "refresh_token"},
         "streams[0].auth.refresh_token: required with grant_type 'refresh_token'"),
        ({"token_url": "https://login/t", "client_id": "c", "client_secret": "s",
          "grant_type": "password"},
         "streams[0].auth.grant_type: 'password' is not one of client_credentials, "
         "refresh_token"),
        ({"token_url": "https://login/t", "client_id": "c", "client_secret": "s",
          "client_auth": "header"},
         "streams[0].auth.client_auth: 'header' is not one of basic, body"),
        ({"token_url": "login.example.com/t", "client_id": "c", "client_secret": "s"},
         "streams[0].auth.token_url: expected an http(s) URL, got 'login.example.com/t'"),
        ({"token_url": "https://login/t", "client_id": "c", "client_secret": "s",
          "extra_params": {"scope": "x"}},
         "streams[0].auth.extra_params.scope: set by the connector from the other oauth2 "
         "settings"),
        ({"token_url": "https://login/t", "client_id": "c", "client_secret": "s",
          "token": "t"},
         "streams[0].auth.token: does not apply to auth type 'oauth2'"),
    ],
    ids=["token_url", "client_id", "client_secret", "refresh_token", "grant_type",
         "client_auth", "url", "extra_params", "foreign-key"],
)
def test_each_faulty_oauth2_setting_is_named(block, message):
    with pytest.raises(ConfigError) as raised:
        build_authenticator({"type": "oauth2", **block}, "http://api", "streams[0].auth")

    assert message in str(raised.value)
