"""The client against FakeCoder over loopback HTTP: every endpoint, its errors, and hygiene."""

from __future__ import annotations

import logging
import uuid

import aiohttp
import pytest

from coder_tasks_async import (
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    CoderTasksClient,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RouteNotFoundError,
    ServerError,
    TaskLogType,
    TaskState,
    TaskStatus,
)
from coder_tasks_async.testing import FakeClock, FakeCoder

# The seed contract's release: the experimental tree, a 502 for a busy agent, 400s for
# tasks that are not active.
pytestmark = [pytest.mark.anyio, pytest.mark.coder_profile("v2.28")]


async def test_create_get_list_delete_round_trip(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await coder.create_task(
        "Add a --dry-run flag", template_version_id=fake_coder.template_version_id, name="dry-run"
    )
    # Before v2.31.1 a start job still queued shows as "initializing" (coderd's view).
    assert task.status is TaskStatus.INITIALIZING
    assert task.workspace_build_number == 1  # the 201 links the task to its first build
    assert task.name == "dry-run"
    assert task.initial_prompt == "Add a --dry-run flag"
    assert task.workspace_agent_id is None
    assert task.current_state is None
    assert coder.api == "experimental"  # a server before v2.29 has no /api/v2 tree
    assert coder.server_version == "v2.28.0"

    for ref in (task, task.id, str(task.id), "dry-run", "alice/dry-run", "Alice/DRY-RUN"):
        assert (await coder.get_task(ref)).id == task.id

    listed = await coder.list_tasks()
    assert [t.id for t in listed] == [task.id]
    assert await coder.list_tasks(status="active") == []

    with pytest.raises(ConflictError):  # no delete while the start build runs...
        await coder.delete_task("dry-run", wait_build=0)
    await coder.delete_task("dry-run")  # ...so by default the client waits for it to end
    with pytest.raises(NotFoundError) as info:
        await coder.get_task(task.id)
    assert info.value.message == "Resource not found or you do not have access to this resource"
    assert await coder.list_tasks() == []


async def test_lifecycle_reaches_active_with_a_conversation(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await coder.create_task(
        "Fix the bug", template_version_id=fake_coder.template_version_id
    )
    assert task.name.startswith("task-")
    fake_clock.advance(1.5)
    assert (await coder.get_task(task)).status is TaskStatus.INITIALIZING
    fake_clock.advance(2.0)
    active = await coder.get_task(task)
    assert active.status is TaskStatus.ACTIVE
    assert active.state is TaskState.WORKING
    logs = await coder.get_logs(task)
    assert [e.type for e in logs.logs] == [
        TaskLogType.OUTPUT,
        TaskLogType.INPUT,
        TaskLogType.OUTPUT,
    ]
    assert logs.logs[1].content == "Fix the bug"
    first = logs.logs[2].content
    fake_clock.advance(1.0)
    grown = (await coder.get_logs(task)).logs[2].content
    assert grown != first
    assert len(grown) > len(first)  # the agent's reply grows in place, same id
    fake_clock.advance(10)
    idle = await coder.get_task(task)
    assert idle.state is TaskState.IDLE
    await coder.send_input(task, "Also update the docs")
    logs = await coder.get_logs(task)
    assert logs.logs[3].content == "Also update the docs"
    assert len(fake_coder.deliveries) == 1


async def test_send_refused_while_pending_and_while_busy(
    fake_coder: FakeCoder, fake_clock: FakeClock, coder: CoderTasksClient
) -> None:
    task = await coder.create_task("Work", template_version_id=fake_coder.template_version_id)
    with pytest.raises(BadRequestError) as info:
        await coder.send_input(task, "hello")
    assert info.value.message == "Task status must be active."
    assert 'Task status is "initializing"' in info.value.detail  # a queued start job
    with pytest.raises(BadRequestError):
        await coder.get_logs(task)
    fake_clock.advance(3.5)  # active, agent working
    with pytest.raises(ServerError) as busy:
        await coder.send_input(task, "hello")
    assert busy.value.status == 502
    assert busy.value.message == "Task app is not ready to accept input."
    assert fake_coder.deliveries == []  # refusals deliver nothing and are not retried
    sends = [r for r in fake_coder.requests if r.route == "send"]
    assert len(sends) == 2


async def test_create_errors(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    tv = fake_coder.template_version_id
    await coder.create_task("one", template_version_id=tv, name="taken")
    with pytest.raises(ConflictError) as clash:
        await coder.create_task("two", template_version_id=tv, name="TAKEN")
    assert clash.value.message == 'Workspace "TAKEN" already exists.'
    assert clash.value.validations[0].field == "name"
    with pytest.raises(BadRequestError) as no_ai:
        await coder.create_task("x", template_version_id=fake_coder.template_version_id_no_ai)
    assert no_ai.value.message == 'Template does not have a valid "coder_ai_task" resource.'
    with pytest.raises(BadRequestError, match="Template version not found"):
        await coder.create_task("x", template_version_id=uuid.uuid4())
    assert len(fake_coder.created) == 1


async def test_create_with_preset(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    task = await coder.create_task(
        "x",
        template_version_id=str(fake_coder.template_version_id),
        template_version_preset_id=fake_coder.preset_id,
    )
    assert task.template_version_id == fake_coder.template_version_id


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"input": "  "}, "input"),
        ({"name": "bad_name"}, "invalid task name"),
        ({"name": "new"}, "invalid task name"),
        ({"template_version_id": "nope"}, "template_version_id must be a UUID"),
        ({"template_version_preset_id": "nope"}, "template_version_preset_id must be a UUID"),
        ({"display_name": "x" * 65}, "display_name"),
    ],
)
async def test_bad_create_arguments_send_nothing(
    fake_coder: FakeCoder, coder: CoderTasksClient, kwargs: dict[str, object], match: str
) -> None:
    args: dict[str, object] = {"input": "ok", "template_version_id": fake_coder.template_version_id}
    args.update(kwargs)
    before = len(fake_coder.requests)
    with pytest.raises(ValueError, match=match):
        await coder.create_task(**args)  # type: ignore[arg-type]
    assert len(fake_coder.requests) == before


