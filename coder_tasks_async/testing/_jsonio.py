"""JSON and timestamps written the way coderd writes them.

coderd encodes with Go's ``json.Encoder`` (HTML escaping on, compact, one
trailing newline) and formats ``time.Time`` as RFC 3339 with trailing zeros of
the fraction trimmed.  Clients are tested against these bytes, so the fake
reproduces them rather than using Python's defaults.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

__all__ = [
    "JSON_CONTENT_TYPE",
    "Reply",
    "dumps",
    "dumps_value",
    "empty",
    "error",
    "format_ns",
    "go_quote",
    "json_reply",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# Go escapes these even with HTML escaping off for U+2028/9; with it on also <, >, &.
# They can only occur inside JSON strings, so replacing in the output is safe.
_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def dumps(value: Any) -> bytes:
    """Encode like Go's ``json.Encoder`` with ``SetEscapeHTML(true)``: compact, escaped, ``\\n``."""
    return (_ENCODER.encode(value).translate(_ESCAPES) + "\n").encode()


def dumps_value(value: Any) -> bytes:
    """:func:`dumps` without the trailing newline, for splicing into a larger body."""
    return _ENCODER.encode(value).translate(_ESCAPES).encode()


def format_ns(ns: int) -> str:
    """Format nanoseconds since the Unix epoch as Go's ``time.RFC3339Nano`` in UTC."""
    secs, frac = divmod(ns, 1_000_000_000)
    days, rem = divmod(secs, 86_400)
    # Days since epoch → civil date (Howard Hinnant's algorithm); avoids datetime
    # objects on the hot path and keeps nanoseconds that datetime cannot hold.
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    if m <= 2:
        y += 1
    hh, rem = divmod(rem, 3600)
    mm, ss = divmod(rem, 60)
    base = f"{y:04d}-{m:02d}-{d:02d}T{hh:02d}:{mm:02d}:{ss:02d}"
    if frac:
        base += "." + f"{frac:09d}".rstrip("0")
    return base + "Z"


def go_quote(s: str) -> str:
    """Approximate Go's ``%q``: a double-quoted string with ``"`` and ``\\`` escaped."""
    return json.dumps(s, ensure_ascii=False)


@attrs.define(frozen=True, slots=True)
class Reply:
    """A response before it hits the socket: status, body bytes (or none), extra headers."""

    status: int
    body: bytes | None = None
    content_type: str | None = JSON_CONTENT_TYPE
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()) -> Reply:
    """A JSON reply encoded with :func:`dumps`."""
    return Reply(status, dumps(value), JSON_CONTENT_TYPE, headers)


def error(
    status: int,
    message: str,
    detail: str = "",
    validations: list[dict[str, str]] | None = None,
    headers: tuple[tuple[str, str], ...] = (),
) -> Reply:
    """A ``codersdk.Response`` error body; ``detail``/``validations`` are omitempty."""
    body: dict[str, Any] = {"message": message}
    if detail:
        body["detail"] = detail
    if validations:
        body["validations"] = validations
    return json_reply(status, body, headers)


def empty(status: int) -> Reply:
    """A success without a body (202 delete, 204 send/input): no JSON at all."""
    return Reply(status, None, None)
