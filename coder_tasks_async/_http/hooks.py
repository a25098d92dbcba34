"""Response hooks: who hears about each response the transport receives.

Two kinds of listener, both told ``(status, headers)`` of every response (each
attempt's, retried ones included):

* a client's own hooks (:meth:`ResponseHooks.add`), for the life of the client:
  ``server_version`` is one;
* hooks scoped to the calls made inside a ``with observe_responses(hook):`` block
  (a context variable, so a concurrent call in another task is never seen): the
  rate limiter learns from exactly the calls it paced this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["ResponseHook", "ResponseHooks", "observe_responses"]

#: ``hook(status, headers)``; its return value is ignored.
ResponseHook = Callable[[int, Mapping[str, str]], object]

_scoped: ContextVar[tuple[ResponseHook, ...]] = ContextVar("coder_tasks_response_hooks", default=())


@contextmanager
def observe_responses(hook: ResponseHook) -> Iterator[None]:
    """Call ``hook`` for every response received by calls made inside the block.

    Calls made by tasks started inside the block are included (they inherit the
    context); calls of other, concurrent tasks are not.
    """
    token = _scoped.set((*_scoped.get(), hook))
    try:
        yield
    finally:
        _scoped.reset(token)


class ResponseHooks:
    """The hooks of one transport, plus whatever the current context observes."""

    __slots__ = ("_hooks",)

    def __init__(self) -> None:
        self._hooks: tuple[ResponseHook, ...] = ()

    def add(self, hook: ResponseHook) -> Callable[[], None]:
        """Call ``hook`` for every response from now on; returns a function that removes it."""
        self._hooks = (*self._hooks, hook)

        def remove() -> None:
            self._hooks = tuple(h for h in self._hooks if h is not hook)

        return remove

    def emit(self, status: int, headers: Mapping[str, str]) -> None:
        """Tell every hook about one response.  A hook that raises is a bug: it propagates."""
        for hook in self._hooks:
            hook(status, headers)
        for hook in _scoped.get():
            hook(status, headers)
