"""Which GET operations become inputs: list endpoints, filtered, named, linked to parents.

An operation is taken when its answer is an array of objects or an object holding one. A
path parameter is filled from a parent: the selected list endpoint whose path comes just
before it (``/customers`` for ``/customers/{customer_id}/invoices``), when the parameter
names a field of the parent's records (``customer_id`` → ``id``). Everything else is skipped
with the reason.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from rest_connector.init.operations import Operation
from rest_connector.init.schema import RECORD_KEYS, Records, find_records, shape


@dataclass
class Endpoint:
    """A list operation chosen as an input."""

    operation: Operation
    records: Records
    name: str = ""
    parent: Endpoint | None = None
    placeholders: dict[str, str] = field(default_factory=dict)
    """Path parameter → the parent record's field (dot path) that fills it."""
    guessed_links: list[str] = field(default_factory=list)
    include_from_parent: list[str] = field(default_factory=list)

    def record_fields(self) -> set[str]:
        """Top-level fields of this endpoint's records."""
        return set(shape(self.records.record).properties)


@dataclass(frozen=True)
class Skipped:
    """An operation left out, and why (``kind``: the reason in a few words, for counting)."""

    path: str
    kind: str
    reason: str


@dataclass
class Selection:
    """The inputs chosen, what was skipped, and how many operations the filters left out."""

    endpoints: list[Endpoint]
    skipped: list[Skipped]
    filtered_out: int


def _selected(operation: Operation, paths: Sequence[str], tags: Sequence[str]) -> bool:
    if paths and not any(fnmatch.fnmatchcase(operation.path, p) for p in paths):
        return False
    return not tags or bool(set(tags) & set(operation.tags))


NOT_A_LIST = "not a list"
ONE_RECORD = "one record"
NO_PARENT = "no parent for a path parameter"
REQUIRED = "a required parameter"


def _records_or_reason(operation: Operation) -> Records | Skipped:
    path = operation.path
    if operation.response_schema is None:
        return Skipped(path, NOT_A_LIST, "no JSON schema for a 200 answer")
    if path.rstrip("/").endswith("}"):
        return Skipped(path, ONE_RECORD, "answers one record (the path ends with a parameter)")
    records = find_records(operation.response_schema)
    if records is None:
        return Skipped(path, NOT_A_LIST, "the answer holds no array of objects")
    body = shape(operation.response_schema)
    if records.root_key and "id" in body.properties and records.root_key not in RECORD_KEYS:
        return Skipped(path, NOT_A_LIST, f"the answer is one object with an id (its "
                                         f"'{records.root_key}' array is part of it)")
    return records


def _required_without_default(operation: Operation) -> list[str]:
    return [p.name for p in operation.parameters
            if p.where in ("query", "header") and p.required and p.default is None]


def _static_segments(path: str) -> list[str]:
    return [s for s in path.strip("/").split("/") if s and not s.startswith("{")]


def _singulars(segment: str) -> set[str]:
    word = segment.lower().replace("-", "_")
    forms = {word, word.rstrip("s")}
    if word.endswith("ies"):
        forms.add(word[:-3] + "y")
    if word.endswith("es"):
        forms.add(word[:-2])
    return forms


def _parent_field(parameter: str, parent: Endpoint) -> tuple[str, bool] | None:
    """The parent's record field a path parameter names, and whether that is a guess."""
    fields = parent.record_fields()
    if parameter in fields:
        return parameter, False
    lowered = parameter.lower().replace("-", "_")
    segments = _static_segments(parent.operation.path)
    for singular in _singulars(segments[-1]) if segments else ():
        for candidate in fields:
            if lowered in (f"{singular}_{candidate.lower()}", f"{singular}{candidate.lower()}"):
                return candidate, False
        rest = lowered.removeprefix(f"{singular}_")
        if rest != lowered:  # project_name_or_id → name
            for option in rest.split("_or_"):
                if option in fields:
                    return option, False
    if "id" in fields and (lowered.endswith("_id") or lowered.endswith("id")):
        return "id", True
    return None


def _find_parent(child: Endpoint, chosen: Iterable[Endpoint]) -> Endpoint | None:
    """The chosen endpoint whose path is the child's up to its last parameter."""
    path = child.operation.path
    last = path.rfind("/{")
    for candidate in chosen:
        if candidate is not child and candidate.operation.path.rstrip("/") == path[:last]:
            return candidate
    return None


def _link_to_parent(endpoint: Endpoint, chosen: list[Endpoint]) -> str | None:
    """Fill ``endpoint.parent`` and its placeholders; the reason when it has no parent."""
    names = endpoint.operation.path_parameters()
    parent = _find_parent(endpoint, chosen)
    if parent is None:
        listed = ", ".join("{" + n + "}" for n in names)
        return (f"path parameter {listed} has no parent among the selected list endpoints "
                f"(select the list endpoint its path starts with, or write the input by hand)")

    own = names[len(parent.operation.path_parameters()):]
    for name in own:
        found = _parent_field(name, parent)
        if found is None:
            return (f"path parameter {{{name}}} names no field of the records of "
                    f"{parent.operation.path}")
        endpoint.placeholders[name] = found[0]
        if found[1]:
            endpoint.guessed_links.append(f"{{{name}}} ← {found[0]}")
    for name, value in parent.placeholders.items():
        if value not in parent.include_from_parent:
            parent.include_from_parent.append(value)
        endpoint.placeholders[name] = f"_{parent.parent.name}_{value.replace('.', '_')}"
    endpoint.parent = parent
    return None


def stream_name(path: str, taken: set[str]) -> str:
    """A unique input name from the path's last fixed segments (`/v1/customers` → customers)."""
    words = [re.sub(r"[^a-z0-9]+", "_", s.lower()).strip("_")
             for s in _static_segments(path)]
    words = [w for w in words if w and not re.fullmatch(r"v\d+(_\d+)?|api|rest", w)] or ["records"]
    for size in range(1, len(words) + 1):
        name = "_".join(words[-size:])
        if name not in taken:
            return name if not name[0].isdigit() else f"n_{name}"
    number = 2
    while f"{words[-1]}_{number}" in taken:
        number += 1
    return f"{words[-1]}_{number}"


def select_endpoints(operations: Iterable[Operation], paths: Sequence[str] = (),
                     tags: Sequence[str] = ()) -> Selection:
    """Choose the inputs among ``operations`` (every list endpoint when neither filter)."""
    chosen: list[Endpoint] = []
    skipped: list[Skipped] = []
    filtered_out = 0
    for operation in operations:
        if not _selected(operation, paths, tags):
            filtered_out += 1
            continue
        found = _records_or_reason(operation)
        required = _required_without_default(operation)
        if isinstance(found, Skipped):
            skipped.append(found)
        elif required:
            skipped.append(Skipped(operation.path, REQUIRED, f"required parameter "
                                                             f"{', '.join(required)} without a "
                                                             f"default"))
        else:
            chosen.append(Endpoint(operation, found))
    chosen.sort(key=lambda e: len(e.operation.path_parameters()))
    linked: list[Endpoint] = []
    taken: set[str] = set()
    for endpoint in chosen:
        if endpoint.operation.path_parameters():
            reason = _link_to_parent(endpoint, linked)
            if reason is not None:
                skipped.append(Skipped(endpoint.operation.path, NO_PARENT, reason))
                continue
        endpoint.name = stream_name(endpoint.operation.path, taken)
        taken.add(endpoint.name)
        linked.append(endpoint)
    return Selection(linked, skipped, filtered_out)