async def test_list_query_validation_errors_come_back_typed(coder: CoderTasksClient) -> None:
    with pytest.raises(BadRequestError) as info:
        await coder.list_tasks(owner="nobody", query="template:x")
    assert info.value.message == "Invalid task search query."
    fields = {v.field for v in info.value.validations}
    assert fields == {"owner", "template"}
    with pytest.raises(ValueError, match="unknown task status"):
        await coder.list_tasks(status="running")


async def test_path_values_stay_one_segment(fake_coder: FakeCoder, coder: CoderTasksClient) -> None:
    # Names and users that could change the route are refused before any request
    # (test_hostile_input.py has the full list); an unknown but valid owner reaches
    # the server as one segment.
    with pytest.raises(ValueError, match="invalid owner"):
        await coder.get_task("x", owner="a b?c#d")
    with pytest.raises(ValueError, match="invalid task name"):
        await coder.get_task("..")
    with pytest.raises(ValueError, match="task reference"):
        await coder.get_task("a/b/c")
    assert not fake_coder.requests
    with pytest.raises(BadRequestError) as info:
        await coder.get_task("x", owner="nobody")
    assert info.value.message == '"user" must be an existing uuid or username.'
    recorded = fake_coder.requests[-1]
    assert recorded.path.endswith("/tasks/nobody/x")
    assert recorded.query == {}


async def test_other_users_tasks(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    bob = fake_coder.add_user("bob")
    admin = fake_coder.add_user("root", owner=True)
    tv = fake_coder.template_version_id
    async with (
        CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as alice_c,
        CoderTasksClient(fake_coder.url, token=bob.token, clock=fake_clock) as bob_c,
        CoderTasksClient(fake_coder.url, token=admin.token, clock=fake_clock) as admin_c,
    ):
        mine = await alice_c.create_task("a", template_version_id=tv, name="mine")
        with pytest.raises(NotFoundError):
            await bob_c.get_task("alice/mine")
        with pytest.raises(PermissionDeniedError):
            await bob_c.create_task("b", template_version_id=tv, owner="alice")
        assert (await admin_c.get_task("alice/mine")).id == mine.id
        theirs = await admin_c.create_task("c", template_version_id=tv, owner="bob")
        assert theirs.owner_name == "bob"
        assert {t.owner_name for t in await admin_c.list_tasks(owner=None)} == {"alice", "bob"}
        assert [t.name for t in await bob_c.list_tasks()] == [theirs.name]


async def test_bad_token_is_an_authentication_error_without_the_token(
    fake_coder: FakeCoder,
) -> None:
    secret = "AbCdEfGhIj-notarealsecretvalue000000"
    async with CoderTasksClient(fake_coder.url, token=secret) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.list_tasks()
        assert "Try logging in using 'coder login'." in str(info.value)
        for text in (str(info.value), repr(info.value), repr(client), info.value.body):
            assert secret not in text
        assert all(secret not in v for v in info.value.headers.values())


async def test_token_never_logged(
    fake_coder: FakeCoder, caplog: pytest.LogCaptureFixture, coder: CoderTasksClient
) -> None:
    with caplog.at_level(logging.DEBUG, logger="coder_tasks_async"):
        await coder.list_tasks()
        with pytest.raises(NotFoundError):
            await coder.get_task("missing")
    assert any("GET /api/" in r.getMessage() for r in caplog.records)
    assert all(fake_coder.token not in r.getMessage() for r in caplog.records)


async def test_explicit_trees(fake_clock: FakeClock) -> None:
    async with FakeCoder(clock=fake_clock, server_version="v2.29.0") as fake:
        async with CoderTasksClient(fake.url, token=fake.token, clock=fake_clock) as auto:
            await auto.list_tasks()
            assert auto.api == "v2"
        for api in ("experimental", "v2"):
            async with CoderTasksClient(fake.url, token=fake.token, api=api) as client:  # type: ignore[arg-type]
                task = await client.create_task(
                    "x", template_version_id=fake.template_version_id, display_name="Nice name"
                )
                assert task.display_name == "Nice name"
                assert fake.requests[-1].path.startswith(f"/api/{api}/tasks")
    async with FakeCoder(clock=fake_clock, server_version="v2.28") as seed:
        async with CoderTasksClient(seed.url, token=seed.token, api="v2") as client:
            with pytest.raises(RouteNotFoundError):
                await client.list_tasks()
        assert all("/api/v2/api/" not in r.path for r in seed.requests)


async def test_caller_owned_session_is_left_open(fake_coder: FakeCoder) -> None:
    async with aiohttp.ClientSession() as session:
        async with CoderTasksClient(fake_coder.url, token=fake_coder.token, session=session) as c:
            await c.list_tasks()
        assert not session.closed
        assert c.closed
        with pytest.raises(ClientClosedError):
            await c.list_tasks()


async def test_closed_client_is_a_clear_error(fake_coder: FakeCoder) -> None:
    client = CoderTasksClient(fake_coder.url, token=fake_coder.token)
    await client.list_tasks()
    await client.aclose()
    await client.aclose()  # idempotent
    with pytest.raises(ClientClosedError, match="closed"):
        await client.get_task("x")


async def test_send_input_validation_sends_nothing(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    with pytest.raises(ValueError, match="input"):
        await coder.send_input("x", " \n")
    assert fake_coder.requests == type(fake_coder.requests)()
