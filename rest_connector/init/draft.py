"""A pipeline being written by ``init``: its inputs, the comments above them, the variables
it reads; and the whole document with its Delta output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rest_connector.init.endpoints import Skipped
from rest_connector.init.yaml_writer import Path


@dataclass
class Draft:
    """A pipeline being written: its document, comments, env variables and TODOs."""

    inputs: dict[str, Any] = field(default_factory=dict)
    comments: dict[Path, list[str]] = field(default_factory=dict)
    env: list[str] = field(default_factory=list)
    todos: int = 0

    def note(self, path: Path, text: str, *, todo: bool = False) -> None:
        """A comment above ``path``; a TODO is counted."""
        self.comments.setdefault(path, []).append(f"TODO: {text}" if todo else text)
        self.todos += todo

    def needs(self, names: Sequence[str]) -> None:
        """Environment variables the file reads."""
        self.env.extend(n for n in names if n not in self.env)


@dataclass(frozen=True)
class InitResult:
    """The YAML text and what to tell the user."""

    text: str
    taken: list[str]
    skipped: list[Skipped]
    filtered_out: int
    env: list[str]
    todos: int


def output_block(draft: Draft, delta_path: str) -> dict[str, Any]:
    """The whole pipeline document: the draft's inputs, each written to its Delta table."""
    draft.note(("CONFIG", "outputs", "lake"), "each input to its own Delta table ({stream} is "
                                              "the input's name), replaced on each run")
    return {"MODEL": "etl", "VERSION": "1.0.0",
            "CONFIG": {"inputs": draft.inputs,
                       "outputs": {"lake": {"format": "delta", "path": delta_path,
                                            "mode": "overwrite"}}}}
