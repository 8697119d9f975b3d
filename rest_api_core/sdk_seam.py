"""The one place the core touches singer-sdk's private names: the settings check every plugin
replaces with its own, and the signal and STATE steps of the targets' graceful shutdown.

``tests/test_sdk_private_hooks.py`` checks every name used here against the installed SDK, and
``tests/test_sdk_seam.py`` fails when a private singer-sdk name is used anywhere else.
"""

from __future__ import annotations

from types import FrameType
from typing import Any


class ConfigCheckHook:
    """Hands the SDK's private settings check to ``check_settings``."""

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        return self.check_settings(self._config, raise_errors=raise_errors)

    def check_settings(self, config: dict[str, Any], *, raise_errors: bool) -> list[str]:
        """Every problem of ``config``, raised when ``raise_errors``."""
        raise NotImplementedError


class ShutdownHooks:
    """Hands the SDK's private signal step to ``on_stop_signal``, and writes its STATE messages
    under ``state_output_lock``."""

    state_output_lock: Any

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        self.on_stop_signal(signum, frame)

    def on_stop_signal(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT arrived (the SDK's default exits at once)."""
        raise NotImplementedError

    def _write_state_message(self, state: dict) -> None:
        with self.state_output_lock:
            super()._write_state_message(state)  # type: ignore[misc]
