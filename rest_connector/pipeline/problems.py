"""Problems found in a pipeline file, each named by its YAML path and line."""

from __future__ import annotations

from dataclasses import dataclass

from rest_api_core.config import format_path
from rest_api_core.errors import ConfigError

YamlPath = tuple[str | int, ...]

MAX_LISTED = 20
"""Problems listed in one error; a hostile or badly broken file could have thousands."""


@dataclass(frozen=True)
class PipelineProblem:
    """One problem at ``path`` in the pipeline YAML (``line`` is 1-based, if known)."""

    path: YamlPath
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        if not self.path:
            return f"{where}{self.message}"
        return f"{where}{format_path(self.path)}: {self.message}"


class PipelineError(ConfigError):
    """A pipeline file that cannot be used; carries every problem found."""

    def __init__(self, source: str, problems: list[PipelineProblem]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"  {source}: {problem}" for problem in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"  … and {len(problems) - MAX_LISTED} more")
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{source}: {count}\n" + "\n".join(lines))
