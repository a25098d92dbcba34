"""The transport's request slots: never more holders than slots, first come first served,
and no slot lost to a cancellation, whatever the order of takes, gives and cancels."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from coder_tasks_async._http.slots import Slots


class SlotsMachine(RuleBasedStateMachine):
    """Callers take a slot, hold it until released or cancelled; a model says who holds."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.capacity = 1
        self.slots = Slots(1)
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.release_of: dict[int, asyncio.Future[None]] = {}
        self.holding: set[int] = set()  # what the callers themselves report
        self.gave_early: set[int] = set()  # holders whose slot the test gave back for them
        self.model_holders: set[int] = set()
        self.model_waiting: list[int] = []
        self.next_id = 0

    @initialize(capacity=st.integers(1, 3))
    def start(self, capacity: int) -> None:
        self.capacity = capacity
        self.slots = Slots(capacity)

    async def _caller(self, i: int) -> None:
        if not self.slots.take_nowait():
            await self.slots.take()
        self.holding.add(i)
        try:
            await self.release_of[i]
        finally:
            self.holding.discard(i)
            if i not in self.gave_early:
                self.slots.give()

    def _settle(self) -> None:
        for _ in range(6):
            self.loop.run_until_complete(asyncio.sleep(0))

    def _promote(self) -> None:
        if self.model_waiting:
            self.model_holders.add(self.model_waiting.pop(0))

    @rule()
    def take(self) -> None:
        i = self.next_id
        self.next_id += 1
        self.release_of[i] = self.loop.create_future()
        self.tasks[i] = self.loop.create_task(self._caller(i))
        if len(self.model_holders) < self.capacity and not self.model_waiting:
            self.model_holders.add(i)
        else:
            self.model_waiting.append(i)
        self._settle()

    @precondition(lambda self: self.model_holders)
    @rule(data=st.data())
    def give(self, data: st.DataObject) -> None:
        i = data.draw(st.sampled_from(sorted(self.model_holders)))
        self.release_of[i].set_result(None)
        self.model_holders.remove(i)
        self._promote()
        self._settle()

    @precondition(lambda self: self.model_holders or self.model_waiting)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        i = data.draw(st.sampled_from(sorted(self.model_holders) + self.model_waiting))
        self.tasks[i].cancel()
        if i in self.model_holders:
            self.model_holders.remove(i)
            self._promote()
        else:
            self.model_waiting.remove(i)
        self._settle()

    @precondition(lambda self: self.model_holders and self.model_waiting)
    @rule(data=st.data())
    def give_then_cancel_the_next(self, data: st.DataObject) -> None:
        # The next in line is handed the slot and cancelled before it runs: it passes
        # the slot on.
        i = data.draw(st.sampled_from(sorted(self.model_holders)))
        self.gave_early.add(i)
        self.slots.give()  # on behalf of holder i: the next in line is handed the slot
        self.release_of[i].set_result(None)
        nxt = self.model_waiting.pop(0)
        self.tasks[nxt].cancel()
        self.model_holders.remove(i)
        self._promote()
        self._settle()

    @precondition(lambda self: self.model_holders and self.model_waiting)
    @rule(data=st.data())
    def cancel_a_waiter_then_give(self, data: st.DataObject) -> None:
        # The give() meets the cancelled waiter before that one has left the line.
        w = data.draw(st.sampled_from(self.model_waiting))
        i = data.draw(st.sampled_from(sorted(self.model_holders)))
        self.tasks[w].cancel()
        self.release_of[i].set_result(None)
        self.model_waiting.remove(w)
        self.model_holders.remove(i)
        self._promote()
        self._settle()

    @invariant()
    def the_callers_and_the_model_agree(self) -> None:
        assert self.holding == self.model_holders
        assert len(self.holding) <= self.capacity
        assert self.slots.free == self.capacity - len(self.model_holders)
        assert self.slots.waiting == len(self.model_waiting)

    def teardown(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        self._settle()
        self.loop.close()


TestSlots = SlotsMachine.TestCase
TestSlots.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


def test_a_free_slot_is_taken_without_waiting() -> None:
    slots = Slots(2)
    assert slots.take_nowait() and slots.take_nowait()
    assert not slots.take_nowait()
    slots.give()
    assert slots.free == 1


def test_a_waiter_gets_the_slot_before_a_newcomer() -> None:
    async def main() -> list[str]:
        slots = Slots(1)
        order: list[str] = []
        assert slots.take_nowait()

        async def waiter() -> None:
            await slots.take()
            order.append("waiter")

        task = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        slots.give()
        assert not slots.take_nowait(), "a newcomer took the slot handed to the waiter"
        await task
        return order

    assert asyncio.run(main()) == ["waiter"]


def test_a_waiter_cancelled_as_it_is_handed_the_slot_passes_it_on() -> None:
    async def main() -> int:
        slots = Slots(1)
        assert slots.take_nowait()
        waiter = asyncio.create_task(slots.take())
        await asyncio.sleep(0)
        slots.give()  # handed to the waiter, which has not run since
        waiter.cancel()
        await asyncio.gather(waiter, return_exceptions=True)
        return slots.free

    assert asyncio.run(main()) == 1


@pytest.mark.parametrize("capacity", [1, 3])
def test_cancelled_waiters_leave_no_slot_behind(capacity: int) -> None:
    async def main() -> int:
        slots = Slots(capacity)
        for _ in range(capacity):
            assert slots.take_nowait()
        waiters = [asyncio.create_task(slots.take()) for _ in range(3)]
        await asyncio.sleep(0)
        for w in waiters:
            w.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)
        for _ in range(capacity):
            slots.give()
        return slots.free

    assert asyncio.run(main()) == capacity
