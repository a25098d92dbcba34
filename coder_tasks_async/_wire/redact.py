"""Keeping the session token out of everything built from a response.

The client knows its own token, so it can scrub it from what a server (or a
proxy's error page that echoes request headers) sends back: error messages,
details, bodies, validations, kept headers and debug log lines.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import quote

from multidict import CIMultiDict

from .errors import CoderError, ValidationError

__all__ = ["REDACTED", "Redactor"]

REDACTED = "[REDACTED]"
#: Shorter fragments would match ordinary text; Coder's secrets are 22 characters.
_MIN_SECRET = 8

E = TypeVar("E", bound=BaseException)


class Redactor:
    """Replaces a token (and its secret half, and their URL-encoded forms) with ``[REDACTED]``."""

    __slots__ = ("_secrets",)

    def __init__(self, token: str) -> None:
        candidates = {token}
        _, _, secret = token.partition("-")
        candidates.add(secret)
        candidates |= {quote(c, safe="") for c in list(candidates)}
        # Longest first, so the whole token goes before its secret half.
        self._secrets = tuple(
            sorted((c for c in candidates if len(c) >= _MIN_SECRET), key=len, reverse=True)
        )

    def __repr__(self) -> str:
        return "Redactor()"

    def text(self, value: str) -> str:
        """``value`` with every occurrence of a secret replaced."""
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value

    def headers(self, headers: Mapping[str, str]) -> CIMultiDict[str]:
        """A copy of ``headers`` with secrets removed from every value."""
        items = headers.items()
        return CIMultiDict((k, self.text(v)) for k, v in items)

    def error(self, exc: E) -> E:
        """Scrub an exception in place: its message and every text attribute it keeps.

        Chained exceptions other than the SDK's own are dropped: a JSON or structuring
        error keeps the raw body it choked on (``JSONDecodeError.doc``), echoed token
        and all, and ``__context__`` would keep it reachable.
        """
        _drop_foreign_links(exc)
        for key, value in list(vars(exc).items()):
            if isinstance(value, str):
                setattr(exc, key, self.text(value))
            elif key == "headers" and isinstance(value, Mapping):
                setattr(exc, key, self.headers(value))
            elif key == "validations" and isinstance(value, tuple):
                setattr(
                    exc,
                    key,
                    tuple(
                        ValidationError(field=self.text(v.field), detail=self.text(v.detail))
                        if isinstance(v, ValidationError)
                        else v
                        for v in value
                    ),
                )
        exc.args = tuple(self.text(a) if isinstance(a, str) else a for a in exc.args)
        return exc


def _drop_foreign_links(exc: BaseException) -> None:
    """Unchain every exception that is not a :class:`CoderError` (which are scrubbed)."""
    if not isinstance(exc.__cause__, CoderError | None):
        exc.__cause__ = None
    if not isinstance(exc.__context__, CoderError | None):
        exc.__context__ = None
