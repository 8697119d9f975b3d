"""Where each stream's table goes, and the storage options delta-rs gets for it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from singer_sdk import typing as th

from rest_api_core.errors import ConfigError
from rest_api_core.redact import SECRETS

STREAM_PLACEHOLDER = "{stream}"

_SECRET_OPTION = re.compile(r"secret|password|token|credential|sas|signature|access_key|"
                            r"account_key|client_key|private", re.IGNORECASE)
_OBJECT_STORE_SCHEMES = {"s3", "s3a", "gs", "az", "abfs", "abfss", "adl", "azure"}
_S3_SCHEMES = {"s3", "s3a"}

AWS_CREDENTIALS = {
    "aws_access_key_id": ("AWS_ACCESS_KEY_ID", "AWS access key ID"),
    "aws_secret_access_key": ("AWS_SECRET_ACCESS_KEY", "AWS secret access key"),
    "aws_session_token": ("AWS_SESSION_TOKEN", "AWS session token"),
}
"""Credential settings for s3:// paths: setting name → (delta-rs storage option, title).

They are settings of their own, flagged secret, so Meltano stores them encrypted and never
shows them, which it cannot do for one key inside ``storage_options``."""

AWS_CREDENTIAL_PROPERTIES = [
    th.Property(name, th.StringType, secret=True, title=title,
                description=f"{option} for s3:// paths; wins over {option} in storage_options "
                            f"and in the environment")
    for name, (option, title) in AWS_CREDENTIALS.items()
]


def is_secret_option(key: str) -> bool:
    """True for storage option keys whose values are credentials."""
    return bool(_SECRET_OPTION.search(key))


def storage_options_for(uri: str, config: Mapping[str, Any],
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The options for ``uri``. For S3: the AWS_* environment variables (lowest priority),
    then ``storage_options``, then the AWS credential settings; elsewhere ``storage_options``
    alone. Every secret value is registered for redaction."""
    environ = os.environ if environ is None else environ
    s3 = urlparse(uri).scheme in _S3_SCHEMES
    options: dict[str, str] = {}
    if s3:
        options.update({k: v for k, v in environ.items() if k.startswith("AWS_") and v})
    configured = config.get("storage_options") or {}
    options.update({k: str(v) for k, v in configured.items() if v is not None})
    for setting, (option, _) in AWS_CREDENTIALS.items():
        if s3 and config.get(setting):
            options = {k: v for k, v in options.items() if k.upper() != option}
            options[option] = config[setting]
    register_secret_options(options)
    return options


def register_secret_options(options: Mapping[str, str]) -> None:
    """Register the credential values among ``options`` for redaction (in every process
    that holds them: a Spark task gets the driver's options, not its redactor)."""
    SECRETS.add(*(v for k, v in options.items() if is_secret_option(k)))


def _normalise(path: str) -> str:
    """A local path made absolute; ``file://`` and object-store URIs as given."""
    scheme = urlparse(path).scheme
    if scheme in _OBJECT_STORE_SCHEMES or scheme == "file":
        return path
    if scheme and len(scheme) > 1:
        raise ConfigError(f"path: unsupported scheme {scheme!r} in {path!r} "
                          f"(use a local path, file://, or s3://)")
    return str(Path(path).expanduser().resolve())


def _join(base: str, stream: str) -> str:
    return base.rstrip("/") + "/" + stream


class TablePaths:
    """Decides each stream's table location from ``path``.

    With ``{stream}`` in ``path`` every stream gets its own formatted path. Without it, a run
    that brings one stream writes that stream to ``path`` itself; as soon as a second stream
    arrives, every stream's table is ``<path>/<stream>`` (a stream that already committed to
    ``path`` cannot move, which is a configuration error).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.templated = STREAM_PLACEHOLDER in path
        self._stream_names: list[str] = []

    def for_stream(self, stream: str) -> str:
        """The location of ``stream``'s table, with the streams seen so far."""
        if self.templated:
            return _normalise(self.path.replace(STREAM_PLACEHOLDER, safe_stream_name(stream)))
        if stream not in self._stream_names:
            self._stream_names.append(stream)
        if len(self._stream_names) == 1:
            return _normalise(self.path)
        return _normalise(_join(self.path, safe_stream_name(stream)))

    @property
    def several(self) -> bool:
        """True once a second stream arrived under a ``path`` without ``{stream}``."""
        return not self.templated and len(self._stream_names) > 1


def safe_stream_name(stream: str) -> str:
    """A stream name usable as one path segment (``/`` and ``..`` cannot escape ``path``)."""
    name = re.sub(r"[/\\]", "_", stream).strip()
    return "_" if name in {"", ".", ".."} else name
