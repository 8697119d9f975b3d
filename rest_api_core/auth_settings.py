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

GRANT_TYPES = ("client_credentials", "refresh_token")
CLIENT_AUTH_METHODS = ("basic", "body")
OAUTH2_KEYS = frozenset({"type", "token_url", "client_id", "client_secret", "scopes",
                         "grant_type", "refresh_token", "client_auth", "extra_params"})
_SET_BY_CONNECTOR = ("grant_type", "scope", "client_id", "client_secret", "refresh_token")

AUTH_TYPES = ("bearer", "api_key", "basic", "oauth2")
_KEYS_BY_TYPE = {
    "bearer": frozenset({"type", "token"}),
    "api_key": frozenset({"type", "key", "header", "param"}),
    "basic": frozenset({"type", "username", "password"}),
    "oauth2": OAUTH2_KEYS,
}
_REQUIRED = {
    "bearer": (("token", "the bearer token"),),
    "api_key": (("key", "the API key value"),),
    "basic": (("username", "the basic-auth user name"),),
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
    required = {"token_url": "the token endpoint URL", "client_id": "the OAuth2 client ID"}
    if grant == "client_credentials":
        required["client_secret"] = "the OAuth2 client secret"
    problems = [
        SettingsProblem((key,), f"required for auth type 'oauth2' ({meaning})")
        for key, meaning in required.items() if block.get(key) in (None, "")
    ]
    if grant == "refresh_token" and block.get("refresh_token") in (None, ""):
        problems.append(SettingsProblem(("refresh_token",), "required with grant_type "
                                        "'refresh_token' (the refresh token to start from)"))
    problems += _one_of("grant_type", grant, GRANT_TYPES)
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
