"""Every Python block of the documentation runs against FakeCoder: the ```python blocks
of README.md and of the site's pages, and every ``Example::`` of the public docstrings
(codeblocks.py finds them).  No block only looks right.

How a block runs:

* A **snippet** (top-level ``await`` allowed, as in an async REPL) runs on the test's
  event loop, in a namespace that holds a connected client and what a reader's code
  would already have (:func:`namespace`): ``coder`` (a ``CoderTasksClient``), ``fake``
  (its ``FakeCoder``) and ``clock`` (the ``FakeClock`` both run on, which jumps ahead
  whenever everything sleeps: waits of minutes take no real time), ``task`` (the
  task ``fix-login``, active, its agent idle), ``tv_id``/``template_version`` (the
  template version to create tasks from), ``url`` and ``token``, and for fan-outs
  ``prompts``, ``tasks``/``created`` (``[task]``), ``refs``/``ref`` (``"fix-login"``);
  ``dsn``, a new database on the session's PostgreSQL, when the block or its wiring
  names it; and for wiring, ``reads(route)``, the requests the fake answered there.
  Docstring examples also see every public name of ``coder_tasks_async`` and
  ``coder_tasks_async.testing`` (they live in the package); Markdown blocks import
  what they use, as a reader copying them must.
* A **complete program** (it calls ``anyio.run``/``asyncio.run``) runs as written, in
  a thread (its own event loop), with ``CODER_URL``, ``CODER_SESSION_TOKEN`` and
  ``CODER_TASK_TEMPLATE_VERSION`` pointing at a FakeCoder on the real clock with short
  timings (``from_env()`` takes no clock).
* Each block gets a fresh fake, client and working directory (a temporary one).
* Wiring (HTML comments above a Markdown block; :data:`DOCSTRING_WIRING` for
  docstrings) runs code before or after a block, ends a block that runs forever (a
  bot) once a condition holds, or marks it not run, with a reason: such a block is
  reported as skipped with that reason (``-ra`` lists it), and
  ``test_blocks_not_run_are_few`` pins how many there are.
"""

from __future__ import annotations

import ast
import asyncio
import collections
import contextlib
import doctest
import inspect
import io
import os
import sqlite3
import sys
import threading
import traceback
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from codeblocks import (
    Block,
    Wiring,
    all_blocks,
    blocks_in,
    is_session,
    public_docstrings,
    source_examples,
)
from helpers import eventually

import coder_tasks_async
import coder_tasks_async.testing
from coder_tasks_async import CoderTasksClient, TaskState
from coder_tasks_async.testing import FakeClock, FakeCoder, Timings

#: The SDK's own deprecation warning (``_wire/deprecation.py``) is an error here: a block
#: showing an old spelling (``rate_limiter=``, ``user=``) only looks right.
SDK_DEPRECATION = "error:.*is deprecated and will be removed in the next release:DeprecationWarning"

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings(SDK_DEPRECATION)]

#: Every public name, as the package's own docstrings see them (and test wiring does).
PUBLIC: dict[str, Any] = {
    name: getattr(module, name)
    for module in (coder_tasks_async.testing, coder_tasks_async)
    for name in module.__all__
}

#: Real seconds a block may take before it is stopped: a safety net against a hang
#: (a clear failure instead of a stuck run), not a timing assertion.
BOUND = 60.0

#: A table for the PostgreSQL examples' replies (their database is new for each block).
_PG_TABLE = (
    "import asyncpg\n"
    "db = await asyncpg.connect(dsn)\n"
    'await db.execute("CREATE TABLE replies (key text PRIMARY KEY)")\n'
    "await db.close()"
)

#: Short lifecycle timings for the complete programs, which run on the real clock.
REAL_TIME = Timings(pending=0.1, initializing=0.2, chunk_interval=0.1, chunks=3, stop_job=0.1)

#: A task whose agent reports it is done: a follower ``until_terminal`` ends on it.
_COMPLETE = 'fake.report_state(task.id, "complete")'
#: The only AI template, and a version of it with a preset named "Large".
_TEMPLATE = "(template,) = await coder.list_templates(has_ai_task=True)"
_FOLLOWER = "follower = coder.follow_logs(task, settled=True)"
#: A fleet read the conversation and went on polling.
_FLEET_WENT_ON = 'reads("logs") >= 1 and reads("list") >= 4'

