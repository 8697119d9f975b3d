"""Settings shared by the tap and target-rest-api, declared once with the SDK's typing helpers."""

from __future__ import annotations

from singer_sdk import typing as th

from rest_api_core.auth_settings import (
    AUTH_TYPES,
    CLIENT_AUTH_METHODS,
    GRANT_TYPES,
    JWT_ALGORITHMS,
    LOGIN_METHODS,
    MAX_JWT_LIFETIME,
)
from rest_api_core.http_defaults import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT
from rest_api_core.retry import DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_RETRY_ON


class StringsType(th.ArrayType):
    """A list of strings, or one string of space-separated items.

    (The SDK's ``AnyOf`` cannot be an optional property: it would append a bare "null".)
    """

    @property
    def type_dict(self) -> dict:  # type: ignore[override]
        """``type: [array, string]``; ``items`` applies to the list form."""
        return {"type": ["array", "string"], "items": {"type": "string"}}


TLS_SETTINGS = th.ObjectType(
    th.Property("ca_bundle", th.StringType,
                description="PEM file of the CA certificates to trust (a private CA)"),
    th.Property("client_cert", th.StringType,
                description="PEM file of the client certificate (mTLS)"),
    th.Property("client_key", th.StringType,
                description="PEM file of the client certificate's private key"),
    th.Property("verify", th.BooleanType,
                description="Verify server certificates (default true; false logs a WARNING "
                            "on every run)"),
    additional_properties=False,
)

TLS = th.Property(
    "tls",
    TLS_SETTINGS,
    title="TLS",
    description="TLS for every request, token and login endpoints included (unless the auth "
                "block has its own)",
)


AUTH = th.Property(
    "auth",
    th.ObjectType(
        th.Property("type", th.StringType, required=True, allowed_values=list(AUTH_TYPES),
                    description="bearer, api_key, basic, oauth2, session or jwt"),
        th.Property("token", th.StringType, secret=True, description="bearer: the token"),
        th.Property("key", th.StringType, secret=True, description="api_key: the key value"),
        th.Property("header", th.StringType, description="api_key: send the key in this header"),
        th.Property("param", th.StringType,
                    description="api_key: send the key in this query parameter"),
        th.Property("username", th.StringType, secret=True, description="basic: user name"),
        th.Property("password", th.StringType, secret=True,
                    description="basic: password (may be empty or omitted)"),
        th.Property("token_url", th.StringType, description="oauth2: the token endpoint URL"),
        th.Property("client_id", th.StringType,
                    description="oauth2: the client ID (optional with jwt_bearer)"),
        th.Property("client_secret", th.StringType, secret=True,
                    description="oauth2: the client secret (sent only to token_url's origin)"),
        th.Property("scopes", StringsType(th.StringType),
                    description="oauth2: scopes to ask for (a string is space-separated)"),
        th.Property("grant_type", th.StringType, allowed_values=list(GRANT_TYPES),
                    description="oauth2: client_credentials (default), refresh_token or "
                                "jwt_bearer (RFC 7523)"),
        th.Property("refresh_token", th.StringType, secret=True,
                    description="oauth2: the refresh token (grant_type refresh_token)"),
        th.Property("refresh_token_store", th.StringType,
                    description="oauth2 refresh_token: JSON file (mode 0600) keeping the latest "
                                "rotated refresh token for the next run"),
        th.Property("client_auth", th.StringType, allowed_values=list(CLIENT_AUTH_METHODS),
                    description="oauth2: send the client credentials as HTTP basic "
                                "(default) or in the body"),
        th.Property("extra_params", th.ObjectType(additional_properties=th.StringType),
                    description="oauth2: more form fields for the token request "
                                "(audience, resource, ...)"),
        th.Property("private_key", th.StringType, secret=True,
                    description="jwt, oauth2 jwt_bearer: PEM private key signing the JWT"),
        th.Property("algorithm", th.StringType, allowed_values=list(JWT_ALGORITHMS),
                    description="jwt, oauth2 jwt_bearer: RS256 (default), ES256 or PS256"),
        th.Property("private_key_id", th.StringType,
                    description="jwt, oauth2 jwt_bearer: the key ID sent as 'kid'"),
        th.Property("claims", th.ObjectType(),
                    description="jwt, oauth2 jwt_bearer: claims of the JWT (iss, sub, aud, "
                                "scope, ...); iat and exp are set from lifetime"),
        th.Property("lifetime", th.IntegerType(minimum=1, maximum=MAX_JWT_LIFETIME),
                    description=f"jwt, oauth2 jwt_bearer: seconds each JWT is valid "
                                f"(default and most {MAX_JWT_LIFETIME})"),
        th.Property("login", th.ObjectType(
            th.Property("url", th.StringType, description="The login endpoint"),
            th.Property("method", th.StringType, allowed_values=list(LOGIN_METHODS),
                        description="POST (default), GET or PUT"),
            th.Property("body", th.ObjectType(), secret=True,
                        description="JSON body with the credentials"),
            th.Property("form", th.ObjectType(additional_properties=th.StringType),
                        secret=True, description="Form body with the credentials"),
            th.Property("token_field", th.StringType,
                        description="Dot path to the token in the answer"),
            th.Property("token_header", th.StringType,
                        description="Header of the answer carrying the token"),
            th.Property("cookie", th.BooleanType,
                        description="The session is the cookies the login sets"),
            th.Property("expires_in_field", th.StringType,
                        description="Dot path to the session's lifetime in seconds"),
            th.Property("ttl", th.NumberType,
                        description="The session's lifetime in seconds, if the answer "
                                    "does not say"),
        ), description="session: the login request and where its answer has the session"),
        th.Property("send", th.ObjectType(
            th.Property("header", th.StringType,
                        description="Header carrying the token (Authorization)"),
            th.Property("prefix", th.StringType,
                        description="Put before the token ('Bearer ' in Authorization, "
                                    "else none)"),
        ), description="session: how the token is sent"),
        th.Property("tls", TLS_SETTINGS,
                    description="oauth2, session: TLS for the token or login endpoint "
                                "(default: the stream's)"),
        additional_properties=False,
    ),
    title="Authentication",
    description="Credentials, sent only to the origin (scheme, host, port) of the URL.",
)

