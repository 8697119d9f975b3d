"""Renders pipeline templates in a sandbox; run as a child process with bounded memory.

Reads ``{"templates": {id: text}, "env": {...}, "variables": {...}, "memory_bytes": n}`` as JSON
on stdin and writes one JSON line per template, in order, as soon as it is rendered:
``{"id": id, "value": text}`` or ``{"id": id, "error": message}``. Kept free of heavy imports so
the child starts quickly.
"""

from __future__ import annotations

import json
import resource
import sys
from collections.abc import Iterator, Mapping
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import missing

MAX_RENDERED_CHARS = 1_000_000
"""A rendered value above this many characters is an error."""


class EnvironmentVariables(dict):
    """The process environment as the template variable ``env``."""


class MissingVariable(StrictUndefined):
    """Strict undefined whose error names the missing variable the way a user set it."""

    @property
    def _undefined_message(self) -> str:
        name = self._undefined_name
        if self._undefined_hint:
            return self._undefined_hint
        if isinstance(self._undefined_obj, EnvironmentVariables):
            return f"environment variable {name} is not set (template uses env.{name})"
        if self._undefined_obj is missing:
            return (f"variable {name!r} is not set: pass --var {name}=VALUE or write "
                    f"{{{{ {name} | default('...') }}}}")
        return super()._undefined_message


def _environment() -> ImmutableSandboxedEnvironment:
    environment = ImmutableSandboxedEnvironment(undefined=MissingVariable, autoescape=False)
    environment.globals.pop("lipsum", None)
    return environment


def _render_one(
    environment: ImmutableSandboxedEnvironment, text: str, context: Mapping[str, Any]
) -> dict[str, str]:
    try:
        chunks: list[str] = []
        size = 0
        for chunk in environment.from_string(text).generate(context):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                return {"error": f"rendered value is larger than {MAX_RENDERED_CHARS:,} "
                                 f"characters"}
            chunks.append(chunk)
        return {"value": "".join(chunks)}
    except UndefinedError as error:
        return {"error": str(error)}
    except SecurityError as error:
        return {"error": f"blocked by the template sandbox: {error}"}
    except TemplateError as error:
        return {"error": f"template error: {error}"}
    except MemoryError:
        return {"error": "template needs more memory than rendering may use"}
    except (ArithmeticError, TypeError, ValueError, LookupError) as error:
        return {"error": f"template error: {type(error).__name__}: {error}"}


def render_all(
    templates: Mapping[str, str], env: Mapping[str, str], variables: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """Render each template once with ``env`` and ``variables``; errors are per template."""
    environment = _environment()
    context = {**variables, "env": EnvironmentVariables(env)}
    for key, text in templates.items():
        yield {"id": key, **_render_one(environment, text, context)}


def _limit_memory(extra_bytes: int) -> None:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[0])
    limit = pages * resource.getpagesize() + extra_bytes
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main() -> None:
    """Child-process entry: JSON request on stdin, JSON results on stdout."""
    request = json.load(sys.stdin)
    _limit_memory(int(request["memory_bytes"]))
    for result in render_all(request["templates"], request["env"], request["variables"]):
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
