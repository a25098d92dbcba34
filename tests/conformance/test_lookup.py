"""Ports of how Coder finds ``{user}`` and ``{task}``: coderd/httpmw ``TestTaskParam`` and
``TestUserParam`` (through the task routes), and codersdk ``Test_splitTaskIdentifier``
(through the SDK's references)."""

from __future__ import annotations

import uuid

import pytest
from conformance_support import EXP, NOT_FOUND, Env, at

from coder_tasks_async import NotFoundError

pytestmark = pytest.mark.anyio


# -- TestTaskParam ---------------------------------------------------------------------


@at("v2.28")
async def test_task_param_not_found(env: Env) -> None:
    assert await env.call("GET", f"{EXP}/{env.fake.user.id}/{uuid.uuid4()}") == (
        404,
        {"message": NOT_FOUND},
    )


@at("v2.28")
async def test_task_param_found(env: Env) -> None:
    task = await env.create()
    status, body = await env.call("GET", f"{EXP}/{env.fake.user.id}/{task['id']}")
    assert (status, body["id"]) == (200, task["id"])


@at("v2.29")
async def test_task_param_found_by_task_name(env: Env) -> None:
    task = await env.create(name="found-by-name")
    status, body = await env.call("GET", f"{EXP}/{env.fake.user.id}/found-by-name")
    assert (status, body["id"]) == (200, task["id"])


@at("v2.29")
async def test_task_param_case_insensitive_task_name(env: Env) -> None:
    task = await env.create(name="found-by-name")
    status, body = await env.call("GET", f"{EXP}/me/FOUND-BY-NAME")
    assert (status, body["id"]) == (200, task["id"])


@at("v2.29")
async def test_task_param_uuid_takes_precedence(env: Env) -> None:
    first = await env.create(name="found-by-uuid")
    as_hex = uuid.UUID(first["id"]).hex  # a valid task name that is also a UUID
    await env.create(name=as_hex)
    status, body = await env.call("GET", f"{EXP}/me/{as_hex}")
    assert (status, body["id"]) == (200, first["id"])


@at("v2.29")
async def test_task_param_a_uuid_that_is_no_id_falls_back_to_the_name(env: Env) -> None:
    name = uuid.uuid4().hex  # 32 hex digits: Go's uuid.Parse takes it
    task = await env.create(name=name)
    status, body = await env.call("GET", f"{EXP}/me/{name}")
    assert (status, body["id"]) == (200, task["id"])
    assert (await env.sdk.get_task(name)).id == uuid.UUID(task["id"])


@at("v2.26", "v2.29")
async def test_task_param_a_name_is_an_invalid_uuid_before_v2_29(env: Env) -> None:
    await env.create(name="by-name")
    assert await env.call("GET", f"{EXP}/me/by-name") == (
        400,
        {"message": 'Invalid UUID "by-name".', "detail": "invalid UUID length: 7"},
    )


@at("v2.29")
async def test_task_param_not_found_when_no_match(env: Env) -> None:
    await env.create(name="some-task")
    assert (await env.call("GET", f"{EXP}/me/nonexistent-name"))[0] == 404


@at("v2.29")
async def test_task_param_workspace_without_task(env: Env) -> None:
    task = await env.create()
    # A workspace's id names no task (nor does any name the fake never gave a task).
    assert (await env.call("GET", f"{EXP}/me/{task['workspace_id']}"))[0] == 404


# -- TestUserParam (the {user} of the task routes) ---------------------------------------


@at("v2.26")
async def test_user_param_not_me(env: Env) -> None:
    status, body = await env.call("GET", f"{EXP}/ben/{uuid.uuid4()}")
    if env.profile.since("v2.31.1"):
        assert (status, body) == (404, {"message": NOT_FOUND})
    else:
        assert (status, body) == (
            400,
            {
                "message": '"user" must be an existing uuid or username.',
                "detail": 'queried user="ben"',
            },
        )


@at("v2.31.1")
async def test_user_param_not_found_by_username(env: Env) -> None:
    status, _ = await env.call("GET", f"{EXP}/nonexistent-user/{uuid.uuid4()}")
    assert status == 404


@at("v2.26")
async def test_user_param_not_found_by_uuid(env: Env) -> None:
    user = "88888888-4444-4444-4444-121212121212"
    status, body = await env.call("POST", f"{EXP}/{user}", {"input": "x"})
    if env.profile.since("v2.31.1"):
        assert status == 404
    else:
        assert (status, body["detail"]) == (400, f'queried user="{user}"')


@at("v2.26")
async def test_user_param_me(env: Env) -> None:
    task = await env.create()
    assert (await env.call("GET", f"{EXP}/me/{task['id']}"))[0] == 200


# -- codersdk Test_splitTaskIdentifier (what the SDK accepts as a task reference) ----------


@at("v2.28")
async def test_split_task_identifier_bare_task_name(env: Env) -> None:
    task = await env.create(name="mytask")
    assert str((await env.sdk.get_task("mytask")).id) == task["id"]


@at("v2.28")
async def test_split_task_identifier_owner_task_format(env: Env) -> None:
    bob = env.fake.add_user("alice-owner", owner=True)
    task = await env.create(name="her-task")
    from coder_tasks_async import CoderTasksClient

    async with CoderTasksClient(env.fake.url, token=bob.token, clock=env.clock) as admin:
        assert str((await admin.get_task("alice/her-task")).id) == task["id"]


@at("v2.28")
async def test_split_task_identifier_uuid_task_format(env: Env) -> None:
    task = await env.create(name="task1")
    ref = f"{env.fake.user.id}/task1"
    assert str((await env.sdk.get_task(ref)).id) == task["id"]


@at("v2.28")
async def test_split_task_identifier_owner_uuid_format(env: Env) -> None:
    task = await env.create()
    assert str((await env.sdk.get_task(f"alice/{task['id']}")).id) == task["id"]
    # An id is looked up by id: the owner segment is not checked against it.
    path = env.fake.requests[-1].path
    assert path.endswith(f"/alice/{task['id']}")


@at("v2.28")
async def test_split_task_identifier_too_many_slashes(env: Env) -> None:
    with pytest.raises(ValueError, match="more than one '/'"):
        await env.sdk.get_task("owner/task/extra")


@at("v2.28")
async def test_split_task_identifier_empty_parts_acceptable(env: Env) -> None:
    task = await env.create(name="task")
    assert str((await env.sdk.get_task("/task")).id) == task["id"]
    with pytest.raises(NotFoundError):
        await env.sdk.get_task("/no-such-task")
