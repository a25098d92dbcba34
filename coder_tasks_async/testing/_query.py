"""coderd's search language (``searchquery``): the ``q`` of ``GET /tasks`` and of
``GET /api/v2/templates``.

Only the syntax and the per-key checks that need no state live here; resolving owners
and organizations needs the state.  :func:`terms` returns every value of every key
(``url.Values``), so a key given twice is seen, as coderd sees it.
"""

from __future__ import annotations

from ._jsonio import go_quote

__all__ = ["GO_BOOLS", "QueryParams", "split", "terms"]

#: Go's ``strconv.ParseBool``.
GO_BOOLS = {
    **dict.fromkeys(("1", "t", "T", "TRUE", "true", "True"), True),
    **dict.fromkeys(("0", "f", "F", "FALSE", "false", "False"), False),
}


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


def terms(query: str, default_key: str) -> tuple[dict[str, list[str]], list[dict[str, str]]]:
    """``searchTerms``: ``(values per key, syntax validations)``.

    Lower-cases the query, splits it on spaces outside quotes, joins every bare word
    into one value for ``default_key`` (after the ``key:value`` terms, as
    ``processTokens`` orders them), and stops at the first element that starts or
    ends with ``:`` or has more than one ``:``.
    """
    values: dict[str, list[str]] = {}
    if not query:
        return values, []
    tokens = split(query.lower(), " ", True)
    elements = [t for t in tokens if ":" in t]
    bare = [t for t in tokens if ":" not in t]
    if bare:
        elements.append(" ".join(bare))
    for element in elements:
        if element.startswith(":") or element.endswith(":"):
            detail = f"Query element {go_quote(element)} cannot start or end with ':'"
            return {}, [{"field": "q", "detail": detail}]
        parts = split(element, ":", False)
        if len(parts) == 1:
            values.setdefault(default_key, []).append(element)
        elif len(parts) == 2:
            values.setdefault(parts[0].lower(), []).append(parts[1])
        else:
            detail = f"Query element {go_quote(element)} can only contain 1 ':'"
            return {}, [{"field": "q", "detail": detail}]
    return values, []


class QueryParams:
    """``httpapi.QueryParamParser`` over :func:`terms`' values: one value per key, the
    errors coderd writes, and the keys nobody asked for."""

    def __init__(self, values: dict[str, list[str]]) -> None:
        self.values = values
        self.errors: list[dict[str, str]] = []
        self._parsed: set[str] = set()

    def one(self, key: str) -> str:
        """The single value of ``key`` (``""`` when absent; an error when given twice)."""
        self._parsed.add(key)
        got = self.values.get(key, [])
        if len(got) > 1:
            self.errors.append(
                {
                    "field": key,
                    "detail": f"Query param {go_quote(key)} provided more than once, found "
                    f"{len(got)} times. Only provide 1 instance of this query param.",
                }
            )
            return ""
        return got[0] if got else ""

    def invalid(self, key: str, why: str) -> None:
        """``ParseCustom``'s refusal of a value of ``key``."""
        self.errors.append(
            {"field": key, "detail": f"Query param {go_quote(key)} has invalid value: {why}"}
        )

    def boolean(self, key: str) -> bool | None:
        """``NullableBoolean``: ``None`` when absent."""
        text = self.one(key)
        if not text:
            return None
        if text not in GO_BOOLS:
            self.errors.append(
                {
                    "field": key,
                    "detail": f"Query param {go_quote(key)} must be a valid boolean: "
                    f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax",
                }
            )
            return None
        return GO_BOOLS[text]

    def accept(self, *keys: str) -> None:
        """Keys the caller knows but does not filter on."""
        self._parsed.update(keys)

    def excess(self) -> None:
        """``ErrorExcessParams``: every key nobody asked for."""
        self.errors += [
            {"field": k, "detail": f"{go_quote(k)} is not a valid query param"}
            for k in self.values
            if k not in self._parsed
        ]
