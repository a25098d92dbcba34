"""Durable cursors and task leases for bots and fleets of bots (issue 24).

A :class:`CursorStore` keeps each followed task's saved cursor (the text of
``LogCursor.dumps()``, opaque here) and the leases a fleet of workers shares tasks
through.  Two implementations: :class:`SQLiteCursorStore` (one file, several
processes on one host) and :class:`PostgresCursorStore` (machines anywhere).

This layer knows nothing of aiohttp, the wire format or the polling code: it
stores strings under keys.  The modules of the two stores import ``sqlite3`` and
``asyncpg`` only when a store is built.
"""

from __future__ import annotations

from .base import CursorStore, Lease

__all__ = ["CursorStore", "Lease"]
