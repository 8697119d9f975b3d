"""The ``auth`` block from the spec's security schemes, with ``{{ env.NAME }}`` placeholders.

Secrets are never taken from the spec or written out: each credential is an environment
variable, named after the API (``STRIPE_TOKEN``), that the user sets before ``validate``/``run``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from rest_connector.init.spec import Node, Spec


@dataclass
class AuthGuess:
    """An auth block (or None), the env variables it reads, and what to tell the user."""

    block: dict[str, Any] | None
    env: list[str] = field(default_factory=list)
    evidence: str = ""
    todo: str | None = None


def env_prefix(title: str) -> str:
    """``"Stripe API"`` → ``STRIPE``: the API's name as an environment variable prefix."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = [w for w in re.split(r"[^A-Za-z0-9]+", ascii_title.upper()) if w]
    words = [w for w in words if w not in ("API", "REST", "THE", "OPENAPI", "V1", "V2", "V3")]
    prefix = "_".join(words[:2]) or "API"
    return prefix if not prefix[0].isdigit() else f"API_{prefix}"


_PREFERRED = ("bearer", "oauth2", "api_key", "basic")
"""When an operation takes any of several schemes: the one with the fewest settings first."""


def placeholder(name: str) -> str:
    """A template reading the environment variable ``name``."""
    return "{{ env." + name + " }}"


def env_with_default(name: str, default: str) -> str:
    """A template reading ``name``, or ``default`` when it is unset."""
    return "{{ env." + name + " | default('" + default.replace("'", "%27") + "') }}"


def _schemes(spec: Spec) -> dict[str, Node]:
    if spec.swagger:
        holder = spec.root.get("securityDefinitions")
    else:
        components = spec.root.get("components")
        holder = components.get("securitySchemes") if components is not None else None
    return dict(holder.items()) if holder is not None else {}


def default_security(spec: Spec) -> list[str] | None:
    """The names of the schemes the document requires by default."""
    listed = spec.root.get("security")
    if listed is None:
        return None
    return [name for requirement in listed.elements() for name, _ in requirement.items()]


def _client_credentials(spec: Spec, scheme: Node) -> tuple[str, list[str]] | None:
    """Token URL and scopes of a client-credentials flow, if the scheme has one."""
    if spec.swagger:
        if scheme.text("flow") != "application":
            return None
        flow = scheme
    else:
        flows = scheme.get("flows")
        flow = flows.get("clientCredentials") if flows is not None else None
        if flow is None:
            return None
    scopes = flow.get("scopes")
    return flow.text("tokenUrl"), [name for name, _ in scopes.items()] if scopes else []


def _from_scheme(spec: Spec, name: str, scheme: Node, prefix: str) -> AuthGuess:
    kind = scheme.text("type").lower()
    if kind == "basic" or (kind == "http" and scheme.text("scheme").lower() == "basic"):
        user, password = f"{prefix}_USERNAME", f"{prefix}_PASSWORD"
        return AuthGuess({"type": "basic", "username": placeholder(user),
                          "password": placeholder(password)}, [user, password],
                         f"security scheme '{name}': HTTP basic")
    if kind == "apikey":
        where, key_name, env = scheme.text("in"), scheme.text("name"), f"{prefix}_API_KEY"
        block = {"type": "api_key", "key": placeholder(env)}
        if where == "query":
            block["param"] = key_name
            return AuthGuess(block, [env], f"security scheme '{name}': API key in query "
                                           f"parameter {key_name}")
        block["header"] = key_name
        todo = (f"scheme '{name}' sends its key in a cookie, which the connector cannot: "
                f"sent as header {key_name} instead") if where == "cookie" else None
        return AuthGuess(block, [env], f"security scheme '{name}': API key in header "
                                       f"{key_name}", todo)
    if kind == "oauth2":
        flow = _client_credentials(spec, scheme)
        if flow is not None:
            token_url, scopes = flow
            client_id, secret = f"{prefix}_CLIENT_ID", f"{prefix}_CLIENT_SECRET"
            block = {"type": "oauth2", "token_url": token_url,
                     "client_id": placeholder(client_id), "client_secret": placeholder(secret)}
            if scopes:
                block["scopes"] = scopes
            return AuthGuess(block, [client_id, secret], f"security scheme '{name}': OAuth2 "
                             f"client credentials (all {len(scopes)} declared scopes asked; "
                             f"keep only those you need)")
    token = f"{prefix}_TOKEN"
    todo = None
    if kind in ("oauth2", "openidconnect"):
        todo = (f"scheme '{name}' ({kind}) has no client-credentials flow: set {token} to an "
                f"access token obtained elsewhere, or use auth.type oauth2 with grant_type "
                f"refresh_token")
    return AuthGuess({"type": "bearer", "token": placeholder(token)}, [token],
                     f"security scheme '{name}': bearer token", todo)


def guess_auth(spec: Spec, wanted: list[str] | None, prefix: str) -> AuthGuess:
    """The auth block for an operation requiring the schemes ``wanted`` (None: the
    document's default; the first scheme the connector can send wins)."""
    schemes = _schemes(spec)
    names = wanted if wanted is not None else default_security(spec)
    if names is None:
        names = list(schemes)
    usable = [n for n in names if n in schemes]
    if not usable:
        return AuthGuess(None, evidence="the spec declares no security for this operation")
    guesses = [_from_scheme(spec, name, schemes[name], prefix) for name in usable]
    return min(guesses, key=lambda g: (g.todo is not None, _PREFERRED.index(g.block["type"])))