RATE_LIMIT = th.Property(
    "rate_limit",
    th.ObjectType(
        th.Property("requests_per_second", th.NumberType,
                    description="At most this many requests in any one second, per host"),
        th.Property("retry_on", th.ArrayType(th.IntegerType),
                    description=f"HTTP statuses to retry (default {list(DEFAULT_RETRY_ON)})"),
        th.Property("max_retries", th.IntegerType,
                    description=f"Retries after the first try (default {DEFAULT_MAX_RETRIES})"),
        th.Property("max_retry_wait", th.NumberType,
                    description=f"Longest wait in seconds, Retry-After included "
                                f"(default {DEFAULT_MAX_RETRY_WAIT:g})"),
        additional_properties=False,
    ),
    title="Rate limit and retries",
)

HEADERS = th.Property(
    "headers",
    th.ObjectType(additional_properties=th.StringType),
    title="HTTP headers",
    description="Extra HTTP headers sent with every request",
)

TIMEOUT = th.Property(
    "timeout",
    th.NumberType,
    title="Timeout",
    description=f"Total deadline in seconds for one request, body included "
                f"(default {DEFAULT_TIMEOUT:g})",
)

MAX_RESPONSE_BYTES = th.Property(
    "max_response_bytes",
    th.IntegerType,
    title="Largest response",
    description=f"Fail a response whose body (decompressed) is larger "
                f"(default {DEFAULT_MAX_RESPONSE_BYTES})",
)

PROXY = th.Property(
    "proxy",
    th.StringType,
    secret=True,
    title="Proxy",
    description="Proxy URL for every request, token and login endpoints included "
                "(default: HTTP(S)_PROXY / NO_PROXY from the environment)",
)

RESPONSE_RULES = th.Property(
    "rules",
    th.ArrayType(th.ObjectType(
        th.Property("when", th.ObjectType(
            th.Property("status", th.CustomType({"type": ["integer", "array"],
                                                  "items": {"type": "integer"}}),
                        description="An HTTP status, or a list of them"),
            th.Property("field", th.StringType, description="Dot path into the JSON body"),
            th.Property("equals", th.AnyType, description="The field equals this value"),
            th.Property("in", th.ArrayType(th.AnyType),
                        description="The field is one of these values"),
            th.Property("present", th.BooleanType,
                        description="The field is there and not null (true), or not (false)"),
            th.Property("body_contains", th.StringType,
                        description="The body contains this plain text"),
            additional_properties=False,
        ), required=True),
        th.Property("then", th.StringType, required=True,
                    allowed_values=["retry", "fail", "ignore"],
                    description="retry (the retry policy), fail (quoting the body's error), "
                                "ignore (no records, no next page)"),
        th.Property("wait", th.NumberType,
                    description="retry: seconds before the next try (default: Retry-After, "
                                "else the policy's backoff)"),
        additional_properties=False,
    )),
    description="What an answer means beyond its status, tried in order (first match wins)",
)
