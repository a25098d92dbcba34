"""Fault injection: make the fake misbehave the way real networks and proxies do."""

from __future__ import annotations

import random
from collections.abc import Iterator

import attrs

from ._routes import FAULT_ROUTES

__all__ = ["FAULT_KINDS", "FAULT_ROUTES", "Fault", "FaultSet"]

FAULT_KINDS = (
    "status", "html", "rate_limit", "latency", "slow_body", "reset", "truncated_json",
    "lost_response", "gzip_bomb",
)  # fmt: skip
# Kinds after which the request has really been processed by the fake.
HANDLED_KINDS = frozenset({"latency", "slow_body", "truncated_json", "lost_response"})
_DEFAULT_STATUS = {"status": 503, "html": 502, "rate_limit": 429}


@attrs.define(frozen=True, slots=True)
class Fault:
    """One fault rule.

    ``route`` is a route name of the route table (``get``, ``list``, ``create``,
    ``delete``, ``send``, ``logs``, ``pause``, ``resume``, ``update_input``,
    ``list_templates``, ``get_build``, ...: :data:`FAULT_ROUTES`) or ``*``.  ``kind``:

    * ``status`` — reply ``status`` (default 503) with a coderd-style JSON error; not handled.
    * ``html`` — reply ``status`` (default 502) with a ``text/html`` proxy page; not handled.
    * ``rate_limit`` — 429 with ``Retry-After: <retry_after>`` and coderd's body; not handled.
      ``retry_after`` may be any text (``"nan"``, ``"-5"``, an HTTP-date) to play a
      broken proxy.
    * ``latency`` — really sleep ``delay`` seconds (wall time), then handle normally.
    * ``slow_body`` — handle; stream the body in small pieces with ``delay`` between them.
    * ``reset`` — not handled; send headers and half a body, then drop the connection.
    * ``truncated_json`` — handle; reply 200 with the body cut in half (Content-Length matches).
    * ``lost_response`` — handle fully, then drop the connection without any response.
    * ``gzip_bomb`` — not handled; reply 200 with a small gzip body (``Content-Length`` of
      the compressed bytes) that inflates to ``size`` bytes (default 20 MB).

    ``rate`` is the probability per matching request (seeded, deterministic);
    ``times`` caps the number of injections (``None`` = unlimited).
    """

    route: str = attrs.field(validator=attrs.validators.in_(FAULT_ROUTES))
    kind: str = attrs.field(validator=attrs.validators.in_(FAULT_KINDS))
    rate: float = 1.0
    times: int | None = None
    status: int | None = None
    retry_after: int | float | str = 1
    delay: float = 0.0
    size: int = 20 * 1024 * 1024

    @property
    def effective_status(self) -> int:
        """``status`` or the kind's default (503 status, 502 html, 429 rate_limit)."""
        return self.status if self.status is not None else _DEFAULT_STATUS.get(self.kind, 200)

    @property
    def handles(self) -> bool:
        """Whether the request is processed (state changes) despite the fault."""
        return self.kind in HANDLED_KINDS


class FaultSet:
    """The active fault rules of a :class:`FakeCoder` and a log of what was injected."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(f"faults:{seed}")
        self._rules: list[Fault] = []
        self._counts: dict[int, int] = {}
        #: ``(route name, fault kind)`` of every injection, in order (kept by :meth:`clear`):
        #: a test asserts what the client met.
        self.injected: list[tuple[str, str]] = []

    def add(self, fault: Fault) -> Fault:
        """Activate ``fault`` (rules are tried in the order they were added)."""
        self._rules.append(fault)
        self._counts[id(fault)] = 0
        return fault

    def remove(self, fault: Fault) -> None:
        """Deactivate one rule."""
        self._rules = [f for f in self._rules if f is not fault]

    def clear(self) -> None:
        """Deactivate every rule (the ``injected`` log is kept)."""
        self._rules = []
        self._counts = {}

    def __iter__(self) -> Iterator[Fault]:
        return iter(list(self._rules))

    def __len__(self) -> int:
        return len(self._rules)

    def pick(self, route: str) -> Fault | None:
        """The fault to inject for a request to ``route`` now, if any; records it."""
        if not self._rules:
            return None
        for fault in self._rules:
            if fault.route not in ("*", route):
                continue
            if fault.times is not None and self._counts.get(id(fault), 0) >= fault.times:
                continue
            if fault.rate < 1.0 and self._rng.random() >= fault.rate:
                continue
            self._counts[id(fault)] = self._counts.get(id(fault), 0) + 1
            self.injected.append((route, fault.kind))
            return fault
        return None
