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

__all__ = ["ResponseHook", "ResponseHooks", "observe_responses", "scoped_hooks"]

#: ``hook(status, headers)``; its return value is ignored.
ResponseHook = Callable[[int, Mapping[str, str]], object]

_scoped: ContextVar[tuple[ResponseHook, ...]] = ContextVar("coder_tasks_response_hooks", default=())
#: The hooks the current context observes with (``()`` outside any ``observe_responses``).
#: The context variable's own ``get``: the transport asks it for every response, and
#: calls :meth:`ResponseHooks.emit` only when someone listens.
scoped_hooks = _scoped.get


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

    __slots__ = ("own",)

    def __init__(self) -> None:
        #: The transport's own hooks (read it; change it through :meth:`add` only).
        self.own: tuple[ResponseHook, ...] = ()

    def add(self, hook: ResponseHook) -> Callable[[], None]:
        """Call ``hook`` for every response from now on; returns a function that removes it."""
        self.own = (*self.own, hook)

        def remove() -> None:
            self.own = tuple(h for h in self.own if h is not hook)

        return remove

    def emit(self, status: int, headers: Mapping[str, str]) -> None:
        """Tell every hook about one response.  A hook that raises is a bug: it propagates."""
        for hook in self.own:
            hook(status, headers)
        for hook in _scoped.get():
            hook(status, headers)
