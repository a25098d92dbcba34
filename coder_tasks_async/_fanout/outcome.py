"""How one item of a fan-out ended: a :class:`Success` or a :class:`Failure`.

``Outcome[I, R]`` is the union of the two, so a type checker narrows it the way
the code reads::

    for outcome in await coder.create_many(prompts, template_version_id=tv):
        match outcome:
            case Success(result=task):
                print("created", task.name)   # a Task, not Task | None
            case Failure(item=prompt, error=exc):
                print(f"{prompt!r} failed: {exc}")

To test one outcome, ``isinstance`` narrows in mypy and pyright alike, in both
branches::

    for outcome in outcomes:
        if isinstance(outcome, Success):
            print("created", outcome.result.name)   # a Task
        else:
            print(f"{outcome.item!r} failed: {outcome.error}")   # an Exception

    tasks = [o.result for o in outcomes if isinstance(o, Success)]   # list[Task]

``if outcome.ok:`` narrows under mypy only: pyright does not narrow a union on
the truth of an attribute (only on ``is``/``==`` against a literal, so
``outcome.ok is True`` narrows in both).  ``outcome.unwrap()`` needs no narrowing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar, Union

import attrs

from .._wire.deprecation import renamed

__all__ = ["Failure", "Outcome", "Progress", "Success"]

I_co = TypeVar("I_co", covariant=True)
R_co = TypeVar("R_co", covariant=True)
I = TypeVar("I")  # noqa: E741 - the item type, as in Outcome[I, R]
R = TypeVar("R")


@attrs.define(frozen=True, kw_only=True)
class Success(Generic[I_co, R_co]):
    """The call for ``item`` returned ``result``.

    Example::

        Success(item="fix-login", result=task).unwrap()  # task
    """

    item: I_co
    result: R_co
    #: Always ``True``: the call returned.  (A field, not a property, so that pyright
    #: narrows ``outcome.ok is True`` as well as mypy narrows ``if outcome.ok:``.)
    ok: Literal[True] = attrs.field(default=True, init=False, repr=False, eq=False)

    @property
    def error(self) -> None:
        """Always ``None`` (present so code can read ``outcome.error`` on any outcome)."""
        return None

    def unwrap(self) -> R_co:
        """The result."""
        return self.result


@attrs.define(frozen=True, kw_only=True)
class Failure(Generic[I_co]):
    """The call for ``item`` raised ``error``.

    Example::

        Failure(item="fix-login", error=exc).unwrap()  # raises exc
    """

    item: I_co
    error: Exception
    #: Always ``False``: the call raised.
    ok: Literal[False] = attrs.field(default=False, init=False, repr=False, eq=False)

    @property
    def result(self) -> None:
        """Always ``None`` (present so code can read ``outcome.result`` on any outcome)."""
        return None

    def unwrap(self) -> NoReturn:
        """Raise the item's error."""
        raise self.error


if TYPE_CHECKING:
    #: One item's ending: ``Success[I, R] | Failure[I]``; ``isinstance(outcome, Success)``
    #: narrows it (``if outcome.ok:`` only under mypy).
    Outcome = Union[Success[I, R], Failure[I]]  # noqa: UP007 - a generic alias needs Union
else:

    class Outcome:
        """``Success[I, R] | Failure[I]``.  At run time ``Outcome[I, R]`` is that union, and
        calling ``Outcome(item=..., result=... | error=...)`` (the spelling of earlier
        releases) still builds one, with a ``DeprecationWarning``."""

        def __class_getitem__(cls, params: Any) -> Any:
            item, result = params
            return Union[Success[item, result], Failure[item]]  # noqa: UP007

        def __new__(cls, *, item: Any, result: Any = None, error: Exception | None = None) -> Any:
            renamed("Outcome(...)", "Success(item=..., result=...) or Failure(item=..., error=...)")
            if error is not None:
                return Failure(item=item, error=error)
            return Success(item=item, result=result)


#: ``progress(done, total, outcome)``, called after each item finishes.
Progress = Callable[[int, int, Outcome[I, R]], object]
