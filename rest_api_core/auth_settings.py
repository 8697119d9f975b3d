"""Checks of ``auth`` blocks: what makes one unusable, each problem at its path.

Kept apart from the authenticators (``rest_api_core.auth``, on singer-sdk) so that the
pipeline translator checks a pipeline without importing singer-sdk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from rest_api_core.config import SettingsProblem, did_you_mean
from rest_api_core.redact import SECRETS

GRANT_TYPES = ("client_credentials", "refresh_token", "jwt_bearer")
CLIENT_AUTH_METHODS = ("basic", "body")
JWT_ALGORITHMS = ("RS256", "ES256", "PS256")
MAX_JWT_LIFETIME = 3600
JWT_KEYS = frozenset({"private_key", "algorithm", "private_key_id", "claims", "lifetime"})
OAUTH2_KEYS = frozenset({"type", "token_url", "client_id", "client_secret", "scopes",
                         "grant_type", "refresh_token", "client_auth", "extra_params",
                         "refresh_token_store", "tls"}) | JWT_KEYS
_SET_BY_CONNECTOR = ("grant_type", "scope", "client_id", "client_secret", "refresh_token",
                     "assertion")
_CLAIMS_SET_BY_CONNECTOR = ("iat", "exp")
LOGIN_KEYS = frozenset({"url", "method", "body", "form", "token_field", "token_header",
                        "cookie", "expires_in_field", "ttl"})
LOGIN_METHODS = ("POST", "GET", "PUT")
SEND_KEYS = frozenset({"header", "prefix"})

AUTH_TYPES = ("bearer", "api_key", "basic", "oauth2", "session", "jwt")
_KEYS_BY_TYPE = {
    "bearer": frozenset({"type", "token"}),
    "api_key": frozenset({"type", "key", "header", "param"}),
    "basic": frozenset({"type", "username", "password"}),
    "oauth2": OAUTH2_KEYS,
    "session": frozenset({"type", "login", "send", "tls"}),
    "jwt": JWT_KEYS | {"type"},
}
_REQUIRED = {
    "bearer": (("token", "the bearer token"),),
    "api_key": (("key", "the API key value"),),
    "basic": (("username", "the basic-auth user name"),),
    "session": (("login", "the login request"),),
    "jwt": (("private_key", "the PEM private key that signs the JWT"),),
}


def auth_problems(auth: dict[str, Any]) -> list[SettingsProblem]:
    """What makes an ``auth`` block unusable, with paths relative to the block."""
    kind = auth.get("type")
    if kind not in _KEYS_BY_TYPE:
        return [SettingsProblem(("type",), f"{kind!r} is not one of {', '.join(AUTH_TYPES)}"
                                           f"{did_you_mean(str(kind), AUTH_TYPES)}")]
    allowed = _KEYS_BY_TYPE[kind]
    problems = [
        SettingsProblem((key,), f"does not apply to auth type '{kind}' (it takes: "
                                f"{', '.join(sorted(allowed))})")
        for key in auth if key not in allowed
    ]
    for key, meaning in _REQUIRED.get(kind, ()):
        if auth.get(key) in (None, ""):
            problems.append(SettingsProblem((key,), f"required for auth type '{kind}' "
                                                    f"({meaning})"))
    if kind == "api_key" and bool(auth.get("header")) == bool(auth.get("param")):
        problems.append(SettingsProblem((), "api_key needs exactly one of 'header' or 'param' "
                                            "(where it goes)"))
    if kind == "oauth2":
        problems.extend(oauth2_problems(auth))
    elif kind == "jwt":
        problems.extend(jwt_problems(auth))
    elif kind == "session" and isinstance(auth.get("login"), Mapping):
        problems.extend(session_problems(auth))
    return problems


def _one_of(key: str, value: str, choices: tuple[str, ...]) -> list[SettingsProblem]:
    if value in choices:
        return []
    message = f"{value!r} is not one of {', '.join(choices)}{did_you_mean(value, choices)}"
    return [SettingsProblem((key,), message)]


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def oauth2_problems(block: Mapping[str, Any]) -> list[SettingsProblem]:
    """What makes an ``oauth2`` auth block unusable, with paths relative to the block."""
    grant = str(block.get("grant_type") or "client_credentials")
    required = {"token_url": "the token endpoint URL"}
    if grant != "jwt_bearer":
        required["client_id"] = "the OAuth2 client ID"
    if grant == "client_credentials":
        required["client_secret"] = "the OAuth2 client secret"
    if grant == "jwt_bearer":
        required["private_key"] = "the PEM private key that signs the assertion"
    problems = [
        SettingsProblem((key,), f"required for auth type 'oauth2' ({meaning})")
        for key, meaning in required.items() if block.get(key) in (None, "")
    ]
    if grant == "refresh_token" and block.get("refresh_token") in (None, ""):
        problems.append(SettingsProblem(("refresh_token",), "required with grant_type "
                                        "'refresh_token' (the refresh token to start from)"))
    problems += _one_of("grant_type", grant, GRANT_TYPES)
    problems += _only_with_grant(block, grant)
    if grant == "jwt_bearer":
        problems += jwt_problems(block)
        claims = block.get("claims") or {}
        if not block.get("client_id") and not (isinstance(claims, Mapping) and claims.get("iss")):
            problems.append(SettingsProblem(("claims", "iss"), "required with grant_type "
                                            "'jwt_bearer' unless client_id is given (the "
                                            "assertion's issuer)"))
    problems += _one_of("client_auth", str(block.get("client_auth") or "basic"),
                        CLIENT_AUTH_METHODS)
    url = block.get("token_url")
    if url and not _is_http_url(str(url)):
        problems.append(SettingsProblem(("token_url",), f"expected an http(s) URL, got "
                                                        f"{SECRETS.redact(repr(url))}"))
    problems += [
        SettingsProblem(("extra_params", key), "set by the connector from the other oauth2 "
                                               "settings; set it there")
        for key in block.get("extra_params") or {} if key in _SET_BY_CONNECTOR
    ]
    return problems


def _only_with_grant(block: Mapping[str, Any], grant: str) -> list[SettingsProblem]:
    needs = {key: "jwt_bearer" for key in JWT_KEYS} | {"refresh_token_store": "refresh_token"}
    return [SettingsProblem((key,), f"applies only with grant_type '{needs[key]}'")
            for key in block if key in needs and needs[key] != grant]


def jwt_problems(block: Mapping[str, Any]) -> list[SettingsProblem]:
    """What makes the JWT signing settings of a block unusable (the key itself is parsed
    when the authenticator is built)."""
    problems = _one_of("algorithm", str(block.get("algorithm") or "RS256"), JWT_ALGORITHMS)
    lifetime = block.get("lifetime")
    if lifetime is not None and (isinstance(lifetime, bool) or not isinstance(lifetime, int)
                                 or not 0 < lifetime <= MAX_JWT_LIFETIME):
        problems.append(SettingsProblem(("lifetime",), f"expected whole seconds from 1 to "
                                                       f"{MAX_JWT_LIFETIME}, got {lifetime!r}"))
    claims = block.get("claims")
    if claims is not None and not isinstance(claims, Mapping):
        problems.append(SettingsProblem(("claims",), "expected an object of JWT claims"))
    problems += [SettingsProblem(("claims", key), "set by the connector from lifetime")
                 for key in claims or () if key in _CLAIMS_SET_BY_CONNECTOR]
    return problems


def session_problems(block: Mapping[str, Any]) -> list[SettingsProblem]:
    """What makes a ``session`` auth block unusable, with paths relative to the block."""
    login = block["login"]
    problems = [SettingsProblem(("login", key), f"unknown setting (expected one of: "
                                                f"{', '.join(sorted(LOGIN_KEYS))})")
                for key in login if key not in LOGIN_KEYS]
    url = login.get("url")
    if not url or not _is_http_url(str(url)):
        problems.append(SettingsProblem(("login", "url"), "required: the login endpoint's "
                                        "http(s) URL"))
    problems += [SettingsProblem(("login", *p.path), p.message) for p in
                 _one_of("method", str(login.get("method") or "POST").upper(), LOGIN_METHODS)]
    where = [key for key in ("token_field", "token_header") if login.get(key)]
    where += ["cookie"] if login.get("cookie") else []
    if len(where) != 1:
        problems.append(SettingsProblem(("login",), "needs exactly one of token_field (a dot "
                                        "path in the answer), token_header or cookie: true"))
    if login.get("body") is not None and login.get("form") is not None:
        problems.append(SettingsProblem(("login",), "takes a JSON body or a form, not both"))
    ttl = login.get("ttl")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int | float)
                            or ttl <= 0):
        problems.append(SettingsProblem(("login", "ttl"), f"expected seconds above 0, got "
                                                          f"{ttl!r}"))
    send = block.get("send") or {}
    problems += [SettingsProblem(("send", key), f"unknown setting (expected one of: "
                                                f"{', '.join(sorted(SEND_KEYS))})")
                 for key in send if key not in SEND_KEYS]
    if send and login.get("cookie"):
        problems.append(SettingsProblem(("send",), "does not apply with login.cookie: true "
                                        "(the cookies are sent as they came)"))
    return problems
