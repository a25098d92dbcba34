"""The ``coder-tasks`` command line against a real-time FakeCoder.

The fake runs in this test's event loop; each CLI call runs the typer app
in-process on a worker thread (it starts its own event loop), one at a time since
the runner swaps ``sys.stdout``.  Only Ctrl-C and ``fake-server`` need a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import anyio
import attrs
import pytest
from anyio.abc import Process
from typer.testing import CliRunner

from coder_tasks_async import (
    CoderTasksClient,
    EntryEvent,
    LogEvent,
    LogEventKind,
    Task,
    TaskLogEntry,
    TaskLogType,
)
from coder_tasks_async.cli import app
from coder_tasks_async.testing import FakeCoder, Timings

pytestmark = pytest.mark.anyio

#: A task is active 0.15 s after creation and answers in 0.15 s.
FAST = Timings(pending=0.05, initializing=0.1, chunk_interval=0.05, chunks=3, stop_job=0.05)
CLI = (sys.executable, "-m", "coder_tasks_async.cli")
#: Poll the fast fake fast (the SDK's default starts at 1 s).
POLL = ("--poll-interval", "0.05")


@attrs.define
class Result:
    rc: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def base_env(tmp_path: Path, fake: FakeCoder | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    # An empty config dir: the developer's own `coder login` must not leak in.
    env["CODER_CONFIG_DIR"] = str(tmp_path / "coderv2")
    env["COLUMNS"] = "200"  # rich would wrap long error lines at 80 columns
    env["PYTHONUNBUFFERED"] = "1"
    if fake is not None:
        env["CODER_URL"] = fake.url
        env["CODER_SESSION_TOKEN"] = fake.token
    return env


@pytest.fixture
async def fake() -> AsyncIterator[FakeCoder]:
    async with FakeCoder(timings=FAST) as server:
        yield server


@pytest.fixture
async def coder(fake: FakeCoder) -> AsyncIterator[CoderTasksClient]:
    async with CoderTasksClient(fake.url, token=fake.token, api="experimental") as client:
        yield client


@pytest.fixture
def env(tmp_path: Path, fake: FakeCoder) -> dict[str, str]:
    return base_env(tmp_path, fake)


_ONE_AT_A_TIME = threading.Lock()


async def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> Result:
    # Variables missing from `env` are unset for the run, as in a fresh process.
    overlay: dict[str, str | None] = {k: None for k in os.environ if k not in env}
    overlay.update(env)

    def invoke() -> Result:
        with _ONE_AT_A_TIME:
            result = CliRunner().invoke(app, list(args), input=stdin, env=overlay)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception  # what a user would have seen as a traceback
        return Result(result.exit_code, result.stdout, result.stderr)

    return await anyio.to_thread.run_sync(invoke)


async def gather(*calls: Awaitable[Result]) -> list[Result]:
    """Await independent CLI runs concurrently; results in call order."""
    results: dict[int, Result] = {}

    async def one(i: int, call: Awaitable[Result]) -> None:
        results[i] = await call

    async with anyio.create_task_group() as tg:
        for i, call in enumerate(calls):
            tg.start_soon(one, i, call)
    return [results[i] for i in range(len(calls))]


async def cli_many(env: dict[str, str], *calls: Sequence[str]) -> list[Result]:
    """Run independent invocations concurrently; results in call order."""
    return await gather(*(cli(env, *args) for args in calls))


async def make_task(coder: CoderTasksClient, fake: FakeCoder, name: str) -> Task:
    return await coder.create_task(
        f"Fix {name}", template_version_id=fake.template_version_id, name=name
    )


def assert_clean_error(result: Result, code: int, *needles: str) -> None:
    assert result.rc == code, result
    assert "Traceback" not in result.err
    for needle in needles:
        assert needle in result.err, result.err


async def test_list_table_json_and_quiet(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]
) -> None:
    one, two = await make_task(coder, fake, "list-one"), await make_task(coder, fake, "list-two")
    table, as_json, quiet = await cli_many(
        env, ["list", "-a"], ["list", "-o", "json"], ["list", "-q", "--status", "active"]
    )
    assert table.rc == 0 and "NAME" in table.out and "list-one" in table.out
    # `coder task list -a` shows the same default columns (no owner column); sorted by name.
    assert table.out.index("list-one") < table.out.index("list-two")
    data = as_json.json()
    assert isinstance(data, list) and {t["name"] for t in data} == {"list-one", "list-two"}
    assert data[0]["status"] in ("pending", "initializing", "active")
    assert set(quiet.out.split()) <= {str(one.id), str(two.id)}


async def test_create_variants(fake: FakeCoder, env: dict[str, str]) -> None:
    tv = str(fake.template_version_id)
    env_tv = {**env, "CODER_TASK_TEMPLATE_VERSION": tv}
    plain, as_json, from_stdin, no_tv = await gather(
        cli(env, "create", "Fix the login bug", "--template-version", tv, "--name", "c-plain"),
        cli(env, "create", "As JSON", "--template-version", tv, "-o", "json",
            "--preset", str(fake.preset_id)),
        cli(env_tv, "create", "--stdin", "-q", stdin="Prompt from stdin\n"),
        cli(env, "create", "No template named", "--name", "c-only"),
    )  # fmt: skip
    assert plain.rc == 0 and "alice/c-plain" in plain.out
    assert as_json.json()["initial_prompt"] == "As JSON"  # type: ignore[index]
    # A preset by name, as `coder task create --preset` takes it: looked up in the version.
    named = await cli(env, "create", "Preset by name", "--template-version", tv,
                      "--preset", "Default", "--name", "c-preset")  # fmt: skip
    assert named.rc == 0, named
    assert any(r.route == "list_presets" for r in fake.requests)
    # No template named: the only one there is, as `coder task create` picks it.
    assert no_tv.rc == 0, no_tv
    assert fake.task("c-only").template_version_id == fake.template_version_id
    assert from_stdin.rc == 0, from_stdin
    assert fake.task(uuid.UUID(from_stdin.out.strip())).prompt == "Prompt from stdin"


async def test_status_and_watch(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]
) -> None:
    task = await make_task(coder, fake, "watched")
    as_json, watch = await cli_many(
        env, ["status", str(task.id), "-o", "json"], ["status", "alice/watched", "--watch", *POLL]
    )
    assert as_json.json()["id"] == str(task.id)  # type: ignore[index]
    # --watch ends by itself once the agent is up and not working; coder's columns.
    assert watch.rc == 0, watch
    lines = watch.out.splitlines()
    assert lines[0].split() == ["STATE", "CHANGED", "STATUS", "HEALTHY", "STATE", "MESSAGE"]
    assert lines[-1].split()[2:6] == ["active", "true", "idle", "Done:"]


async def test_logs_once_table_json_and_live_follow(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]
) -> None:
    await make_task(coder, fake, "logged")
    as_json, live = await cli_many(
        env,
        ["logs", "logged", "-o", "json"],
        ["logs", "logged", "--follow", "--idle-timeout", "0.2", *POLL],
    )
    # The one-shot call may come before the agent is up: then the conversation is empty.
    # coder's shape: an array of entries; nothing (and a note on stderr) when there are none.
    assert as_json.rc == 0, as_json
    assert isinstance(as_json.json(), list) if as_json.out else "No task logs found." in as_json.err
    # Live mode, until the agent has been idle for 0.2 s.
    assert live.rc == 0, live
    assert "#1 input" in live.out and "Fix logged" in live.out and "Done: Fix logged" in live.out
    table = await cli(env, "logs", "logged")
    assert table.rc == 0 and "#1 input" in table.out and "Done: Fix logged" in table.out


async def test_follow_cursor_file_resumes_without_repeats(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str], tmp_path: Path
) -> None:
    task = await make_task(coder, fake, "resumed")
    cursor = tmp_path / "resumed.cursor"
    args = ["logs", "resumed", "--follow", "--settled", "--cursor-file", str(cursor), *POLL]
    args += ["-o", "json"]
    first = await cli(env, *args, "--until", "idle")
    assert first.rc == 0, first
    events = first.lines()
    assert [e["kind"] for e in events] == ["new", "new", "new"]  # settled: each entry once
    assert [e["entry"]["id"] for e in events] == [0, 1, 2]  # type: ignore[index]
    assert events[1]["entry"]["content"] == "Fix resumed"  # type: ignore[index]
    assert cursor.read_text().startswith("{")
    await coder.send_input(task, "And add a test", wait_ready=True)
    second = await cli(env, *args, "--until", "idle")
    assert second.rc == 0, second
    ids = [e["entry"]["id"] for e in second.lines()]  # type: ignore[index]
    assert ids == [3, 4]
    third = await cli(env, *args, "--idle-timeout", "0.2")
    assert third.rc == 0 and third.out == ""


async def test_send(fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]) -> None:
    task = await make_task(coder, fake, "talk")
    sent = await cli(env, "send", "talk", "Please hurry", "--wait-ready", *POLL)
    assert sent.rc == 0, sent
    # The agent is busy with the first input now: --wait-ready waits it out.
    piped = await cli(env, "send", "talk", "--stdin", "--wait-ready", *POLL, stdin="From stdin")
    assert piped.rc == 0, piped
    assert [d[1] for d in fake.deliveries if d[0] == task.id] == ["Please hurry", "From stdin"]


async def test_pause_and_resume(tmp_path: Path) -> None:
    async with (
        FakeCoder(timings=FAST, server_version="v2.31.1") as fake,
        CoderTasksClient(fake.url, token=fake.token) as coder,
    ):
        env = base_env(tmp_path, fake)
        task = await make_task(coder, fake, "napper")
        await coder.wait_for(task, until="idle", timeout=20)
        paused = await cli(env, "pause", "napper")
        assert paused.rc == 0 and "Paused task alice/napper." in paused.out, paused
        assert (await coder.get_task(task)).status == "paused"
        resumed = await cli(env, "resume", "napper")
        assert resumed.rc == 0, resumed
        assert (await coder.get_task(task)).status in ("pending", "initializing", "active")


async def test_delete_confirms(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]
) -> None:
    for name in ("del-a", "del-b", "del-c", "del-d"):
        task = await make_task(coder, fake, name)
        # Coder refuses a delete while the start build runs: wait it out.
        await coder.wait_for(task, until=lambda t: t.status != "pending", timeout=20)
    yes, no, missing = await gather(
        cli(env, "delete", "del-a", "del-b", stdin="y\n"),
        cli(env, "delete", "del-c", stdin="n\n"),
        cli(env, "delete", "-y", "del-d", "no-such-task"),
    )
    assert yes.rc == 0 and "Deleted task alice/del-a" in yes.out and "del-b" in yes.out
    assert fake.task("del-a").deleted and fake.task("del-b").deleted
    assert no.rc == 1 and not fake.task("del-c").deleted
    # Each argument gets its outcome; a missing one does not stop the others.
    assert_clean_error(missing, 1, "task no-such-task not found")
    assert "Deleted task alice/del-d" in missing.out
    assert fake.task("del-d").deleted


async def test_wait(fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]) -> None:
    await make_task(coder, fake, "waited")
    reached, timed_out = await cli_many(
        env,
        ["wait", "waited", "--until", "idle,complete", "--timeout", "20", "-o", "json", *POLL],
        ["wait", "waited", "--until", "complete", "--timeout", "0.2"],
    )
    assert reached.rc == 0, reached
    assert reached.json()["current_state"]["state"] == "idle"  # type: ignore[index]
    assert_clean_error(timed_out, 1, "did not reach")


async def test_errors_are_one_screen_without_traceback(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str], tmp_path: Path
) -> None:
    await make_task(coder, fake, "taken")
    tv = str(fake.template_version_id)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    no_env = base_env(tmp_path, None)
    duplicate, bad_token, refused, unconfigured = await gather(
        cli(env, "create", "again", "--template-version", tv, "--name", "taken"),
        cli(env, "list", "--token", "abcdefghij-abcdefghijabcdefghijab"),
        cli(env, "list", "--url", f"http://127.0.0.1:{closed_port}"),
        cli(no_env, "list"),
    )
    # The server's message, detail and validations on one screen (404s: test_delete_confirms).
    assert_clean_error(duplicate, 1, 'Workspace "taken" already exists', "invalid name", "409")
    assert_clean_error(bad_token, 1, "signed out", "API key is invalid")
    assert_clean_error(refused, 1, f"cannot reach http://127.0.0.1:{closed_port}")
    assert "Error" not in refused.err  # no Python type names
    # A ValueError from the SDK (here: the configuration lookup) is a usage error.
    assert_clean_error(unconfigured, 2, "missing the deployment URL", "CODER_SESSION_TOKEN")


async def test_ctrl_c_while_following_exits_130(
    fake: FakeCoder, coder: CoderTasksClient, env: dict[str, str]
) -> None:
    await make_task(coder, fake, "interrupted")
    async with await anyio.open_process([*CLI, "logs", "interrupted", "--follow"], env=env) as proc:
        await read_until(proc, b"#0")
        proc.send_signal(signal.SIGINT)
        with anyio.fail_after(10):
            rc = await proc.wait()
        assert proc.stderr is not None
        err = (await proc.stderr.receive()).decode()
    assert rc == 130
    assert "Traceback" not in err and "Interrupted" in err


async def test_fake_server_command(tmp_path: Path) -> None:
    env = base_env(tmp_path, None)
    args = [*CLI, "fake-server", "--port", "0", "--speed", "20", "--server-version", "v2.29.0"]
    async with await anyio.open_process(args, env=env) as proc:
        head = (await read_until(proc, b"PRESET=")).decode()
        info = dict(line.split("=", 1) for line in head.splitlines() if "=" in line)
        client_env = {
            **env,
            "CODER_URL": info["URL"],
            "CODER_SESSION_TOKEN": info["TOKEN"],
            "CODER_TASK_TEMPLATE_VERSION": info["TEMPLATE_VERSION"],
        }
        created = await cli(client_env, "create", "Hello", "-o", "json")
        assert created.rc == 0, created
        assert created.json()["display_name"] == "Hello"  # type: ignore[index]  # v2.29 shape
        proc.terminate()
        with anyio.fail_after(10):
            assert await proc.wait() == 0


async def test_demo_small(tmp_path: Path) -> None:
    result = await cli(base_env(tmp_path, None), "demo", "--tasks", "3", "--speed", "8")
    assert result.rc == 0, result
    assert "Summary" in result.out and "TIME TO ACTIVE" in result.out
    assert "sent a follow-up" in result.out
    assert "Deleted 3 tasks." in result.out
    assert "✓ 3/3 settled" in result.out  # not a TTY: plain progress lines


async def read_until(proc: Process, marker: bytes) -> bytes:
    """Read the process's stdout until ``marker`` shows up (bounded in time)."""
    assert proc.stdout is not None
    seen = b""
    with anyio.fail_after(20):
        while marker not in seen:
            seen += await proc.stdout.receive()
    return seen


