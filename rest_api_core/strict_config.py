"""The plugins' settings check: singer-sdk's own replaced by ours (``config.find_problems``),
every problem named by path, secrets registered with the redactor before anything is logged.

Kept apart from ``config`` so that the pipeline app checks settings without singer-sdk."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_api_core.config import SettingsProblem, find_problems, format_path, secret_fields
from rest_api_core.redact import SECRETS
from rest_api_core.sdk_seam import ConfigCheckHook


class StrictConfigMixin(ConfigCheckHook):
    """Replaces the SDK's config check with ours: every problem named by path, secrets masked.

    It also registers every secret setting with the redactor before anything is logged.
    """

    config_jsonschema: dict
    append_builtin_config: Callable[[dict], None]

    def more_problems(self, config: dict[str, Any]) -> list[SettingsProblem]:
        """A plugin's checks beyond its settings schema (none here)."""
        return []

    def check_settings(self, config: dict[str, Any], *, raise_errors: bool) -> list[str]:
        """Every problem of ``config`` by path; raised when ``raise_errors``."""
        # As in the SDK's own check: its built-in settings (stream_maps, ...) are known keys.
        self.append_builtin_config(self.config_jsonschema)
        SECRETS.add(*(value for _, value in secret_fields(config, self.config_jsonschema)))
        found = find_problems(config, self.config_jsonschema) + self.more_problems(config)
        problems = [str(p) for p in sorted(found, key=lambda p: format_path(p.path))]
        if problems and raise_errors:
            # Imported here: the pipeline translator uses this module without singer-sdk.
            from singer_sdk.exceptions import ConfigValidationError

            raise ConfigValidationError(
                "Config validation failed", errors=problems, schema=self.config_jsonschema
            )
        return problems
