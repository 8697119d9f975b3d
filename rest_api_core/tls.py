"""How requests reach an API: TLS verification, client certificates and an explicit proxy.

Files are checked when the settings are read (a missing or unreadable file is a config error
naming its field), so a run never fails half-way on them.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import requests

from rest_api_core.errors import ConfigError
from rest_api_core.redact import SECRETS

TLS_KEYS = frozenset({"ca_bundle", "client_cert", "client_key", "verify"})
PROXY_SCHEMES = ("http", "https")

logger = logging.getLogger("rest_api_core.tls")


@dataclass(frozen=True)
class Transport:
    """Checked ``tls`` and ``proxy`` settings; equal ones let clients share token sources."""

    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    verify: bool = True
    proxy: str | None = None

    @classmethod
    def parse(cls, tls: Mapping[str, Any] | None, proxy: str | None,
              tls_field: str = "tls", proxy_field: str = "proxy") -> Transport | None:
        """Checked settings (None when neither is given); raises ``ConfigError`` naming each
        faulty field. Registers the credentials of a proxy URL with the redactor."""
        if not tls and not proxy:
            return None
        tls = tls or {}
        problems = [f"{tls_field}.{key}: unknown setting (expected one of: "
                    f"{', '.join(sorted(TLS_KEYS))})" for key in tls if key not in TLS_KEYS]
        verify = tls.get("verify", True)
        if not isinstance(verify, bool):
            problems.append(f"{tls_field}.verify: expected true or false, got {verify!r}")
        for key in ("ca_bundle", "client_cert", "client_key"):
            problem = _file_problem(tls.get(key))
            if problem:
                problems.append(f"{tls_field}.{key}: {problem}")
        if tls.get("client_key") and not tls.get("client_cert"):
            problems.append(f"{tls_field}.client_key: needs client_cert (the certificate "
                            "the key belongs to)")
        if proxy:
            problems += [f"{proxy_field}: {problem}" for problem in _proxy_problems(str(proxy))]
        if problems:
            raise ConfigError("; ".join(problems))
        if not verify:
            logger.warning("TLS certificates are NOT verified (%s.verify: false): anyone on "
                           "the network path can read and change these requests", tls_field)
        return cls(ca_bundle=tls.get("ca_bundle"), client_cert=tls.get("client_cert"),
                   client_key=tls.get("client_key"), verify=verify,
                   proxy=str(proxy) if proxy else None)

    def apply(self, session: requests.Session) -> None:
        """Set verification, the client certificate and the proxy on ``session``."""
        if not self.verify:
            session.verify = False
        elif self.ca_bundle:
            session.verify = self.ca_bundle
        if self.client_cert:
            session.cert = (self.client_cert, self.client_key) if self.client_key else (
                self.client_cert)
        if self.proxy:
            session.proxies = {"http": self.proxy, "https": self.proxy}


def _file_problem(path: Any) -> str | None:
    if path is None:
        return None
    if not isinstance(path, str) or not path:
        return f"expected a file path, got {path!r}"
    if not os.path.isfile(path):
        return f"no such file: {path}"
    if not os.access(path, os.R_OK):
        return f"cannot read {path}"
    return None


def _proxy_problems(proxy: str) -> list[str]:
    parts = urlsplit(proxy)
    if parts.password is not None or parts.username is not None:
        SECRETS.add(parts.password and unquote(parts.password), parts.password,
                    parts.netloc.rpartition("@")[0])
        SECRETS.add_basic_auth(unquote(parts.username or ""), unquote(parts.password or ""))
    if parts.scheme not in PROXY_SCHEMES or not parts.hostname:
        return [f"expected a proxy URL, scheme://[user:password@]host:port with scheme "
                f"{', '.join(PROXY_SCHEMES)} (the value is not shown: it may hold credentials)"]
    return []
