"""The narrowing the docs recommend: ``isinstance(outcome, Success)`` in an ``if`` (both
branches) and in a comprehension, and ``outcome.ok is True``/``False``.  Checked under mypy
and pyright alike; ``mypy_only/ok_narrowing.py`` has the ``if outcome.ok:`` spelling,
which pyright does not narrow."""

from __future__ import annotations

from coder_tasks_async import Outcome, Success, Task


def split(outcomes: list[Outcome[str, Task]]) -> tuple[list[Task], list[Exception]]:
    done: list[Task] = []
    failed: list[Exception] = []
    for outcome in outcomes:
        if isinstance(outcome, Success):
            done.append(outcome.result)  # a Task, not Task | None
        else:
            failed.append(outcome.error)  # an Exception, not Exception | None
    return done, failed


def names(outcomes: list[Outcome[str, Task]]) -> list[str]:
    return [o.result.name for o in outcomes if isinstance(o, Success)]


def by_literal(outcomes: list[Outcome[str, Task]]) -> tuple[list[Task], list[Exception]]:
    done = [o.result for o in outcomes if o.ok is True]
    failed = [o.error for o in outcomes if o.ok is False]
    return done, failed
