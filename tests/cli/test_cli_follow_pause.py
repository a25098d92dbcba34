"""``logs -f`` across a pause and a resume, and with another task's cursor file."""

from __future__ import annotations

from pathlib import Path

import pytest
from profiles import PAUSE_CAPABLE, fake_at
from test_cli import POLL, assert_clean_error, cli, make_task
from test_cli import coder as coder  # the CLI tests' fixtures
from test_cli import env as env
from test_cli import fake as fake

from coder_tasks_async import CoderTasksClient, PollPolicy
from coder_tasks_async.cli._follow import Follow
from coder_tasks_async.cli._follow import follow as follow_logs
from coder_tasks_async.cli._waiting import Goal
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.5, maximum=2.0, jitter=0.0)


async def follow(
    coder: CoderTasksClient, cursor: Path, capsys: pytest.CaptureFixture[str], **stop: object
) -> str:
    """One in-process ``logs same-text -f --settled --cursor-file`` run; its output."""
    until = stop.pop("until", None)
    how = Follow(
        settled=True,
        cursor_file=cursor,
        poll=FAST,
        until=Goal.of(until) if until else None,  # type: ignore[arg-type]
        **stop,  # type: ignore[arg-type]
    )
    capsys.readouterr()
    await follow_logs(coder, await coder.get_task("same-text"), how)
    return capsys.readouterr().out


@pytest.mark.parametrize("version", PAUSE_CAPABLE)
async def test_pause_prints_one_line_and_resume_one_restart(
    version: str, fake_clock: FakeClock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cursor = tmp_path / "same.cursor"
    async with fake_at(version, fake_clock) as (fake, coder):
        task = await coder.create_task(
            "same text", name="same-text", template_version_id=fake.template_version_id
        )
        first = await follow(coder, cursor, capsys, until=["idle"])
        assert first.count("── #") == 3 and "same text" in first
        await coder.pause_task(task)
        paused = await follow(coder, cursor, capsys, until_terminal=True)
        assert "is paused: what follows is its stored snapshot" in paused
        assert "── #" not in paused  # the snapshot repeats what was printed
        assert "restarted" not in paused
        await coder.send_input(task, "same text", wait_ready=True, resume=True, poll=FAST)
        resumed = await follow(coder, cursor, capsys, until=["idle"])
        assert resumed.count("conversation restarted") == 1
        assert resumed.count("── #") == 3 and "same text" in resumed
        assert resumed.index("restarted") < resumed.index("── #0")


async def test_another_tasks_cursor_file_is_refused_and_left_alone(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str], tmp_path: Path
) -> None:
    await make_task(coder, fake, "alpha")
    await make_task(coder, fake, "beta")
    cursor = tmp_path / "alpha.cursor"
    args = ["--follow", "--settled", "--cursor-file", str(cursor), *POLL, "--until", "idle"]
    first = await cli(env, "logs", "alpha", *args)
    assert first.rc == 0, first
    saved = cursor.read_text()
    wrong = await cli(env, "logs", "beta", *args)
    assert_clean_error(wrong, 2, "alpha", "beta", "cursor")
    assert len(wrong.err.strip().splitlines()) == 1
    assert wrong.out == ""
    assert cursor.read_text() == saved
