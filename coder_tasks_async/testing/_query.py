"""The ``q`` search language of ``GET /tasks`` (coderd ``searchquery.Tasks``).

Only the syntax lives here; resolving owners and organizations needs the
state, so :func:`parse` returns the raw first values and the syntax errors.
"""

from __future__ import annotations

from ._jsonio import go_quote

__all__ = ["KNOWN_KEYS", "parse", "split"]

KNOWN_KEYS = ("owner", "organization", "status")


def split(query: str, delimiter: str, keep_quotes: bool) -> list[str]:
    """``splitQueryParameterByDelimiter``: Go ``strings.FieldsFunc`` that respects quotes.

    Like FieldsFunc, empty fields are dropped (so ``a::b`` splits into two parts).
    """
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in query:
        if ch == '"':
            quoted = not quoted
        if not quoted and ch == delimiter:
            if cur:
                parts.append("".join(cur))
                cur = []
            continue
        cur.append(ch)
    if cur:
        parts.append("".join(cur))
    if not keep_quotes:
        parts = [p.strip('"') for p in parts]
    return parts


def parse(query: str) -> tuple[dict[str, str], list[str], list[dict[str, str]]]:
    """Parse ``q`` into ``(first value per key, keys in order, syntax validations)``.

    Mirrors ``searchTerms``: lower-cases, splits on spaces outside quotes, joins
    bare words into one value for the default key ``owner``, and stops at the
    first element that starts/ends with ``:`` or has more than one ``:``.
    """
    values: dict[str, str] = {}
    order: list[str] = []
    if not query:
        return values, order, []

    def add(key: str, value: str) -> None:
        if key not in values:  # url.Values.Get returns the first value
            values[key] = value
            order.append(key)

    bare: list[str] = []
    for element in split(query.lower(), " ", True):
        if element.startswith(":") or element.endswith(":"):
            detail = f"Query element {go_quote(element)} cannot start or end with ':'"
            return {}, [], [{"field": "q", "detail": detail}]
        parts = split(element, ":", False)
        if len(parts) == 1:
            bare.append(parts[0])
        elif len(parts) == 2:
            add(parts[0], parts[1])
        else:
            detail = f"Query element {go_quote(element)} can only contain 1 ':'"
            return {}, [], [{"field": "q", "detail": detail}]
    if bare:
        # Bare words form one value for the default key; an explicit owner: wins.
        add("owner", " ".join(bare))
    return values, order, []
