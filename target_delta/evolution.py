"""Schema changes between a Delta table and an incoming batch: what is widened, what is refused.

``unify`` decides, from the table's type and the batch's values, the type a column must have
so that both fit, and whether the table's stored data must be rewritten to get there. ``widen``
converts an array (of the batch, or of the table during a rewrite) to that type, checking the
values, so that a widening that would lose data raises ``SchemaChangeError`` instead.

Allowed without loss:

- a column the table does not have yet, at any depth (added by schema merge, no rewrite);
- a batch column that is entirely null takes the table's type (a ``null``-only Singer type);
- a table column that is entirely null (stored as a placeholder string) takes the batch's type;
- ``int8``/``int16``/``int32`` → ``int64``;
- ``int64`` → ``float64`` while every value (in the table, or in the batch) is within ±2^53.

Anything else that differs (``string`` holding values → ``int64``, ``float64`` → ``int64``,
``bool`` → ``string``, ...) is an error naming the column.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.types as pat

from rest_api_core.errors import ConnectorError

_MAX_EXACT_FLOAT_INT = 2**53


class SchemaChangeError(ConnectorError):
    """A schema change that would lose or silently reinterpret data."""


def _refuse(path: str, stored: pa.DataType, incoming: pa.DataType,
            why: str = "") -> SchemaChangeError:
    return SchemaChangeError(
        f"column {path!r}: the table stores {stored} and the stream now sends {incoming}; "
        f"{why or 'no lossless conversion exists'}. Write to a new table or path, or use "
        f"mode: overwrite to replace the table"
    )


def _all_null(array: pa.Array) -> bool:
    return array.null_count == len(array)


def _flat(array: pa.Array) -> pa.Array:
    """``array`` without a slice offset, so its children and offsets can be used directly."""
    return pa.concat_arrays([array]) if array.offset else array


def _same_family(a: pa.DataType, b: pa.DataType) -> bool:
    """``string``/``large_string``/``string_view`` (and the binary trio): same values."""
    strings = (pat.is_string, pat.is_large_string, pat.is_string_view)
    binaries = (pat.is_binary, pat.is_large_binary, pat.is_binary_view)
    return any(any(f(a) for f in family) and any(f(b) for f in family)
               for family in (strings, binaries))


def unify(stored: pa.DataType, batch: pa.Array, path: str) -> tuple[pa.DataType, bool]:
    """The type that holds both the table's ``stored`` column and ``batch``, and whether the
    table's existing data must be rewritten (a type change, not an added field)."""
    incoming = batch.type
    if incoming == stored or _all_null(batch) or _same_family(stored, incoming):
        return stored, False
    if pat.is_struct(stored) and pat.is_struct(incoming):
        batch = _flat(batch)
        children = {incoming.field(i).name: batch.field(i) for i in range(incoming.num_fields)}
        fields, rewrite = [], False
        for i in range(stored.num_fields):
            field = stored.field(i)
            if field.name in children:
                kind, child_rewrite = unify(field.type, children.pop(field.name),
                                            f"{path}.{field.name}")
                fields.append(field.with_type(kind))
                rewrite = rewrite or child_rewrite
            else:
                fields.append(field)
        fields.extend(incoming.field(name) for name in children)
        return pa.struct(fields), rewrite
    if pat.is_list(stored) and pat.is_list(incoming):
        batch = _flat(batch)
        kind, rewrite = unify(stored.value_type, batch.values, f"{path}[]")
        return pa.list_(stored.value_field.with_type(kind)), rewrite
    if pat.is_integer(stored) and pat.is_integer(incoming):
        if stored.bit_width < incoming.bit_width and pat.is_signed_integer(incoming):
            return incoming, True
        return stored, False  # narrower ints are widened on the batch side
    if pat.is_integer(stored) and pat.is_float64(incoming):
        return incoming, True  # the table's values are checked by ``widen`` during the rewrite
    if pat.is_float64(stored) and pat.is_integer(incoming):
        return stored, False  # the batch's values are checked by ``widen``
    if _same_family(stored, pa.string()):
        return incoming, True  # allowed only if the stored column is entirely null (``widen``)
    raise _refuse(path, stored, incoming)


def widen(array: pa.Array, target: pa.DataType, path: str) -> pa.Array:
    """``array`` as ``target``, checking that no value is lost; ``SchemaChangeError`` if one is."""
    source = array.type
    if source == target:
        return array
    if _all_null(array):
        return pa.nulls(len(array), target)
    if _same_family(source, target):
        return pc.cast(array, target)
    if pat.is_struct(source) and pat.is_struct(target):
        array = _flat(array)
        present = {source.field(i).name: array.field(i) for i in range(source.num_fields)}
        children = [
            widen(present[field.name], field.type, f"{path}.{field.name}")
            if field.name in present else pa.nulls(len(array), field.type)
            for field in target
        ]
        lost = set(present) - {field.name for field in target}
        if lost:
            raise SchemaChangeError(f"column {path!r}: fields {sorted(lost)} have no place "
                                    f"in {target}")
        mask = array.is_null() if array.null_count else None
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    if pat.is_list(source) and pat.is_list(target):
        array = _flat(array)
        values = widen(array.values, target.value_type, f"{path}[]")
        mask = array.is_null() if array.null_count else None
        return pa.ListArray.from_arrays(array.offsets, values, type=target, mask=mask)
    if pat.is_integer(source) and pat.is_integer(target) and target.bit_width >= source.bit_width:
        return pc.cast(array, target)
    if pat.is_integer(source) and pat.is_float64(target):
        bounds = pc.min_max(array)
        low, high = bounds["min"].as_py(), bounds["max"].as_py()
        if max(abs(low), abs(high)) > _MAX_EXACT_FLOAT_INT:
            raise _refuse(path, source, target,
                          f"a value ({high if abs(high) >= abs(low) else low}) is beyond 2^53 "
                          f"and would be rounded in float64")
        return pc.cast(array, target)
    raise _refuse(path, source, target,
                  "it holds values that cannot be converted without loss")


def widen_batch(batch: pa.RecordBatch | pa.Table, schema: pa.Schema,
                what: str = "") -> pa.RecordBatch:
    """``batch`` with exactly ``schema``'s columns (missing ones null), each widened."""
    length = batch.num_rows
    columns = []
    for field in schema:
        index = batch.schema.get_field_index(field.name)
        if index < 0:
            columns.append(pa.nulls(length, field.type))
            continue
        column = batch.column(index)
        if isinstance(column, pa.ChunkedArray):
            column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        columns.append(widen(column, field.type, what + field.name))
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def plan(stored: pa.Schema | None, batch: pa.RecordBatch) -> tuple[pa.Schema, bool]:
    """The table schema after writing ``batch`` and whether stored data must be rewritten."""
    if stored is None:
        return batch.schema, False
    fields, rewrite = [], False
    incoming = {name: batch.column(i) for i, name in enumerate(batch.schema.names)}
    for field in stored:
        if field.name in incoming:
            kind, needs = unify(field.type, incoming.pop(field.name), field.name)
            fields.append(field.with_type(kind))
            rewrite = rewrite or needs
        else:
            fields.append(field)
    fields.extend(batch.schema.field(name) for name in incoming)
    return pa.schema(fields), rewrite
