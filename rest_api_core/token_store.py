"""A file that keeps the latest refresh token across runs, for providers that rotate them.

Providers such as Xero and QuickBooks answer every refresh with a new refresh token and revoke
the old one: kept only in memory, it dies with the run and the next run fails. The store is a
JSON file of mode 0600, replaced atomically (temporary file, fsync, rename) with each rotated
token before the new access token is used, so a crash at any point leaves a valid token in it.
Runs sharing a store take turns through an exclusive lock on ``<store>.lock``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import stat
import tempfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

from rest_api_core.errors import ConfigError
from rest_api_core.redact import SECRETS

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700

logger = logging.getLogger("rest_api_core.token_store")


class RefreshTokenStore:
    """The store at ``path`` (``~`` expanded)."""

    def __init__(self, path: str) -> None:
        self.path = Path(os.path.expanduser(path))

    def check(self, field: str) -> None:
        """Raise ``ConfigError`` naming ``field`` for a store that cannot be used: a
        directory, readable by others, or not a store."""
        problem = self._problem()
        if problem:
            raise ConfigError(f"{field}: {problem}")

    def _problem(self) -> str | None:
        if self.path.is_dir():
            return f"{self.path} is a directory; expected a JSON file path"
        if not self.path.exists():
            return None
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            return (f"{self.path} can be read by group or others (mode {mode:03o}); it holds a "
                    f"refresh token: run `chmod 600 {self.path}`")
        try:
            self.read()
        except (OSError, ValueError) as error:
            return f"{self.path} is not a token store ({type(error).__name__})"
        return None

    def read(self) -> str | None:
        """The stored refresh token (registered with the redactor), or None without one."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return None
        token = json.loads(text).get("refresh_token")
        if not isinstance(token, str) or not token:
            msg = "no refresh_token in it"
            raise ValueError(msg)
        SECRETS.add(token)
        return token

    def write(self, token: str) -> None:
        """Replace the stored token atomically: a reader sees the old file or the new one."""
        self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        record = {"refresh_token": token,
                  "updated_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        descriptor, temporary = tempfile.mkstemp(dir=self.path.parent,
                                                 prefix=f".{self.path.name}.")
        try:
            os.fchmod(descriptor, FILE_MODE)
            with os.fdopen(descriptor, "w") as file:
                json.dump(record, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the store's lock: other runs sharing it wait (their refreshes take turns)."""
        self.path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        lock_path = self.path.with_name(f"{self.path.name}.lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # closing releases the lock
