"""``rest-connector init --openapi``: a pipeline YAML from an OpenAPI or Swagger document."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rest_api_core.errors import ConnectorError
from rest_connector.init import DEFAULT_DELTA_PATH
from rest_connector.init.auth import (
    AuthGuess,
    env_prefix,
    env_with_default,
    guess_auth,
    placeholder,
)
from rest_connector.init.draft import Draft, InitResult, output_block
from rest_connector.init.endpoints import Endpoint, Selection, select_endpoints
from rest_connector.init.incremental import incremental_hint
from rest_connector.init.operations import get_operations
from rest_connector.init.pagination import answer_fields, guess_pagination
from rest_connector.init.schema import declared_fields
from rest_connector.init.spec import Spec, load_spec, relative_to_spec
from rest_connector.init.yaml_writer import Path, write_yaml


def _server_variables(url: str, server: Any) -> str:
    variables = server.get("variables")
    for name, variable in variables.items() if variables is not None else ():
        default = variable.get("default")
        url = url.replace("{" + name + "}", str(default.value if default else ""))
    return url


def spec_base_url(spec: Spec) -> str | None:
    """The first server's URL (variables at their defaults), or Swagger's scheme/host/base."""
    if spec.swagger:
        host = spec.root.text("host")
        base = spec.root.text("basePath").rstrip("/")
        schemes = spec.root.get("schemes")
        scheme = schemes.value[0] if schemes and schemes.value else "https"
        return f"{scheme}://{host}{base}" if host else relative_to_spec(spec, base or "/")
    servers = spec.root.get("servers")
    first = next(servers.elements(), None) if servers is not None else None
    if first is None or not first.text("url"):
        return None
    url = _server_variables(first.text("url"), first)
    return relative_to_spec(spec, url).rstrip("/")


def _base_url(spec: Spec, override: str | None, prefix: str, draft: Draft) -> str:
    """The template every input URL starts with; the base comes from the environment."""
    name = f"{prefix}_BASE_URL"
    draft.needs([name])
    base = override or spec_base_url(spec)
    if base and "://" in base:
        return env_with_default(name, base)
    return placeholder(name)


def _url(endpoint: Endpoint, base: str) -> str:
    path = endpoint.operation.path
    for name, value in endpoint.placeholders.items():
        path = path.replace("{" + name + "}", "{parent." + value + "}")
    return base + path


def _auth(draft: Draft, guess: AuthGuess) -> dict[str, Any] | None:
    """The block; what was guessed is said once per scheme, above the inputs."""
    if guess.block is None:
        return None
    inputs = ("CONFIG", "inputs")
    if guess.evidence not in draft.comments.get(inputs, ()):
        draft.note(inputs, guess.evidence)
        if guess.todo:
            draft.note(inputs, guess.todo, todo=True)
    draft.needs(guess.env)
    return guess.block


def _params(endpoint: Endpoint, pagination: dict[str, Any] | None) -> dict[str, Any]:
    """Query parameters the spec requires, at their defaults (pagination's own aside)."""
    handled = {v for k, v in (pagination or {}).items() if k.endswith("_param")}
    return {p.name: p.default for p in endpoint.operation.parameters
            if p.where == "query" and p.required and p.default is not None
            and p.name not in handled and isinstance(p.default, (str, int, float, bool))}


def _input(spec: Spec, endpoint: Endpoint, base: str, prefix: str, draft: Draft) -> None:
    where: Path = ("CONFIG", "inputs", endpoint.name)
    operation = endpoint.operation
    block: dict[str, Any] = {"format": "rest_api", "url": _url(endpoint, base)}
    draft.note(where, f"GET {operation.path}" + (f" ({operation.operation_id})"
                                                 if operation.operation_id else ""))
    if endpoint.parent is not None:
        block["parent"] = endpoint.parent.name
        links = ", ".join(f"{{{k}}} ← {{parent.{v}}}" for k, v in endpoint.placeholders.items())
        draft.note((*where, "parent"), f"requested once per {endpoint.parent.name} record: "
                                       f"{links}")
        if endpoint.guessed_links:
            draft.note((*where, "parent"), f"guessed from the parameter's name: "
                                           f"{', '.join(endpoint.guessed_links)}; check it")
    if endpoint.include_from_parent:
        block["include_from_parent"] = endpoint.include_from_parent
        draft.note((*where, "include_from_parent"), "needed by the child inputs' URLs")
    auth = _auth(draft, guess_auth(spec, operation.security, prefix))
    if auth is not None:
        block["auth"] = auth
    fields = answer_fields(operation.response_schema, endpoint.records.root_key)
    guess = guess_pagination(operation, fields)
    params = _params(endpoint, guess.block)
    if params:
        block["params"] = params
        draft.note((*where, "params"), "required by the spec; at their defaults")
    if guess.block is not None:
        block["pagination"] = guess.block
        draft.note((*where, "pagination"), f"guessed: {guess.evidence}")
    elif guess.todo:
        draft.note((*where, "url"), guess.todo, todo=True)
    else:
        draft.note((*where, "url"), guess.evidence)
    if endpoint.records.root_key:
        block["response"] = {"root_key": endpoint.records.root_key}
        draft.note((*where, "response"), endpoint.records.evidence)
    _add_schema(block, endpoint, where, draft)
    draft.inputs[endpoint.name] = block


def _add_schema(block: dict[str, Any], endpoint: Endpoint, where: Path, draft: Draft) -> None:
    fields = declared_fields(endpoint.records.record)
    hint = incremental_hint(endpoint.operation, {f["name"]: f["type"] for f in fields})
    if hint:
        draft.note(where, hint, todo=True)
    names = {f["name"] for f in fields}
    if "id" in names:
        block["primary_keys"] = ["id"]
        draft.note((*where, "primary_keys"), "the records have an 'id' field")
    if fields:
        block["schema"] = fields
        draft.note((*where, "schema"), "from the response schema (fields the API sends but "
                                       "the spec omits are dropped with a warning: add them)")
    else:
        draft.note((*where, "url"), "the spec names no record fields: the schema is inferred "
                                    "from the first page")


def build_pipeline(spec: Spec, selection: Selection, base_url: str | None = None) -> Draft:
    """The pipeline document for the selected endpoints."""
    draft = Draft()
    prefix = env_prefix(spec.title)
    base = _base_url(spec, base_url, prefix, draft)
    if "default(" not in base:
        draft.note(("CONFIG", "inputs"), f"the spec names no absolute server URL: set "
                                         f"{prefix}_BASE_URL", todo=True)
    for endpoint in selection.endpoints:
        _input(spec, endpoint, base, prefix, draft)
    return draft


class NoListEndpoints(ConnectorError):
    """Nothing in the spec (or the selection) lists records."""

    def __init__(self, selection: Selection) -> None:
        super().__init__(f"no list endpoint to write ({len(selection.skipped)} skipped, "
                         f"{selection.filtered_out} left out by --paths/--tags)")
        self.selection = selection


def _header(spec: Spec, result_env: list[str]) -> list[str]:
    title = spec.title or "the API"
    return [f"Written by `rest-connector init` from {spec.source} ({title}, "
            f"{'Swagger' if spec.swagger else 'OpenAPI'} {spec.version}).",
            "Comments say what was guessed and why; lines starting with 'TODO' need a decision.",
            f"Set before validate/run: {', '.join(result_env)}.",
            "Check it with: rest-connector validate <this file>"]


def init_from_openapi(source: str, *, paths: Sequence[str] = (), tags: Sequence[str] = (),
                      base_url: str | None = None,
                      delta_path: str = DEFAULT_DELTA_PATH) -> InitResult:
    """Read the spec at ``source`` and write the pipeline for its list endpoints."""
    spec = load_spec(source)
    selection = select_endpoints(get_operations(spec), paths, tags)
    if not selection.endpoints:
        raise NoListEndpoints(selection)
    draft = build_pipeline(spec, selection, base_url)
    document = output_block(draft, delta_path)
    text = write_yaml(document, draft.comments, _header(spec, draft.env))
    return InitResult(text, [e.name for e in selection.endpoints], selection.skipped,
                      selection.filtered_out, draft.env, draft.todos)