def test_followed_update_prints_only_the_new_lines(capsys: pytest.CaptureFixture[str]) -> None:
    # In-process: whether a live CLI sees the reply mid-growth depends on timing.
    from coder_tasks_async.cli import _follow

    def event(kind: Literal[LogEventKind.NEW, LogEventKind.UPDATE], content: str) -> LogEvent:
        when = datetime(2025, 1, 1, tzinfo=UTC)
        entry = TaskLogEntry(id=2, content=content, type=TaskLogType.OUTPUT, time=when)
        return EntryEvent(kind=kind, entry=entry, task_id=uuid.uuid4(), task_name="t")

    show = _follow._TextPrinter()
    show(event(LogEventKind.NEW, "● Looking at: it\n\n✻ Working…"))
    show(event(LogEventKind.UPDATE, "● Looking at: it\n● Read(README.md)\n\n✻ Working…"))
    text = capsys.readouterr().out
    assert text.count("● Looking at: it") == 1  # the unchanged first line is not repeated
    assert "(updated)" in text and "● Read(README.md)" in text


async def test_create_picks_the_only_template_with_an_ai_task(
    fake: FakeCoder, env: dict[str, str]
) -> None:
    # A template without a coder_ai_task resource is not a task template: as `coder task
    # create` asks (has-ai-task:true), it does not count when none is named.
    fake.templates.add(
        "plain-workspace",
        organization_id=fake.organization_id,
        organization_name=fake.organization_name,
        versions={"v1": uuid.uuid4()},
        active_version="v1",
        has_ai_task=False,
    )
    made = await cli(env, "create", "Only the AI one", "--name", "c-ai-only")
    assert made.rc == 0, made
    assert fake.task("c-ai-only").template_version_id == fake.template_version_id
    assert any(r.query.get("q") == "has-ai-task:true" for r in fake.requests)
