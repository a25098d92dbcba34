"""``get_logs_raw``: the low-level form of ``get_logs`` the followers use."""

from __future__ import annotations

import pytest
from helpers import FAST

from coder_tasks_async import CoderTasksClient
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio


async def test_raw_logs_are_the_same_conversation_as_get_logs(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("hello", template_version_id=fake_coder.template_version_id)
    await coder.wait_for(task, until="idle", poll=FAST)
    entries, snapshot = await coder.get_logs_raw(task)
    typed = await coder.get_logs(task)
    assert snapshot is False
    assert [e["id"] for e in entries] == [e.id for e in typed.logs]
    assert [e["content"] for e in entries] == [e.content for e in typed.logs]
