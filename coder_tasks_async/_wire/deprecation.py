"""Old spellings that still work for one release, with a ``DeprecationWarning``."""

from __future__ import annotations

import warnings
from typing import TypeVar
from uuid import UUID

__all__ = ["owner_from", "renamed", "value_from"]

T = TypeVar("T")


def renamed(old: str, new: str, *, stacklevel: int = 3) -> None:
    """Warn that ``old`` is the deprecated spelling of ``new``."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        DeprecationWarning,
        stacklevel=stacklevel + 1,
    )


def owner_from(owner: str | UUID, user: str | UUID | None, *, stacklevel: int = 3) -> str | UUID:
    """The task owner from ``owner=`` or its deprecated spelling ``user=``."""
    if user is None:
        return owner
    renamed("user=", "owner=", stacklevel=stacklevel)
    if owner != "me" and owner != user:
        raise TypeError("pass owner= only: user= is its deprecated spelling")
    return user


def value_from(new: T | None, old: T | None, old_name: str, new_name: str) -> T | None:
    """A keyword renamed from ``old_name`` to ``new_name``: whichever was given."""
    if old is None:
        return new
    renamed(f"{old_name}=", f"{new_name}=")
    if new is not None:
        raise TypeError(f"pass {new_name}= only: {old_name}= is its deprecated spelling")
    return old
