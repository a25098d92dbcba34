"""The fake Coder server speaks the contract: raw aiohttp over loopback, no SDK involved.

The ``fake`` fixture imitates v2.28, the release the seed contract and its fixtures
(tests/fixtures/v2.28) describe.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anyio
import pytest
from helpers import TESTS

from coder_tasks_async.testing import FakeClock, FakeCoder, Fault, Timings

pytestmark = pytest.mark.anyio

EXP = "/api/experimental/tasks"
V2 = "/api/v2/tasks"
FIXTURES = TESTS / "fixtures" / "v2.28"
SIGNED_OUT = "You are signed out or your session has expired. Please sign in again to continue."
NOT_FOUND = "Resource not found or you do not have access to this resource"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def fake(clock: FakeClock) -> AsyncIterator[FakeCoder]:
    async with FakeCoder(clock=clock, server_version="v2.28") as f:
        yield f


@pytest.fixture
async def http(fake: FakeCoder) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        fake.url, headers={"Coder-Session-Token": fake.token}
    ) as session:
        yield session


async def call(
    s: aiohttp.ClientSession, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, Any, aiohttp.ClientResponse]:
    """Request and decode JSON (``None`` for an empty body)."""
    if body is not None:
        kw["json"] = body
    async with s.request(method, path, **kw) as r:
        raw = await r.read()
        return r.status, (json.loads(raw) if raw else None), r


async def create(s: aiohttp.ClientSession, fake: FakeCoder, user: str = "me", **body: Any) -> Any:
    body.setdefault("template_version_id", str(fake.template_version_id))
    body.setdefault("input", "Fix the flaky test")
    status, data, _ = await call(s, "POST", f"{EXP}/{user}", body)
    assert status == 201, data
    return data


# -- plugin, clock -------------------------------------------------------------


async def test_plugin_fixtures(fake_coder: FakeCoder, fake_clock: FakeClock) -> None:
    assert fake_coder.clock is fake_clock
    assert fake_coder.url.startswith("http://127.0.0.1:")
    assert not fake_coder.url.endswith("/")


async def test_fake_clock_autojump_and_manual() -> None:
    auto = FakeClock(start=5.0)
    await auto.sleep(10)
    assert auto.now() == 15.0
    assert auto.wall().isoformat() == "2025-10-27T14:00:15+00:00"

    manual = FakeClock(autojump=False)
    done = anyio.Event()

    async def sleeper() -> None:
        await manual.sleep(2.0)
        done.set()

    async with anyio.create_task_group() as tg:
        tg.start_soon(sleeper)
        await anyio.wait_all_tasks_blocked()
        manual.advance(1.0)
        await anyio.wait_all_tasks_blocked()
        assert not done.is_set()
        manual.advance(1.5)
        await done.wait()
    manual.set(100.0)
    assert manual.now() == 100.0


# -- auth, headers, JSON writing --------------------------------------------


async def test_auth_failures_and_token_sources(fake: FakeCoder) -> None:
    async with aiohttp.ClientSession(fake.url) as s:
        st, body, _ = await call(s, "GET", EXP)
        assert st == 401
        assert body == {
            "message": SIGNED_OUT,
            "detail": 'Cookie "coder_session_token" or query parameter must be provided.',
        }
        st, body, _ = await call(s, "GET", EXP, headers={"Coder-Session-Token": "nope"})
        assert (st, body["detail"]) == (
            401,
            "Invalid API key format: incorrect amount of API key parts, expected 2 got 1",
        )
        st, body, _ = await call(
            s, "GET", EXP, headers={"Coder-Session-Token": "abcdefghij-" + "x" * 22}
        )
        assert (st, body["detail"]) == (401, "API key is invalid.")
        key_id = fake.token.split("-")[0]
        st, body, _ = await call(
            s, "GET", EXP, headers={"Coder-Session-Token": f"{key_id}-{'y' * 22}"}
        )
        assert (st, body["detail"]) == (401, "API key secret is invalid.")
        st, _, _ = await call(s, "GET", EXP, params={"coder_session_token": fake.token})
        assert st == 200
        st, _, _ = await call(s, "GET", EXP, cookies={"coder_session_token": fake.token})
        assert st == 200


async def test_json_writing_rules(
    fake: FakeCoder, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    async with http.post(
        f"{EXP}/me",
        json={"template_version_id": str(fake.template_version_id), "input": "a <b> & c"},
    ) as r:
        raw = await r.read()
        assert r.status == 201
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert r.headers["X-Coder-Build-Version"] == "v2.28.0"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert raw.endswith(b"}\n")
    assert b"a \\u003cb\\u003e \\u0026 c" in raw
    task = json.loads(raw)
    minimal = list(json.loads((FIXTURES / "task_minimal.json").read_text()))
    # The seed fixture predates reading Coder's source: coderd links the task to its
    # first build when it queues it, so the 201 already says workspace_build_number 1,
    # and before v2.31.1 a queued start job shows as "initializing".
    minimal.insert(minimal.index("workspace_status") + 1, "workspace_build_number")
    assert list(task) == minimal  # same fields, same order, omitempty absent
    assert task["status"] == "initializing" and task["current_state"] is None
    assert task["workspace_agent_id"] is None and task["workspace_build_number"] == 1
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z", task["created_at"])
    clock.advance(2.0)  # past the start job: a delete during it is refused
    async with http.delete(f"{EXP}/me/{task['id']}") as r:
        assert r.status == 202 and await r.read() == b""
        assert r.headers["X-Coder-Build-Version"] == "v2.28.0"


async def test_active_task_shape_matches_fixture(fake: FakeCoder, clock: FakeClock) -> None:
    carol = fake.add_user("carol", avatar_url="https://example.com/c.png")
    async with aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": carol.token}) as s:
        task = await create(s, fake)
        clock.advance(3.0)
        st, got, _ = await call(s, "GET", f"{EXP}/me/{task['id']}")
    full = json.loads((FIXTURES / "task.json").read_text())
    assert st == 200 and list(got) == list(full)
    assert got["status"] == "active" and got["workspace_build_number"] == 1
    assert got["workspace_agent_health"] == {"healthy": True}
    assert list(got["current_state"]) == ["timestamp", "state", "message", "uri"]


# -- routes ----------------------------------------------------------------


async def test_route_not_found(http: aiohttp.ClientSession) -> None:
    for path in ("/api/v2/api/experimental/tasks", V2, f"{EXP}/me/x/y/z", f"{EXP}/me/x/input"):
        st, body, r = await call(http, "GET", path)
        assert (st, body) == (404, {"message": "Route not found."}), path
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"


async def test_stable_tree_from_2_29() -> None:
    async with (
        FakeCoder(clock=FakeClock(), server_version="v2.29.0") as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        st, body, _ = await call(s, "GET", V2)
        assert (st, body) == (200, {"tasks": [], "count": 0})
        st, _, _ = await call(s, "GET", EXP)
        assert st == 200
        st, _, _ = await call(s, "GET", "/api/v2/api/experimental/tasks")
        assert st == 404


# -- create ----------------------------------------------------------------


async def test_create_generated_names_and_empty_input(
    fake: FakeCoder, http: aiohttp.ClientSession
) -> None:
    task = await create(http, fake, input="")
    assert re.fullmatch(r"task-[a-z]+-[a-z]+-[0-9a-f]{4}", task["name"])
    assert "display_name" not in task
    assert task["workspace_name"] == task["name"]
    assert fake.created == [fake.task(task["name"]).id]


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("has_underscore", "must be alphanumeric with hyphens"),
        ("-lead", "must be alphanumeric with hyphens"),
        ("a--b", "must be alphanumeric with hyphens"),
        ("x" * 33, "must be <= 32 characters"),
        ("new", 'cannot use "new" as a name'),
        ("create", 'cannot use "create" as a name'),
    ],
)
async def test_create_name_rules(
    fake: FakeCoder, http: aiohttp.ClientSession, name: str, detail: str
) -> None:
    body = {"template_version_id": str(fake.template_version_id), "input": "x", "name": name}
    st, data, _ = await call(http, "POST", f"{EXP}/me", body)
    assert (st, data) == (
        400,
        {"message": "Unable to create a Task with the provided name.", "detail": detail},
    )


async def test_create_errors(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    await create(http, fake, name="my-task")
    tv = str(fake.template_version_id)
    st, data, _ = await call(
        http, "POST", f"{EXP}/me", {"template_version_id": tv, "name": "MY-TASK"}
    )
    assert st == 409
    assert data == {
        "message": 'Workspace "MY-TASK" already exists.',
        "validations": [
            {"field": "name", "detail": "This value is already in use and should be unique."}
        ],
    }
    st, data, _ = await call(http, "POST", f"{EXP}/me", data=b"{nope")
    assert (st, data["message"]) == (400, "Request body must be valid JSON.")
    st, data, _ = await call(http, "POST", f"{EXP}/me", {"template_version_id": tv, "input": 5})
    assert data["detail"] == (
        "json: cannot unmarshal number into Go struct field CreateTaskRequest.input of type string"
    )
    st, data, _ = await call(http, "POST", f"{EXP}/me", {"input": "x"})
    assert (st, data["message"]) == (
        400,
        "Template version not found or you do not have access to this resource",
    )
    body = {"template_version_id": str(fake.template_version_id_no_ai)}
    st, data, _ = await call(http, "POST", f"{EXP}/me", body)
    assert data["message"] == 'Template does not have a valid "coder_ai_task" resource.'
    st, data, _ = await call(http, "POST", f"{EXP}/ghost", {"template_version_id": tv})
    assert (st, data) == (
        400,
        {
            "message": '"user" must be an existing uuid or username.',
            "detail": 'queried user="ghost"',  # v2.28; a 404 from v2.31.1
        },
    )
    body = {"template_version_id": tv, "template_version_preset_id": str(fake.preset_id)}
    st, _, _ = await call(http, "POST", f"{EXP}/me", body)
    assert st == 201


async def test_rbac(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    bob = fake.add_user("bob")
    boss = fake.add_user("boss", owner=True)
    mine = await create(http, fake, name="mine")
    tv = str(fake.template_version_id)
    st, data, _ = await call(http, "POST", f"{EXP}/bob", {"template_version_id": tv})
    assert (st, data["message"]) == (403, "Unauthorized to create workspace.")
    assert data["detail"].startswith("You are unable to create a workspace in this organization.")
    async with aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": bob.token}) as b:
        assert (await call(b, "GET", f"{EXP}/alice/{mine['id']}"))[0] == 404
        assert (await call(b, "GET", f"{EXP}/alice/{mine['id']}"))[1] == {"message": NOT_FOUND}
        assert (await call(b, "GET", EXP))[1] == {"tasks": [], "count": 0}
    async with aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": boss.token}) as o:
        assert (await call(o, "GET", f"{EXP}/ALICE/{mine['id']}"))[0] == 200
        assert (await call(o, "GET", f"{EXP}/me/{mine['id']}"))[0] == 200  # id: user not checked
        st, data, _ = await call(o, "POST", f"{EXP}/{bob.id}", {"template_version_id": tv})
        assert st == 201 and data["owner_name"] == "bob"
        assert (await call(o, "GET", EXP))[1]["count"] == 2


# -- list / q ----------------------------------------------------------------


async def test_list_order_and_filters(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    boss = fake.add_user("boss", owner=True)
    first = await create(http, fake, name="first")
    second = await create(http, fake, name="second")
    st, data, _ = await call(http, "GET", EXP, params={"q": ""})
    assert [t["name"] for t in data["tasks"]] == ["second", "first"] and data["count"] == 2
    async with aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": boss.token}) as o:
        await create(o, fake, name="boss-task")
        for q, n in [
            ("owner:alice", 2),
            ("ALICE", 2),
            ('owner:"alice"', 2),
            ("owner:me", 1),
            (f"owner:{fake.user.id}", 2),
            ("owner:00000000-0000-0000-0000-000000000001", 0),
            # Before v2.31.1 a queued start job shows as initializing, never pending.
            ("organization:coder status:initializing", 3),
            ("organization:coder status:pending", 0),
            (f"organization:{fake.organization_id} status:ACTIVE", 0),
        ]:
            st, data, _ = await call(o, "GET", EXP, params={"q": q})
            assert (st, data["count"]) == (200, n), q
        st, data, _ = await call(o, "GET", EXP, params={"q": "owner:boss owner:alice"})
        assert (st, data["validations"]) == (
            400,
            [
                {
                    "field": "owner",
                    "detail": 'Query param "owner" provided more than once, found 2 times. '
                    "Only provide 1 instance of this query param.",
                }
            ],
        )
    assert first["id"] != second["id"]


@pytest.mark.parametrize(
    ("q", "validations"),
    [
        (
            "owner:nobody template:x",
            [
                {
                    "field": "owner",
                    "detail": 'Query param "owner" has invalid value: user "nobody" either does '
                    "not exist, or you are unauthorized to view them",
                },
                {"field": "template", "detail": '"template" is not a valid query param'},
            ],
        ),
        (
            "organization:acme",
            [
                {
                    "field": "organization",
                    "detail": 'Query param "organization" has invalid value: organization "acme" '
                    "either does not exist, or you are unauthorized to view it",
                }
            ],
        ),
        (
            ":owner",
            [{"field": "q", "detail": "Query element \":owner\" cannot start or end with ':'"}],
        ),
        (
            "owner:",
            [{"field": "q", "detail": "Query element \"owner:\" cannot start or end with ':'"}],
        ),
        ("a:b:c", [{"field": "q", "detail": "Query element \"a:b:c\" can only contain 1 ':'"}]),
        ("alice bob", None),
    ],
)
async def test_list_query_errors(
    http: aiohttp.ClientSession, q: str, validations: list[dict[str, str]] | None
) -> None:
    st, data, _ = await call(http, "GET", EXP, params={"q": q})
    if validations is None:  # bare words join into one owner value
        assert st == 400 and 'user \\"alice bob\\"' in json.dumps(data)
        return
    assert (st, data) == (
        400,
        {"message": "Invalid task search query.", "validations": validations},
    )


async def test_list_bad_status_is_500(http: aiohttp.ClientSession) -> None:
    st, data, _ = await call(http, "GET", EXP, params={"q": "status:bogus"})
    assert st == 500 and data["message"] == "Internal error fetching tasks."
    assert "task_status" in data["detail"]
    assert (await call(http, "GET", EXP, params={"q": 'owner:"a:b"'}))[0] == 400  # owner lookup


# -- lifecycle, logs, send -----------------------------------------------------


async def test_lifecycle_and_growing_reply(
    fake: FakeCoder, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    task = await create(http, fake, input="Add a --dry-run flag")
    url = f"{EXP}/me/{task['id']}"
    clock.advance(1.0)  # the start job runs: no agent yet
    st, t, _ = await call(http, "GET", url)
    assert (t["status"], t["workspace_status"]) == ("initializing", "starting")
    assert t["workspace_agent_lifecycle"] is None and t["workspace_agent_id"] is None
    assert t["workspace_build_number"] == 1 and t["current_state"] is None
    clock.advance(1.0)  # the job ended, the agent starts
    st, t, _ = await call(http, "GET", url)
    assert t["status"] == "initializing" and t["workspace_agent_lifecycle"] == "starting"
    assert t["workspace_status"] == "running"
    st, data, _ = await call(http, "GET", f"{url}/logs")
    assert st == 400 and data == {
        "message": "Task status must be active.",
        "detail": 'Task status is "initializing", it must be "active" to interact with the task.',
    }
    clock.advance(1.0)
    st, t, _ = await call(http, "GET", url)
    assert t["status"] == "active" and t["current_state"]["state"] == "working"
    _, logs, _ = await call(http, "GET", f"{url}/logs")
    entries = logs["logs"]
    assert [(e["id"], e["type"]) for e in entries] == [(0, "output"), (1, "input"), (2, "output")]
    assert "Welcome" in entries[0]["content"] and entries[1]["content"] == "Add a --dry-run flag"
    assert re.fullmatch(r".*T\d\d:\d\d:\d\d\.\d{9}Z", entries[2]["time"])
    before = entries[2]
    clock.advance(1.0)
    after = (await call(http, "GET", f"{url}/logs"))[1]["logs"][2]
    assert len(after["content"]) > len(before["content"]) and after["time"] > before["time"]
    st, data, _ = await call(http, "POST", f"{url}/send", {"input": "more"})
    assert (st, data) == (
        502,
        {"message": "Task app is not ready to accept input.", "detail": "Status: running"},
    )
    clock.advance(3.0)
    st, t, _ = await call(http, "GET", url)
    assert t["current_state"]["state"] == "idle"
    assert fake.task(task["id"]).state == "idle"
    st, data, _ = await call(http, "POST", f"{url}/send", {"input": "Also update docs"})
    assert (st, data) == (204, None)
    assert [(d[0], d[1]) for d in fake.deliveries] == [
        (fake.task(task["id"]).id, "Also update docs")
    ]
    entries = (await call(http, "GET", f"{url}/logs"))[1]["logs"]
    assert [e["id"] for e in entries] == [0, 1, 2, 3, 4]
    assert entries[3]["content"] == "Also update docs" and entries[4]["type"] == "output"
    assert fake.task(task["id"]).state == "working"
    st, data, _ = await call(http, "POST", f"{url}/send", {"input": ""})
    assert (st, data) == (400, {"message": "Task input is required."})
    st, data, _ = await call(http, "POST", f"{url}/send", data=b"")
    assert (st, data) == (400, {"message": "Request body must be valid JSON.", "detail": "EOF"})


async def test_delete_and_out_of_band_controls(
    fake: FakeCoder, clock: FakeClock, http: aiohttp.ClientSession
) -> None:
    a = await create(http, fake, name="a")
    b = await create(http, fake, name="b")
    st, body, _ = await call(http, "DELETE", f"{EXP}/me/{a['id']}")
    active = "A workspace build is already active."
    assert (st, body) == (409, {"message": active, "detail": active})
    clock.advance(2.0)
    st, body, _ = await call(http, "DELETE", f"{EXP}/me/{a['id']}")
    assert (st, body) == (202, None)
    assert (await call(http, "GET", f"{EXP}/me/{a['id']}"))[1] == {"message": NOT_FOUND}
    assert (await call(http, "DELETE", f"{EXP}/me/{a['id']}"))[0] == 404
    assert fake.task(a["id"]).deleted
    await create(http, fake, name="a")  # the name is free again
    clock.advance(10)
    fake.restart_agent("b")
    logs = (await call(http, "GET", f"{EXP}/me/{b['id']}/logs"))[1]["logs"]
    assert [e["id"] for e in logs] == [0] and "Welcome" in logs[0]["content"]
    fake.set_error("b")
    assert (await call(http, "GET", f"{EXP}/me/{b['id']}"))[1]["status"] == "error"
    fake.delete_out_of_band(b["id"])
    assert (await call(http, "GET", f"{EXP}/me/{b['id']}"))[0] == 404
    assert [t["name"] for t in (await call(http, "GET", EXP))[1]["tasks"]] == ["a"]


async def test_custom_timings() -> None:
    clock = FakeClock()
    timings = Timings(pending=0.5, initializing=0.5, chunk_interval=2.0, chunks=1)
    async with (
        FakeCoder(clock=clock, timings=timings) as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        t = await create(s, fake)
        clock.advance(1.0)
        assert fake.task(t["id"]).status == "active" and fake.task(t["id"]).state == "working"
        clock.advance(2.0)
        assert fake.task(t["id"]).state == "idle"
        assert fake.task(t["id"]).entries[-1]["content"].endswith("Done: Fix the flaky test")


# -- rate limiting -----------------------------------------------------------


async def test_rate_limit(clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=clock, rate_limit=2, server_version="v2.28") as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        r1 = (await call(s, "GET", EXP))[2]
        assert r1.headers["X-RateLimit-Limit"] == "2"
        assert r1.headers["X-RateLimit-Remaining"] == "1"
        assert int(r1.headers["X-RateLimit-Reset"]) == 1761573660  # 14:01:00Z
        await call(s, "GET", EXP)
        st, body, r = await call(s, "GET", EXP)
        assert st == 429 and r.headers["Retry-After"] == "60"
        assert body == {
            "message": "You've been rate limited for sending more than 2 requests in 1m0s."
        }
        # The key is the client address plus the URL path: another path has its own budget.
        assert (await call(s, "GET", f"{EXP}/me/x"))[0] == 400
        clock.advance(60.5)
        assert (await call(s, "GET", EXP))[0] == 200


# -- faults ------------------------------------------------------------------


async def test_fault_status_html_rate_limit(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    fake.faults.add(Fault("list", "status", times=1))
    fake.faults.add(Fault("list", "html", times=1))
    fake.faults.add(Fault("list", "rate_limit", times=1, retry_after=7))
    st, body, _ = await call(http, "GET", EXP)
    assert st == 503 and body["message"]
    async with http.get(EXP) as page:
        assert page.status == 502 and page.headers["Content-Type"] == "text/html"
        assert "<html>" in await page.text()
    st, body, r = await call(http, "GET", EXP)
    assert st == 429 and r.headers["Retry-After"] == "7"
    assert (await call(http, "GET", EXP))[0] == 200
    assert fake.faults.injected == [("list", "status"), ("list", "html"), ("list", "rate_limit")]


async def test_fault_not_handled_vs_lost_response(
    fake: FakeCoder, http: aiohttp.ClientSession
) -> None:
    tv = str(fake.template_version_id)
    fake.faults.add(Fault("create", "status", times=1))
    assert (await call(http, "POST", f"{EXP}/me", {"template_version_id": tv}))[0] == 503
    assert fake.created == []
    fake.faults.add(Fault("create", "reset", times=1))
    with pytest.raises(aiohttp.ClientPayloadError):
        await call(http, "POST", f"{EXP}/me", {"template_version_id": tv})
    assert fake.created == []
    fake.faults.add(Fault("create", "lost_response", times=1))
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await call(http, "POST", f"{EXP}/me", {"template_version_id": tv})
    assert len(fake.created) == 1  # it landed, the client just cannot know


async def test_fault_truncated_slow_latency(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    await create(http, fake)
    fake.faults.add(Fault("list", "truncated_json", times=1))
    async with http.get(EXP) as r:
        raw = await r.read()
        assert r.status == 200 and int(r.headers["Content-Length"]) == len(raw)
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    fake.faults.add(Fault("list", "slow_body", times=1, delay=0.001))
    st, body, _ = await call(http, "GET", EXP)
    assert st == 200 and body["count"] == 1
    fake.faults.add(Fault("*", "latency", times=1, delay=0.2))
    with pytest.raises(asyncio.TimeoutError):
        await call(http, "GET", EXP, timeout=aiohttp.ClientTimeout(total=0.05))
    fake.faults.clear()
    assert (await call(http, "GET", EXP))[0] == 200
    assert ("*" not in {r for r, _ in fake.faults.injected}) and len(fake.faults.injected) == 3


async def test_fault_rate_is_seeded(clock: FakeClock) -> None:
    async def run() -> list[int]:
        async with (
            FakeCoder(clock=clock, seed=7) as fake,
            aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
        ):
            fake.faults.add(Fault("list", "status", rate=0.5))
            return [(await call(s, "GET", EXP))[0] for _ in range(20)]

    first = await run()
    assert first == await run() and 200 in first and 503 in first


# -- version profiles ----------------------------------------------------------


async def test_profile_2_29(clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=clock, server_version="v2.29.1") as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        tv = str(fake.template_version_id)
        st, t, _ = await call(s, "POST", f"{V2}/me", {"template_version_id": tv, "input": "Do it"})
        assert st == 201 and t["display_name"] == "Do it" and list(t).index("display_name") == 5
        assert re.fullmatch(r"[a-z]+-[a-z]+-[0-9a-f]{4}", t["name"])
        st, t2, _ = await call(
            s, "POST", f"{V2}/me", {"template_version_id": tv, "display_name": "Nice"}
        )
        assert t2["display_name"] == "Nice"
        st, body, _ = await call(
            s, "POST", f"{V2}/me", {"template_version_id": tv, "display_name": "x" * 65}
        )
        assert (st, body) == (400, {"message": "Display name must be 64 characters or less."})
        url = f"{V2}/me/{t['id']}/input"
        st, body, _ = await call(s, "PATCH", url, {"input": "Do it better"})
        assert (st, body) == (
            409,
            {
                "message": "Unable to update task input, task must be paused.",
                "detail": "Please stop the task's workspace before updating the input.",
            },
        )
        assert (await call(s, "PATCH", url, {"input": " \t"}))[0] == 400  # checked first
        clock.advance(10.0)
        fake.stop_out_of_band(t["id"])  # e.g. `coder stop`: the task is paused
        assert (await call(s, "PATCH", url, {"input": "Do it better"}))[0] == 409  # stopping
        clock.advance(1.0)
        assert (await call(s, "PATCH", url, {"input": "Do it better"}))[0] == 204
        assert fake.task(t["id"]).prompt == "Do it better"
        assert (await call(s, "POST", f"{V2}/me/{t['id']}/pause"))[0] == 404


async def test_profile_2_31_pause_resume(clock: FakeClock) -> None:
    async with (
        FakeCoder(clock=clock, server_version="v2.31.1") as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        t = await create(s, fake)
        url = f"{V2}/me/{t['id']}"
        st, body, _ = await call(s, "POST", f"{url}/send", {"input": "hi"})
        assert (st, body["message"]) == (409, "Task is pending.")
        assert body["detail"].startswith("The task is resuming.")
        assert (await call(s, "GET", f"{url}/logs"))[1] == {"logs": [], "snapshot": True}
        clock.advance(1.0)
        st, got, _ = await call(s, "GET", url)
        assert got["current_state"]["state"] == "working"  # synthesized while initializing
        clock.advance(2.0)
        st, body, _ = await call(s, "POST", f"{url}/send", {"input": "hi"})
        assert (st, body["message"]) == (502, "Task app is not ready to accept input.")
        clock.advance(10.0)
        live = (await call(s, "GET", f"{url}/logs"))[1]
        assert "snapshot" not in live
        st, body, _ = await call(s, "POST", f"{url}/pause")
        assert st == 202 and body["workspace_build"]["transition"] == "stop"
        assert body["workspace_build"]["build_number"] == 2
        st, got, _ = await call(s, "GET", url)
        # The stop job is queued, then runs: the task is "unknown", its logs answer 409.
        assert (got["status"], got["workspace_status"]) == ("unknown", "pending")
        clock.advance(0.5)
        st, got, _ = await call(s, "GET", url)
        assert (got["status"], got["workspace_status"]) == ("unknown", "stopping")
        st, stopping, _ = await call(s, "GET", f"{url}/logs")
        assert (st, stopping["detail"]) == (409, 'Task status is "unknown".')
        clock.advance(0.5)
        st, got, _ = await call(s, "GET", url)
        assert (got["status"], got["workspace_status"], got["workspace_agent_id"]) == (
            "paused",
            "stopped",
            None,
        )
        snap = (await call(s, "GET", f"{url}/logs"))[1]
        assert snap["snapshot"] is True and snap["logs"] == live["logs"] and snap["snapshot_at"]
        st, body, _ = await call(s, "POST", f"{url}/send", {"input": "hi"})
        assert (st, body) == (
            409,
            {"message": "Task is paused.", "detail": "Resume the task to send messages."},
        )
        assert (await call(s, "PATCH", f"{url}/input", {"input": " "}))[0] == 400
        assert (await call(s, "PATCH", f"{url}/input", {"input": "new"}))[0] == 204
        st, body, _ = await call(s, "POST", f"{url}/resume")
        assert st == 202 and body["workspace_build"]["transition"] == "start"
        assert (await call(s, "GET", url))[1]["status"] == "pending"
        clock.advance(3.0)
        logs = (await call(s, "GET", f"{url}/logs"))[1]["logs"]
        assert [e["id"] for e in logs] == [0]  # a restarted AgentAPI
        fake.set_error(t["id"])
        st, body, _ = await call(s, "GET", f"{url}/logs")
        assert (st, body) == (
            409,
            {
                "message": "Cannot fetch logs for task in current state.",
                "detail": 'Task status is "error".',
            },
        )
        st, body, _ = await call(s, "POST", f"{url}/send", {"input": "hi"})
        assert (st, body) == (
            400,
            {
                "message": "Task must be active.",
                "detail": 'Task status is "error", it must be "active" to interact with the task.',
            },
        )
        st, body, _ = await call(s, "PATCH", f"{url}/input", {"input": "x"})
        assert (st, body["message"]) == (409, "Unable to update task input, task must be paused.")


# -- recording, standalone -----------------------------------------------------


async def test_requests_are_recorded(fake: FakeCoder, http: aiohttp.ClientSession) -> None:
    await call(http, "GET", f"{EXP}/me/some%20name", params={"x": "1"})
    rec = fake.requests[-1]
    assert (rec.method, rec.path, rec.query, rec.route, rec.status) == (
        "GET",
        f"{EXP}/me/some%20name",
        {"x": "1"},
        "get",
        400,  # v2.28 takes only UUIDs in {task}
    )
    assert rec.headers["Coder-Session-Token"] == fake.token


def test_standalone_server() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "coder_tasks_async.testing", "--port", "0", "--rate-limit", "100"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().removeprefix("URL=")
        token = proc.stdout.readline().strip().removeprefix("TOKEN=")

        async def probe() -> tuple[int, str]:
            async with (
                aiohttp.ClientSession(url, headers={"Coder-Session-Token": token}) as s,
                s.get(EXP) as r,
            ):
                return r.status, r.headers["X-RateLimit-Limit"]

        assert asyncio.run(probe()) == (200, "100")
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
