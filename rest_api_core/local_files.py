"""Local paths of ``file://`` URLs (Singer BATCH manifests and storage roots)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit


def local_path(url: str) -> Path | None:
    """The path of a ``file://`` URL or a plain path; None for any other scheme or host."""
    parts = urlsplit(url)
    if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
        return None
    return Path(unquote(parts.path))