#: The wiring of docstring examples, by the public path of the documented object.
DOCSTRING_WIRING: dict[str, Wiring] = {
    "CoderTasksClient.create_task": Wiring(before='await coder.delete_task("fix-login")'),
    "CoderTasksClient.list_tasks": Wiring(before='fake.add_user("bob")'),
    "CoderTasksClient.list_presets": Wiring(before=_TEMPLATE),
    "CoderTasksClient.get_template_version": Wiring(
        before=f'{_TEMPLATE}\nfake.templates.add_version(fake.templates.templates[0], "v1.2.0")'
    ),
    "CoderTasksClient.get_preset": Wiring(
        before=f'{_TEMPLATE}\nversion = await coder.get_template_version(template, "v1")\n'
        'fake.templates.add_preset(version.id, "Large")'
    ),
    "CoderTasksClient.settle_send": Wiring(
        # The send's response is lost: the example's `except` branch runs for real.
        before=f'{_FOLLOWER}\nanswer = "Yes, go ahead."\n'
        'fake.faults.add(Fault(route="send", kind="lost_response", times=1))',
        after="assert [d[1] for d in fake.deliveries].count(answer) == 1\n"
        'assert fake.faults.injected == [("send", "lost_response")]',
    ),
    "CoderTasksClient.follow_logs": Wiring(before=_COMPLETE),
    "CoderTasksClient.follow_many": Wiring(before=_COMPLETE),
    "CoderTasksClient.watch": Wiring(before=_COMPLETE),
    "CoderTasksClient.on_response": Wiring(
        after="await coder.get_task(task)\nassert statuses == [200]"
    ),
    "CoderTasksClient.follow_fleet": Wiring(
        before="posted = []\nasync def post(key, text):\n    posted.append(key)",
        stop_when="len(posted) >= 2",  # the welcome screen and the reply
    ),
    # Not a count of log reads: past the first two, the next one came only when the
    # watch stream stalled on the autojumping clock, which happens or not with how fast
    # the machine answers (CI's 60 s hangs at stops 30 and 31).
    "SQLiteCursorStore": Wiring(stop_when=_FLEET_WENT_ON),
    "CursorStore": Wiring(stop_when="follower.cursor.last_id == 2"),  # as below
    "PostgresCursorStore": Wiring(
        before=_PG_TABLE,
        stop_when="follower.cursor.last_id == 2",  # all three entries handed out and acked
    ),
    "EntryEvent": Wiring(
        before="async with coder.follow_logs(task, settled=True) as follower:\n"
        "    event = await anext(follower)"
    ),
    "EntryEvent.ack": Wiring(
        # A durable follower handing out its first event, on a store in PostgreSQL.
        before=f"{_PG_TABLE}\nconn = await asyncpg.connect(dsn)\n"
        "store = PostgresCursorStore(dsn)\n"
        "follower = coder.follow_logs(task, settled=True, store=store)\n"
        "event = await anext(await follower.__aenter__())",
        after="await follower.__aexit__(None, None, None)\n"
        'assert await conn.fetchval("SELECT count(*) FROM replies") == 1',
    ),
    "Failure": Wiring(
        before='exc = (await coder.get_many(["no-such-task"]))[0].error', raises="NotFoundError"
    ),
    "LogCursor": Wiring(before=_FOLLOWER),
    "RateLimiter.acquire": Wiring(before="limiter = RateLimiter(coder)"),
    "RateLimiter.observe": Wiring(before="limiter = RateLimiter(coder)"),
    "RateLimiter.rate_limited": Wiring(
        before="limiter = RateLimiter(coder)\n"
        # Every attempt is refused: two waits of 25 s, then the third wait would overrun
        # the call's 60 s deadline, so RateLimitError.  (Not 60: a wait exactly as long
        # as the deadline is slept or not, by float rounding of what is left.)
        'fake.faults.add(Fault(route="get", kind="rate_limit", retry_after=25))',
    ),
    "RateLimiter.run": Wiring(before="limiter = RateLimiter(coder)"),
}

