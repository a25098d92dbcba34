"""The store interface, its records and errors: what every cursor store offers.

Two kinds of rows live in a store, each under a string key within a namespace:

* a **cursor**: the saved text of one followed task (``LogCursor.dumps()``), opaque
  here;
* a **lease**: who holds a key (a task, or a fleet's bookkeeping role) until when,
  and a **fencing token** that grows every time the key changes hands.

A save may name the token its writer holds (``token=``): the store refuses it with
:class:`LeaseLostError` unless that token is still the key's current one, so a
worker whose lease was taken over can no longer move the cursor, however late its
write arrives.  A released key keeps its lease row and token, so tokens only grow;
only :meth:`CursorStore.forget` deletes rows, of keys that are never used again
(a fleet forgets a task once the server says it was deleted).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from typing import Protocol, runtime_checkable

import attrs

from .._wire.loggers import ROOT, get_logger

__all__ = [
    "CursorStore",
    "Lease",
    "Now",
    "check_key",
    "check_lease_args",
    "check_namespace",
    "log_claim",
    "log_opened",
]

logger = get_logger(f"{ROOT}.stores")

#: The schema version this release writes and reads.
SCHEMA_VERSION = 1
#: The longest key a store accepts (task ids are 36 characters).
MAX_KEY = 512


@attrs.define(frozen=True, kw_only=True)
class Lease:
    """A live lease: ``holder`` holds ``key`` for ``expires_in`` more seconds.

    ``token`` is the fencing token: it grows every time the key changes hands.
    """

    key: str
    holder: str
    token: int
    expires_in: float


@runtime_checkable
class CursorStore(Protocol):
    """Where followers keep their cursors and fleets their leases.

    Keys are strings within the store's namespace.  Times are seconds; a store
    decides expiry by its own clock (PostgreSQL's by default, so workers on
    several machines agree).  Every call is one round trip to the database.

    Example::

        store = SQLiteCursorStore("bot.sqlite3")
        async with coder.follow_logs(task, settled=True, store=store) as follower:
            async for event in follower:
                ...  # handled: the cursor is saved when you ask for the next event
    """

    async def load(self, key: str) -> str | None:
        """The cursor saved under ``key``, or ``None``."""
        ...

    async def load_many(self, keys: Collection[str]) -> dict[str, str]:
        """The cursors saved under any of ``keys`` (keys without one are left out)."""
        ...

    async def save(self, key: str, cursor: str, *, token: int | None = None) -> None:
        """Save ``cursor`` under ``key``.  With ``token``, only while that token is the
        key's current fencing token (else :class:`LeaseLostError`)."""
        ...

    async def save_in(
        self, connection: object, key: str, cursor: str, *, token: int | None = None
    ) -> None:
        """:meth:`save` on the caller's own ``connection``, inside its open transaction:
        the cursor commits (or rolls back) together with the caller's own writes."""
        ...

    async def claim(self, keys: Collection[str], holder: str, ttl: float) -> dict[str, int]:
        """Take each of ``keys`` that is free, expired or already ``holder``'s, for ``ttl``
        seconds from now.  Returns the keys granted with their fencing tokens: a key
        that changes hands gets a greater token; renewing one's own keeps it."""
        ...

    async def release(self, keys: Collection[str], holder: str) -> None:
        """Give up those of ``keys`` that ``holder`` holds (their tokens are kept)."""
        ...

    async def leases(self, prefix: str = "") -> list[Lease]:
        """Every live (held, unexpired) lease whose key starts with ``prefix``."""
        ...

    async def forget(self, keys: Collection[str]) -> None:
        """Delete the cursors and lease rows of ``keys``: keys never used again (a deleted
        task's).  A fenced save of a forgotten key is refused (:class:`LeaseLostError`)."""
        ...

    async def aclose(self) -> None:
        """Close the store's connections."""
        ...


def check_key(key: str) -> str:
    """A key as stored; a key that is not a non-empty string of sane length is refused."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY or "\x00" in key:
        raise ValueError(f"a store key is a non-empty string of at most {MAX_KEY} characters")
    return key


def log_opened(store: str, namespace: str) -> None:
    """Say a store opened its database (its schema is there now); never where, which for
    PostgreSQL is a DSN that may hold a password."""
    logger.debug("%s: opened, schema ready (namespace %r)", store, namespace,
                 extra={"store": store, "namespace": namespace})  # fmt: skip


def log_claim(store: str, holder: str, wanted: Collection[str], won: Collection[str]) -> None:
    """Say what one claim (a take-over or a renewal) gave ``holder``."""
    if logger.isEnabledFor(logging.DEBUG):
        logger.debug(
            "%s: %s holds %d of %d keys asked for",
            store, holder, len(won), len(wanted),
            extra={"store": store, "holder": holder, "claimed": len(won), "asked": len(wanted)},
        )  # fmt: skip


def check_cursor(cursor: str) -> str:
    """A cursor's text as stored.  ``LogCursor.dumps()`` is JSON, which never holds a raw
    NUL; PostgreSQL's ``text`` cannot store one, so both stores refuse it alike."""
    if not isinstance(cursor, str) or "\x00" in cursor:
        raise ValueError("a saved cursor is a string without NUL characters (LogCursor.dumps())")
    return cursor


def check_lease_args(holder: str, ttl: float) -> None:
    """Refuse an empty holder name or a lease that is not a positive number of seconds."""
    check_key(holder)
    if not isinstance(ttl, int | float) or not ttl > 0 or ttl != ttl or ttl == float("inf"):
        raise ValueError(f"a lease lasts a positive, finite number of seconds, not {ttl!r}")


def check_namespace(namespace: str) -> str:
    """A namespace is a non-empty key-like string: two bots share a database through two."""
    return check_key(namespace)


#: A clock for lease expiry: seconds since the epoch (tests pass their own).
Now = Callable[[], float]
