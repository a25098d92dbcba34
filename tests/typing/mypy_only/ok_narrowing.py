"""``if outcome.ok:`` narrows under mypy (pyright does not narrow on an attribute's truth)."""

from __future__ import annotations

from coder_tasks_async import Outcome, Task


def split(outcomes: list[Outcome[str, Task]]) -> tuple[list[Task], list[Exception]]:
    done: list[Task] = []
    failed: list[Exception] = []
    for outcome in outcomes:
        if outcome.ok:
            done.append(outcome.result)
        else:
            failed.append(outcome.error)
    return [o.result for o in outcomes if o.ok], failed