BLOCKS = all_blocks()
#: How many blocks are marked not run (each with its reason in the skip message).
NOT_RUN = 0


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A private working directory and no developer's Coder settings."""
    monkeypatch.chdir(tmp_path)
    for name in [n for n in os.environ if n.startswith("CODER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CODER_CONFIG_DIR", os.devnull)


def wiring_of(block: Block) -> Wiring:
    if block.markdown:
        return block.wiring
    return DOCSTRING_WIRING.get(block.where.removeprefix("docstring:"), Wiring())


async def fresh_database(request: pytest.FixtureRequest) -> str:
    """A new database on the session's PostgreSQL: its DSN."""
    import asyncpg

    server: str = request.getfixturevalue("postgres_dsn")
    name = f"docs_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(server)
    try:
        await admin.execute(f"CREATE DATABASE {name}")
    finally:
        await admin.close()
    return server.rsplit("/", 1)[0] + f"/{name}"


@asynccontextmanager
async def namespace(clock: FakeClock | None) -> AsyncIterator[dict[str, Any]]:
    """A fake, a client of it and a ready task: what a block's reader already has."""
    timings = None if clock is not None else REAL_TIME
    async with (
        FakeCoder(clock=clock, timings=timings) as fake,
        CoderTasksClient(fake.url, token=fake.token, clock=clock) as coder,
    ):
        task = await coder.create_task(
            "Fix the flaky login test",
            template_version_id=fake.template_version_id,
            name="fix-login",
        )
        task = await coder.wait_for(task, until=TaskState.IDLE, timeout=600)
        # The wait's watch stream, closed on both ends: nothing sleeps on the fake clock
        # (moving it) while a block starts.
        await eventually(lambda: fake.watch.open_streams == 0, "the watch stream closed")

        def reads(route: str) -> int:
            """Requests the fake has answered on ``route`` (for test wiring)."""
            return sum(r.route == route for r in fake.requests)

        yield {
            "__name__": "__main__",
            "coder": coder,
            "fake": fake,
            "clock": fake.clock,
            "task": task,
            "tv_id": fake.template_version_id,
            "template_version": str(fake.template_version_id),
            "url": fake.url,
            "token": fake.token,
            "prompts": ["Fix the flaky login test", "Bump the dependencies"],
            "tasks": [task],
            "created": [task],
            "refs": ["fix-login"],
            "ref": "fix-login",
            "reads": reads,
        }


def compiled(code: str, where: str) -> Any:
    """``code`` compiled so that tracebacks name the documentation's file and line."""
    filename, _, line = where.rpartition(":")
    if line.isdigit():  # a Markdown block: its code starts on the line after the fence
        code = "\n" * int(line) + code
    else:
        filename = where
    return compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


async def run_code(code: str, where: str, scope: dict[str, Any]) -> None:
    """Run ``code`` in ``scope``, awaiting it when it awaits at top level."""
    result = eval(compiled(code, where), scope)
    if inspect.iscoroutine(result):
        await result


async def run_wiring(code: str, where: str, scope: dict[str, Any]) -> None:
    """Run test wiring with every public name at hand; only the names it assigns reach
    the block's scope (a Markdown block must still import what it uses)."""
    wired = {**PUBLIC, **scope}
    await run_code(code, where, wired)
    for name, value in wired.items():
        if not name.startswith("__") and (name not in PUBLIC or PUBLIC[name] is not value):
            scope[name] = value


def holds(condition: str, scope: dict[str, Any]) -> bool:
    """A ``test-stop-when`` condition.  One that cannot be evaluated yet (a name the
    block has not assigned, a table not created) does not hold yet; one that never
    holds fails the test, naming it."""
    try:
        return bool(eval(condition, {**PUBLIC, **scope}))
    except Exception:
        return False


def run_session(code: str, where: str, scope: dict[str, Any]) -> None:
    """A ``>>>`` session, as a doctest: each output must be what it shows."""
    test = doctest.DocTestParser().get_doctest(code, dict(scope), where, where, 0)
    report: list[str] = []
    result = doctest.DocTestRunner().run(test, out=report.append)
    assert result.attempted and not result.failed, "".join(report)


def run_program(code: str, where: str) -> None:
    """A complete program, as ``python -c`` would run it (in a worker thread)."""
    exec(compiled(code, where), {"__name__": "__main__"})


async def in_daemon_thread(fn: Callable[..., object], *args: object) -> None:
    """``fn(*args)`` in a daemon thread.  A program stopped at the bound keeps running
    (nothing can stop a thread), so its thread must not hold the test process at exit,
    as an abandoned worker thread of anyio's does."""
    loop = asyncio.get_running_loop()
    finished: asyncio.Future[None] = loop.create_future()

    def settle(error: BaseException | None) -> None:
        if not finished.done():  # not when the test stopped waiting
            if error is None:
                finished.set_result(None)
            else:
                finished.set_exception(error)

    def run() -> None:
        error: BaseException | None = None
        try:
            fn(*args)
        except BaseException as exc:
            error = exc
        # A program that outlived its test finds the test's loop closed: nobody waits.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(settle, error)

    threading.Thread(target=run, name="docs program", daemon=True).start()
    await finished


async def run_block(block: Block, wiring: Wiring, scope: dict[str, Any]) -> None:
    """``before``, the block, ``after``; the last two stopped once ``stop_when`` holds."""
    if wiring.before:
        await run_wiring(wiring.before, f"{block.where} (test-before)", scope)

    async def body() -> None:
        if is_session(block.code):
            run_session(block.code, block.where, scope)
        elif block.program:
            await in_daemon_thread(run_program, block.code, block.where)
        else:
            await run_code(block.code, block.where, scope)
        if wiring.after:
            await run_wiring(wiring.after, f"{block.where} (test-after)", scope)

    if not wiring.stop_when:
        await body()
        return
    fake: FakeCoder = scope["fake"]
    with anyio.CancelScope() as stop:

        def check(_: object) -> None:
            # Checked as the fake answers each request: a block that runs forever keeps
            # polling, and what it did with one answer shows by the next request.
            if holds(wiring.stop_when, scope):
                stop.cancel()

        fake.request_observers.append(check)
        try:
            await body()
        finally:
            fake.request_observers.remove(check)


async def close_leftovers(scope: dict[str, Any], keep: dict[str, Any]) -> None:
    """Close what a block opened and left open (a store, a pool), newest first, as its
    program's exit would: the suite turns a leaked resource into an error."""
    for name, value in reversed(scope.items()):
        if (name in keep and keep[name] is value) or isinstance(value, type):
            continue
        if inspect.iscoroutinefunction(getattr(value, "aclose", None)):
            await value.aclose()
        elif type(value).__module__.startswith("asyncpg") and type(value).__name__ in (
            "Pool",
            "Connection",
        ):
            await value.close()
        elif isinstance(value, sqlite3.Connection):
            value.close()


@pytest.mark.parametrize("block", BLOCKS, ids=[b.where for b in BLOCKS])
async def test_block_runs(
    block: Block, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    wiring = wiring_of(block)
    if wiring.not_run:
        pytest.skip(f"not run: {wiring.not_run}")
    clock = None if block.program else FakeClock()
    state: list[str] = []  # what was going on just before the bound, should it be hit
    ns: dict[str, Any] = {}
    watch = asyncio.get_running_loop().call_later(BOUND - 1, snapshot, ns, state)
    try:
        with anyio.fail_after(BOUND) as bound:
            async with namespace(clock) as made:
                ns.update(made)
                await run_with(block, wiring, made, monkeypatch, request)
    except TimeoutError as exc:
        if not bound.cancelled_caught:
            raise  # the block's own
        raise AssertionError(f"{block.where} ran {BOUND:.0f} s:\n" + "\n".join(state)) from exc
    finally:
        watch.cancel()


def snapshot(ns: dict[str, Any], state: list[str]) -> None:
    """Every pending task's and busy thread's stack, then the fake's clock and requests
    (a hang's diagnosis; the summary comes last, where a clipped log still shows it;
    ``ns`` is empty while the namespace is still being made)."""
    for task in asyncio.all_tasks():
        out = io.StringIO()
        task.print_stack(limit=12, file=out)
        state.append(f"task {task.get_name()}: {out.getvalue()}")
    for ident, frame in sys._current_frames().items():
        if frame.f_code.co_name == "wait" and frame.f_code.co_filename == threading.__file__:
            continue  # an idle worker thread
        state.append(f"thread {ident}:\n{''.join(traceback.format_stack(frame, limit=12))}")
    fake: FakeCoder | None = ns.get("fake")
    if fake is not None:
        routes = collections.Counter(r.route for r in fake.requests)
        state.append(f"fake clock at {fake.clock.now():.2f} s; requests by route: {routes}")
        state.append(f"last requests: {[(r.route, r.status) for r in list(fake.requests)[-20:]]}")
        state.append(f"open watch streams: {fake.watch.open_streams}")


async def run_with(
    block: Block,
    wiring: Wiring,
    ns: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Run ``block`` in the namespace ``ns``, then close what it left open."""
    if block.program:
        monkeypatch.setenv("CODER_URL", ns["url"])
        monkeypatch.setenv("CODER_SESSION_TOKEN", ns["token"])
        monkeypatch.setenv("CODER_TASK_TEMPLATE_VERSION", ns["template_version"])
    if "dsn" in block.code + wiring.before:
        ns["dsn"] = await fresh_database(request)
    scope = ns if block.markdown else {**PUBLIC, **ns}
    try:
        if wiring.raises:
            with pytest.raises(PUBLIC[wiring.raises]):
                await run_block(block, wiring, scope)
        else:
            await run_block(block, wiring, scope)
    finally:
        await close_leftovers(scope, {**PUBLIC, **ns})


@pytest.mark.parametrize(
    ("code", "markdown"),
    [
        (  # a Markdown snippet: a deprecated keyword
            "from coder_tasks_async import RateLimiter, map_bounded\n"
            "outcomes = await map_bounded(coder.get_task, refs, rate_limiter=RateLimiter(coder))\n"
            "assert outcomes[0].ok\n",
            True,
        ),
        ("task = await coder.get_task(ref, user='me')\n", False),  # a docstring example
        (  # a complete program, run in its own thread
            "import asyncio\n"
            "from coder_tasks_async import CoderTasksClient\n"
            "async def main():\n"
            "    async with CoderTasksClient.from_env() as coder:\n"
            "        await coder.get_task('fix-login', user='me')\n"
            "asyncio.run(main())\n",
            True,
        ),
    ],
    ids=["snippet", "docstring", "program"],
)
async def test_a_block_with_a_deprecated_spelling_fails(
    code: str, markdown: bool, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    block = Block(where="deprecated.md:1" if markdown else "docstring:deprecated", code=code,
                  markdown=markdown)  # fmt: skip
    async with namespace(None if block.program else FakeClock()) as ns:
        with pytest.raises(DeprecationWarning, match="is deprecated and will be removed"):
            await run_with(block, Wiring(), ns, monkeypatch, request)


def test_every_public_example_is_found() -> None:
    """Each example in the package's source is reached from a public name (so none
    escapes the run above), unless it documents something private, which the site
    does not show (a private module's own docstring, an internal class)."""
    reached = [b.code for b in BLOCKS if not b.markdown]
    assert len(reached) >= 40
    unreached = {
        where: code
        for where, codes in source_examples().items()
        for code in codes
        if code not in reached
    }
    for where in unreached:
        module, _, qualname = where.partition(":")
        private_module = qualname == "<module>" and "._" in module
        assert private_module or qualname.split(".")[0] not in PUBLIC, where
    assert "CoderTasksClient.follow_logs" in public_docstrings()


def test_docstring_wiring_is_used() -> None:
    """Wiring for a docstring that no longer exists (renamed, moved) would rot unseen."""
    paths = {b.where.removeprefix("docstring:") for b in BLOCKS if not b.markdown}
    assert set(DOCSTRING_WIRING) <= paths


def test_blocks_not_run_are_few() -> None:
    """Marking a block not run is a decision: this count changes with it."""
    marked = [(b.where, wiring_of(b).not_run) for b in BLOCKS if wiring_of(b).not_run]
    assert len(marked) == NOT_RUN, marked


def test_wiring_comments_are_read() -> None:
    """The comments above a block are its wiring; anything else above them is not."""
    text = (
        "<!-- --8<-- [start:x] -->\n"
        "<!-- test-before: a = 1 -->\n"
        "<!-- test-after:\n    assert a == 2\n    print(a)\n-->\n"
        "<!-- test-stop-when: a > 1 -->\n"
        "```python\na += 1\n```\n\n"
        "<!-- not-run: a signature only -->\n\n"
        "```python\ndef f(x: int) -> int: ...\n```\n"
        "<!-- test-before: not mine -->\nText between.\n\n```python\nb = 2\n```\n"
    )
    first, second, third = blocks_in(text, "page.md")
    assert first.where == "page.md:8"  # the fence's line
    assert first.wiring == Wiring(
        before="a = 1", after="assert a == 2\nprint(a)", stop_when="a > 1"
    )
    assert first.code == "a += 1\n"
    assert second.wiring == Wiring(not_run="a signature only")
    assert third.wiring == Wiring()
