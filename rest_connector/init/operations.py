"""The GET operations of a spec, in the same shape for Swagger 2.0 and OpenAPI 3.x."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from rest_connector.init.spec import Node, Spec

_SUCCESS = ("200", "2XX", "2xx", "206", "default")


@dataclass(frozen=True)
class Parameter:
    """One parameter of an operation."""

    name: str
    where: str
    """``query``, ``path``, ``header`` or ``cookie``."""
    required: bool
    schema: Node | None
    default: object = None


@dataclass
class Operation:
    """A GET operation: where it is, its parameters and its successful answer."""

    path: str
    tags: list[str]
    operation_id: str
    parameters: list[Parameter]
    response_schema: Node | None
    response_headers: set[str] = field(default_factory=set)
    security: list[str] | None = None
    """Names of the schemes the operation takes (None: the document's default)."""

    def query(self) -> dict[str, Parameter]:
        """Query parameters by lower-case name."""
        return {p.name.lower(): p for p in self.parameters if p.where == "query"}

    def path_parameters(self) -> list[str]:
        """The names of the path's ``{placeholders}``, in order."""
        names, rest = [], self.path
        while "{" in rest:
            _, _, rest = rest.partition("{")
            name, _, rest = rest.partition("}")
            names.append(name)
        return names


def _parameter(spec: Spec, node: Node) -> Parameter | None:
    name, where = node.text("name"), node.text("in")
    if not name or not where:
        return None
    schema = node if spec.swagger else node.get("schema")
    default = schema.value.get("default") if schema and isinstance(schema.value, dict) else None
    required = node.get("required")
    return Parameter(name, where, bool(required and required.value is True), schema, default)


def _parameters(spec: Spec, path_item: Node, operation: Node) -> list[Parameter]:
    """Path-level parameters, overridden by the operation's (same name and place)."""
    found: dict[tuple[str, str], Parameter] = {}
    for holder in (path_item, operation):
        listed = holder.get("parameters")
        for node in listed.elements() if listed is not None else ():
            parameter = _parameter(spec, node)
            if parameter is not None:
                found[(parameter.name, parameter.where)] = parameter
    return list(found.values())


def _success(operation: Node) -> Node | None:
    responses = operation.get("responses")
    if responses is None:
        return None
    for status in _SUCCESS:
        answer = responses.get(status)
        if answer is not None:
            return answer
    return None


def _json_schema(spec: Spec, answer: Node) -> Node | None:
    """The JSON body's schema: Swagger's ``schema``, or OpenAPI's JSON media type."""
    if spec.swagger:
        return answer.get("schema")
    content = answer.get("content")
    if content is None:
        return None
    media = dict(content.items())
    for name in sorted(media, key=lambda m: (m != "application/json", "json" not in m, m)):
        if "json" in name or name == "*/*":
            return media[name].get("schema")
    return None


def _security(operation: Node) -> list[str] | None:
    listed = operation.get("security")
    if listed is None:
        return None
    return [name for requirement in listed.elements() for name, _ in requirement.items()]


def get_operations(spec: Spec) -> Iterator[Operation]:
    """Every GET operation of the spec, in document order."""
    for path, path_item in spec.root.get("paths").items():
        operation = path_item.get("get")
        if operation is None:
            continue
        answer = _success(operation)
        headers = answer.get("headers") if answer is not None else None
        tags = operation.get("tags")
        yield Operation(
            path=path,
            tags=[t for t in (tags.value if tags else []) if isinstance(t, str)],
            operation_id=operation.text("operationId"),
            parameters=_parameters(spec, path_item, operation),
            response_schema=_json_schema(spec, answer) if answer is not None else None,
            response_headers={name.lower() for name, _ in headers.items()} if headers else set(),
            security=_security(operation),
        )
