"""Logging a service can use: one logger per layer, the event's fields as ``extra``, and
the session token in no record, at DEBUG with every layer on, over a run that meets
retries, errors, watch streams, follows, fan-outs and stores.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import anyio
import pytest
from aiohttp import web
from helpers import FAST, serve_app

from coder_tasks_async import (
    CoderTasksClient,
    CoderTransportError,
    LogEventKind,
    NotFoundError,
    RetryPolicy,
    SQLiteCursorStore,
)
from coder_tasks_async._wire.loggers import FIELDS, LOGGERS
from coder_tasks_async.testing import FakeClock, FakeCoder, Fault

pytestmark = pytest.mark.anyio

#: What every record has; the rest of its attributes are the event's fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def fields(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _STANDARD}


def leaks(records: list[logging.LogRecord], token: str) -> list[str]:
    """Where the token (or its secret half) shows: message, arguments, fields, exception."""
    secret = token.partition("-")[2] or token
    found = []
    formatter = logging.Formatter()
    for record in records:
        texts = [record.getMessage(), str(record.msg), repr(record.args)]
        texts += [repr(value) for value in fields(record).values()]
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
        texts.append(formatter.format(record))
        found += [f"{record.name}: {t}" for t in texts if token in t or secret in t]
    return found


async def test_every_layer_logs_its_events_with_fields_and_never_the_token(
    fake_coder: FakeCoder,
    fake_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    fake = fake_coder
    caplog.set_level(logging.DEBUG, logger="coder_tasks_async")
    async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as coder:
        task = await coder.create_task("x", template_version_id=fake.template_version_id)
        # Retries and errors.
        fake.faults.add(Fault(route="get", kind="status", times=1))
        await coder.get_task(task.id)
        fake.faults.add(Fault(route="get", kind="reset", times=1))
        with pytest.raises(CoderTransportError):
            await coder.get_task(task.id, retry=RetryPolicy.none())
        with pytest.raises(NotFoundError):
            await coder.get_task(uuid.uuid4())
        # A create whose response was lost, reconciled by name.
        fake.faults.add(Fault(route="create", kind="lost_response", times=1))
        await coder.create_task(
            "y", template_version_id=fake.template_version_id, name="reconciled"
        )
        # Fan-outs, one of them rate-limited.
        await coder.get_many([task, uuid.uuid4()])
        fake.faults.add(Fault(route="get", kind="rate_limit", retry_after=25, times=3))
        await coder.get_many([task], rate_limit=True)
        # A durable follow (watch streams on, the default) through a pause and a resume.
        store = SQLiteCursorStore(tmp_path / "cursors.sqlite3")
        with anyio.fail_after(60):  # a safety net against a hang, not a timing assertion
            async with coder.follow_logs(task, settled=True, poll=FAST, store=store) as follower:
                async for event in follower:
                    if event.kind is LogEventKind.NEW and event.entry and event.entry.id == 2:
                        await coder.pause_task(task)
                    elif event.kind is LogEventKind.PAUSED:
                        await coder.resume_task(task)
                    elif event.kind is LogEventKind.RESET:
                        break
            # A fleet of one worker claims the tasks through leases.
            async with coder.follow_fleet(store, worker="w1", poll=FAST) as fleet:
                await anext(fleet)
        await store.aclose()

    records = [r for r in caplog.records if r.name.startswith("coder_tasks_async")]
    assert not leaks(records, fake.token)
    by_logger = {name: [r for r in records if r.name == name] for name in LOGGERS}
    quiet = [name for name, said in by_logger.items() if not said and not name.endswith(".cli")]
    assert not quiet, quiet
    assert {r.name for r in records} <= set(LOGGERS)
    for record in records:
        assert set(fields(record)) <= set(FIELDS), (record.name, record.getMessage())

    attempts = [r for r in by_logger["coder_tasks_async.http"] if "attempt=" in r.getMessage()]
    retried = [r for r in attempts if fields(r)["attempt"] == 2]
    assert retried and fields(retried[0])["route"] == "/api/v2/tasks/{user}/{task}"
    assert fields(retried[0])["task_id"] == str(task.id)
    assert fields(retried[0])["status"] == 200 and fields(retried[0])["method"] == "GET"
    elapsed = fields(retried[0])["elapsed"]
    assert isinstance(elapsed, float) and elapsed >= 0
    failed = [r for r in attempts if fields(r)["status"] is None]
    assert failed and fields(failed[0])["error"]
    said = "\n".join(r.getMessage() for r in records)
    for expected in (
        "runs Coder",  # endpoints: the release learnt
        "tasks API at /api/v2/tasks",  # endpoints: the route tree
        "may have landed",  # endpoints: create's reconcile
        "retrying GET /api/v2/tasks/{user}/{task}",  # http: the wait before a retry
        "watch stream",  # http: a stream opened
        "paused",  # polling
        "reset (a new conversation)",  # polling
        "follow_logs task: ended (closed)",  # polling
        "get_many: done, 1 of 2 failed",  # fanout
        "rate limit reached",  # fanout
        "schema ready",  # stores
        "w1 holds",  # stores: a claim
    ):
        assert expected in said, expected
    resets = [r for r in records if "reset (a new conversation)" in r.getMessage()]
    assert resets[0].levelno == logging.INFO and fields(resets[0])["task_id"] == str(task.id)


async def test_a_redirect_that_echoes_the_token_leaves_it_out_of_the_error_and_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = "abcdefghij-" + "t" * 22

    async def echo(request: web.Request) -> web.Response:
        # A broken server redirects to the same path with the token in the query, forever.
        raise web.HTTPFound(f"{request.path}?coder_session_token={token}")

    app = web.Application()
    app.router.add_get("/api/v2/tasks", echo)
    caplog.set_level(logging.DEBUG, logger="coder_tasks_async")
    async with serve_app(app) as port:
        async with CoderTasksClient(f"http://127.0.0.1:{port}", token=token, api="v2") as coder:
            with pytest.raises(CoderTransportError) as info:
                await coder.list_tasks(retry=RetryPolicy.none())
    assert "redirects" in str(info.value)
    assert token not in str(info.value) and token not in (info.value.url or "")
    assert token.partition("-")[2] not in repr(info.value)
    assert not leaks(caplog.records, token)


def test_the_readme_lists_every_logger_and_field() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("<!-- --8<-- [start:observability] -->") :]
    section = section[: section.index("<!-- --8<-- [end:observability] -->")]
    for name, what in LOGGERS.items():
        assert f"| `{name}` | {what} |" in section, name
    for field in FIELDS:
        assert f"`{field}`" in section, field
