"""Request bodies decoded the way coderd's ``httpapi.Read`` (Go ``encoding/json``) does.

Go decodes only the first JSON value, ignores unknown fields, treats ``null``
as "leave the zero value", and reports type mismatches with its own wording;
clients see these texts in ``detail``, so the fake imitates them.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ._jsonio import Reply, error

__all__ = ["read_body"]

_DECODER = json.JSONDecoder()
_GO_TYPES = {"string": "string", "uuid": "uuid.UUID"}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _invalid(detail: str) -> Reply:
    return error(400, "Request body must be valid JSON.", detail)


def _parse_uuid(text: str) -> uuid.UUID | str:
    """A UUID, or google/uuid's error text."""
    if len(text) not in (32, 36, 38, 45):
        return f"invalid UUID length: {len(text)}"
    try:
        return uuid.UUID(text)
    except ValueError:
        return "invalid UUID format"


def read_body(body: bytes, go_type: str, fields: dict[str, str]) -> dict[str, Any] | Reply:
    """Decode ``body`` into the known ``fields`` (name → ``string``/``uuid``) or a 400 reply."""
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return _invalid("invalid character looking for beginning of value")
    stripped = text.lstrip()
    if not stripped:
        return _invalid("EOF")
    try:
        value, _ = _DECODER.raw_decode(stripped)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(stripped.rstrip()):
            return _invalid("unexpected EOF")
        ch = stripped[exc.pos]
        return _invalid(f"invalid character {ch!r} looking for beginning of value")
    if value is None:
        return {}
    if not isinstance(value, dict):
        kind = _json_kind(value)
        return _invalid(f"json: cannot unmarshal {kind} into Go value of type {go_type}")
    out: dict[str, Any] = {}
    struct = go_type.split(".")[-1]
    for name, kind in fields.items():
        raw = value.get(name)
        if raw is None:
            continue
        if not isinstance(raw, str):
            return _invalid(
                f"json: cannot unmarshal {_json_kind(raw)} into Go struct field "
                f"{struct}.{name} of type {_GO_TYPES[kind]}"
            )
        if kind == "uuid":
            parsed = _parse_uuid(raw)
            if isinstance(parsed, str):
                return _invalid(parsed)
            out[name] = parsed
        else:
            out[name] = raw
    return out
