"""Ports of coderd/searchquery ``TestSearchTasks`` (through ``GET /tasks?q=``, v2.28+, when
the list searches tasks) and the ``has-ai-task`` cases of ``TestSearchTemplates`` (through
``GET /api/v2/templates``), plus what the SDK builds from its arguments."""

from __future__ import annotations

import uuid

import pytest
from conformance_support import EXP, TIMINGS, Env, at

from coder_tasks_async import BadRequestError

pytestmark = pytest.mark.anyio


async def _setup(env: Env) -> tuple[str, str]:
    """Two tasks of alice (one active) and one of another user; returns (active, pending) ids."""
    first = await env.create("first")
    env.clock.advance(TIMINGS.pending + TIMINGS.initializing)
    second = await env.create("second")
    other = env.fake.add_user("zed")
    await env.create("other", token=other.token)
    return first["id"], second["id"]


async def _search(env: Env, q: str) -> tuple[int, object]:
    status, body = await env.call("GET", EXP, params={"q": q})
    if status != 200:
        return status, body
    return status, sorted(t["initial_prompt"] for t in body["tasks"])


def _validation_text(body: object) -> str:
    assert isinstance(body, dict)
    return "\n".join(f"{v['field']}: {v['detail']}" for v in body.get("validations", []))


OK_CASES = [
    ("Empty", "", ["first", "second"]),  # alice sees only her own tasks
    ("OwnerUsername", "owner:alice", ["first", "second"]),
    ("OwnerMe", "owner:me", ["first", "second"]),
    ("StatusActive", "status:active", ["first"]),
    ("StatusPending", "status:pending", None),  # "pending" from v2.31.1
    ("Organization", "organization:coder", ["first", "second"]),
    ("Combined", "owner:alice organization:coder status:active", ["first"]),
    ("QuotedOwner", 'owner:"alice"', ["first", "second"]),
    ("QuotedStatus", 'status:"pending"', None),
    ("DefaultToOwner", "alice", ["first", "second"]),
]


@pytest.mark.parametrize(("case", "q", "expected"), OK_CASES, ids=[c[0] for c in OK_CASES])
@at("v2.28")
async def test_search_tasks(env: Env, case: str, q: str, expected: list[str] | None) -> None:
    await _setup(env)
    if expected is None:  # the queued second task: pending from v2.31.1, else initializing
        expected = ["second"] if env.profile.since("v2.31.1") else []
    assert await _search(env, q) == (200, expected)


@at("v2.28")
async def test_search_tasks_owner_uuid(env: Env) -> None:
    await _setup(env)
    assert await _search(env, f"owner:{env.fake.user.id}") == (200, ["first", "second"])


@at("v2.28")
async def test_search_tasks_organization_uuid(env: Env) -> None:
    await _setup(env)
    assert await _search(env, f"organization:{env.fake.organization_id}") == (
        200,
        ["first", "second"],
    )


ERROR_CASES = [
    ("InvalidOwner", "owner:nonexistent", "does not exist"),
    ("InvalidOrganization", "organization:nonexistent", "does not exist"),
    ("ExtraParam", "owner:alice invalid:param", "is not a valid query param"),
    ("ExtraColon", "owner:alice:extra", "can only contain 1 ':'"),
    ("PrefixColon", ":owner", "cannot start or end with ':'"),
    ("SuffixColon", "owner:", "cannot start or end with ':'"),
    ("ProvidedTwice", "owner:me alice", 'Query param "owner" provided more than once'),
]


@pytest.mark.parametrize(("case", "q", "problem"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
@at("v2.28")
async def test_search_tasks_errors(env: Env, case: str, q: str, problem: str) -> None:
    status, body = await env.call("GET", EXP, params={"q": q})
    assert status == 400 and body["message"] == "Invalid task search query."
    assert problem in _validation_text(body)


@at("v2.28")
async def test_the_sdk_never_sends_a_key_twice(env: Env) -> None:
    await _setup(env)
    # A bare word is the owner: it replaces the default owner "me" instead of clashing.
    assert sorted(t.initial_prompt for t in await env.sdk.list_tasks(query="alice")) == [
        "first",
        "second",
    ]
    assert env.fake.requests[-1].query["q"] == "alice"
    with pytest.raises(ValueError, match="both name an owner"):
        await env.sdk.list_tasks(owner="zed", query="alice")
    with pytest.raises(ValueError, match="both filter by status"):
        await env.sdk.list_tasks(status="active", query="status:paused")
    with pytest.raises(ValueError, match="more than once"):
        await env.sdk.list_tasks(query="owner:alice owner:zed")
    listed = await env.sdk.list_tasks(status="active", query="organization:coder")
    assert [t.initial_prompt for t in listed] == ["first"] and listed.total == 1
    with pytest.raises(BadRequestError):  # what the SDK passes through, Coder still judges
        await env.sdk.list_tasks(query="template:x")


# -- TestSearchTemplates: has-ai-task ------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "has_ai_task", "names"),
    [
        ("HasAITaskTrue", True, ["claude-code-agent"]),
        ("HasAITaskFalse", False, ["plain-docker"]),
        ("HasAITaskMissing", None, ["claude-code-agent", "plain-docker"]),
    ],
)
@at("v2.26")
async def test_search_templates_has_ai_task(
    env: Env, case: str, has_ai_task: bool | None, names: list[str]
) -> None:
    env.fake.templates.add(
        "plain-docker",
        organization_id=env.fake.organization_id,
        organization_name=env.fake.organization_name,
        versions={"v1": uuid.uuid4()},
        active_version="v1",
        has_ai_task=False,
    )
    found = await env.sdk.list_templates(has_ai_task=has_ai_task)
    assert [t.name for t in found] == names
    if has_ai_task is not None:
        query = env.fake.requests[-1].query["q"]
        assert query == f"has-ai-task:{str(has_ai_task).lower()}"
