"""FakeCoder's per-release answers on the wire: raw aiohttp over loopback, no SDK involved."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from coder_tasks_async.testing import PROFILES, FakeClock, FakeCoder
from coder_tasks_async.testing._routes import routes_of

pytestmark = pytest.mark.anyio

EXP = "/api/experimental/tasks"
SEED_TASK_FIELDS = [
    "id", "organization_id", "owner_id", "owner_name", "name", "template_id",
    "template_version_id", "template_name", "template_display_name", "template_icon",
    "workspace_id", "workspace_name", "workspace_status", "workspace_build_number",
    "workspace_agent_id",
    "workspace_agent_lifecycle", "workspace_agent_health", "workspace_app_id",
    "initial_prompt", "status", "current_state", "created_at", "updated_at",
]  # fmt: skip
V2_26_TASK_FIELDS = [
    "id", "organization_id", "owner_id", "name", "template_id", "template_name",
    "template_display_name", "template_icon", "workspace_id", "workspace_agent_id",
    "workspace_agent_lifecycle", "workspace_agent_health", "initial_prompt", "status",
    "current_state", "created_at", "updated_at",
]  # fmt: skip


@asynccontextmanager
async def served(
    profile: str, clock: FakeClock, **kwargs: Any
) -> AsyncIterator[tuple[FakeCoder, aiohttp.ClientSession]]:
    async with (
        FakeCoder(clock=clock, server_version=profile, **kwargs) as fake,
        aiohttp.ClientSession(fake.url, headers={"Coder-Session-Token": fake.token}) as s,
    ):
        yield fake, s


async def call(
    s: aiohttp.ClientSession, method: str, path: str, body: Any = None, **kw: Any
) -> tuple[int, Any]:
    if body is not None:
        kw["json"] = body
    async with s.request(method, path, **kw) as r:
        raw = await r.read()
        return r.status, (json.loads(raw) if raw else None)


async def create(fake: FakeCoder, s: aiohttp.ClientSession, **body: Any) -> dict[str, Any]:
    body.setdefault("template_version_id", str(fake.template_version_id))
    body.setdefault("input", "Fix the flaky test")
    status, data = await call(s, "POST", f"{EXP}/me", body)
    assert status == 201, data
    return dict(data)


# -- profiles ------------------------------------------------------------------


def test_profiles_are_importable_and_unknown_names_are_refused() -> None:
    assert PROFILES[0] == "v2.26" and PROFILES[-1] == "latest"
    assert FakeCoder(server_version="v2.31.1").server_version == "v2.31.1"
    assert FakeCoder(server_version="latest").profile.pause_resume
    # Any release version: v2.30.4 has v2.29's PATCH …/input.
    assert "update_input" in {
        r.name for r in routes_of(FakeCoder(server_version="v2.30.4").profile)
    }
    for bad in ("v2.25", "2.x", "newest", ""):
        with pytest.raises(ValueError, match=r"known profiles: v2\.26, v2\.27") as info:
            FakeCoder(server_version=bad)
        assert "latest" in str(info.value)


@pytest.mark.parametrize(
    ("profile", "pause", "busy_409"),
    [("v2.31.0", False, False), ("v2.31.1", True, False), ("v2.32", True, True)],
)
def test_switches_are_patch_level_aware(profile: str, pause: bool, busy_409: bool) -> None:
    p = FakeCoder(server_version=profile).profile
    assert (p.pause_resume, p.has("busy_is_conflict")) == (pause, busy_409)


# -- shapes and create body -------------------------------------------------------


async def test_v2_26_task_is_built_from_the_workspace_and_reads_prompt() -> None:
    async with served("v2.26", FakeClock()) as (fake, s):
        body = {"template_version_id": str(fake.template_version_id), "prompt": "Old style"}
        st, task = await call(s, "POST", f"{EXP}/me", body)
        assert st == 201
        assert list(task) == V2_26_TASK_FIELDS
        assert (task["status"], task["initial_prompt"]) == ("pending", "Old style")
        assert task["name"].startswith("task-")
        st, ignored = await call(
            s,
            "POST",
            f"{EXP}/me",
            {"template_version_id": body["template_version_id"], "input": "x"},
        )
        assert (st, ignored["initial_prompt"]) == (201, "")  # "input" is unknown to v2.26


async def test_v2_27_adds_owner_name_and_input() -> None:
    clock = FakeClock()
    async with served("v2.27", clock) as (fake, s):
        task = await create(fake, s, input="New style")
        assert list(task) == [*V2_26_TASK_FIELDS[:3], "owner_name", *V2_26_TASK_FIELDS[3:]]
        assert task["initial_prompt"] == "New style"
        clock.advance(3.0)
        _, running = await call(s, "GET", f"{EXP}/me/{task['id']}")
        assert running["status"] == "running"  # a workspace status


@pytest.mark.parametrize("profile", ["v2.28", "v2.29"])
async def test_seed_shape_and_a_synthesized_state_from_v2_29(profile: str) -> None:
    clock = FakeClock()
    async with served(profile, clock) as (fake, s):
        task = await create(fake, s)
        fields = SEED_TASK_FIELDS.copy()
        if profile == "v2.29":
            fields.insert(5, "display_name")
        assert list(task) == fields
        assert task["workspace_build_number"] == 1  # in the 201 already
        # Before v2.31.1 a start job still queued shows as "initializing" already.
        assert task["status"] == "initializing"
        clock.advance(2.0)  # the job ended; the agent starts, no report from it yet
        _, got = await call(s, "GET", f"{EXP}/me/{task['id']}")
        assert got["status"] == "initializing"
        if profile == "v2.28":
            assert got["current_state"] is None
        else:
            assert got["current_state"] == {
                "timestamp": task["created_at"],  # the start build's creation time
                "state": "working",
                "message": "Agent is starting",
                "uri": "",
            }


# -- task lookup ---------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
async def test_names_in_the_path_only_from_v2_29(profile: str) -> None:
    async with served(profile, FakeClock()) as (fake, s):
        task = await create(fake, s, name="by-name", **{"prompt": "x"})
        st, body = await call(s, "GET", f"{EXP}/me/By-Name")
        if profile in ("v2.26", "v2.27", "v2.28"):
            assert (st, body) == (
                400,
                {"message": 'Invalid UUID "By-Name".', "detail": "invalid UUID length: 7"},
            )
        else:
            assert (st, body["id"]) == (200, task["id"])
        assert (await call(s, "GET", f"{EXP}/me/{task['id']}"))[0] == 200


async def test_v2_26_has_no_delete_send_or_logs() -> None:
    async with served("v2.26", FakeClock()) as (fake, s):
        task = await create(fake, s, prompt="x")
        url = f"{EXP}/me/{task['id']}"
        assert (await call(s, "DELETE", url))[0] == 405  # the path exists, for GET only
        assert await call(s, "POST", f"{url}/send", {"input": "x"}) == (
            404,
            {"message": "Route not found."},
        )
        assert (await call(s, "GET", f"{url}/logs"))[0] == 404


# -- send, input, pause, resume, delete ----------------------------------------------


async def test_send_refuses_only_the_empty_string() -> None:
    clock = FakeClock()
    async with served("latest", clock) as (fake, s):
        task = await create(fake, s)
        clock.advance(10.0)
        url = f"{EXP}/me/{task['id']}/send"
        assert await call(s, "POST", url, {"input": ""}) == (
            400,
            {"message": "Task input is required."},
        )
        assert (await call(s, "POST", url, {"input": "   "}))[0] == 204
        assert [text for _, text, _ in fake.deliveries] == ["   "]


async def test_update_input_checks_blank_first_and_refuses_unpaused_tasks() -> None:
    clock = FakeClock()
    async with served("latest", clock) as (fake, s):
        task = await create(fake, s)
        url = f"{EXP}/me/{task['id']}/input"
        refused = (
            409,
            {
                "message": "Unable to update task input, task must be paused.",
                "detail": "Please stop the task's workspace before updating the input.",
            },
        )
        assert await call(s, "PATCH", url, {"input": " \n"}) == (
            400,
            {"message": "Task input is required."},
        )
        assert await call(s, "PATCH", url, {"input": "pending"}) == refused
        clock.advance(3.0)
        fake.set_error(task["id"])
        assert await call(s, "PATCH", url, {"input": "in error"}) == refused
        await call(s, "POST", f"{EXP}/me/{task['id']}/pause")
        # The stop build runs a second (status "unknown"), then the task is paused.
        assert await call(s, "PATCH", url, {"input": "stopping"}) == refused
        clock.advance(1.0)
        assert (await call(s, "PATCH", url, {"input": "paused"}))[0] == 204


async def test_pause_resume_and_delete_against_running_builds() -> None:
    clock = FakeClock()
    async with served("latest", clock) as (fake, s):
        task = await create(fake, s)
        url = f"{EXP}/me/{task['id']}"
        message = "A workspace build is already active."
        active = {"message": message, "detail": message}
        assert await call(s, "POST", f"{url}/pause") == (409, active)
        assert await call(s, "POST", f"{url}/resume") == (409, active)
        assert await call(s, "DELETE", url) == (409, active)
        clock.advance(1.0)  # the start job runs (the task is initializing): still refused
        assert await call(s, "POST", f"{url}/pause") == (409, active)
        assert await call(s, "DELETE", url) == (409, active)
        clock.advance(1.0)  # the start build finished; the agent is starting
        assert await call(s, "POST", f"{url}/resume") == (
            409,
            {
                "message": "Task workspace is already running.",
                "detail": 'Workspace status is "running".',
            },
        )
        st, first = await call(s, "POST", f"{url}/pause")
        assert await call(s, "POST", f"{url}/pause") == (409, active)  # the stop job runs
        clock.advance(1.0)
        st2, second = await call(s, "POST", f"{url}/pause")
        assert (st, st2) == (202, 202)  # no "already paused" refusal
        assert (
            second["workspace_build"]["build_number"]
            == first["workspace_build"]["build_number"] + 1
        )
        clock.advance(1.0)
        assert (await call(s, "POST", f"{url}/resume"))[0] == 202
        assert await call(s, "DELETE", url) == (409, active)  # the resume's start build
        clock.advance(2.0)
        assert (await call(s, "DELETE", url))[0] == 202


# -- create --------------------------------------------------------------------------


async def test_create_checks_run_in_coders_order() -> None:
    async with served("latest", FakeClock()) as (fake, s):
        bad_name, long_display = "not valid!", "x" * 65
        unknown_tv = "00000000-0000-0000-0000-000000000001"

        async def attempt(**body: Any) -> str:
            st, data = await call(s, "POST", f"{EXP}/me", {"input": "x", **body})
            assert st == 400
            return str(data["message"])

        everything_wrong = {"name": bad_name, "display_name": long_display}
        assert await attempt(template_version_id=unknown_tv, **everything_wrong) == (
            "Template version not found or you do not have access to this resource"
        )
        no_ai = str(fake.template_version_id_no_ai)
        assert await attempt(template_version_id=no_ai, **everything_wrong) == (
            'Template does not have a valid "coder_ai_task" resource.'
        )
        tv = str(fake.template_version_id)
        assert await attempt(template_version_id=tv, **everything_wrong) == (
            "Unable to create a Task with the provided name."
        )
        assert await attempt(template_version_id=tv, display_name=long_display) == (
            "Display name must be 64 characters or less."
        )
        # The task handler does not look at the preset: no made-up "preset not found".
        preset = "00000000-0000-0000-0000-000000000002"
        st, _ = await call(
            s, "POST", f"{EXP}/me", {"input": "x", "template_version_id": tv,
                                      "template_version_preset_id": preset}
        )  # fmt: skip
        assert st == 201


# -- rate limiting ---------------------------------------------------------------------


async def test_rate_limit_runs_before_auth_keyed_by_address_and_path() -> None:
    clock = FakeClock()
    async with served("latest", clock, rate_limit=2) as (fake, s):
        bob = fake.add_user("bob", owner=True)
        limited = (
            429,
            {"message": "You've been rate limited for sending more than 2 requests in 1m0s."},
        )
        assert (await call(s, "GET", EXP))[0] == 200
        # Another user from the same address shares the budget of this path...
        async with aiohttp.ClientSession(
            fake.url, headers={"Coder-Session-Token": bob.token}
        ) as other:
            assert (await call(other, "GET", EXP))[0] == 200
            assert await call(other, "GET", EXP) == limited
        # ...so does a request with no token at all: the limiter answers before auth.
        async with aiohttp.ClientSession(fake.url) as anonymous:
            assert await call(anonymous, "GET", EXP) == limited
        # The bypass header is never read here: no 428, just the limit.
        bypass = {"X-Coder-Bypass-Ratelimit": "true"}
        assert await call(s, "GET", EXP, headers=bypass) == limited
        assert (await call(s, "GET", f"{EXP}?q=owner:me"))[0] == 429  # the query is not the path
        assert (await call(s, "GET", f"{EXP}/me/{fake.organization_id}"))[0] == 404


def test_standalone_refuses_an_unknown_profile() -> None:
    from coder_tasks_async.testing._standalone import main

    with pytest.raises(ValueError, match="known profiles"):
        main(["--profile", "bogus"])


@pytest.mark.parametrize(
    "profile", [pytest.param(p, marks=pytest.mark.coder_profile(p)) for p in ("v2.26", "latest")]
)
async def test_the_plugin_marker_picks_the_profile(fake_coder: FakeCoder, profile: str) -> None:
    assert fake_coder.profile == FakeCoder(server_version=profile).profile


async def test_the_plugin_default_profile_is_the_newest(fake_coder: FakeCoder) -> None:
    assert fake_coder.server_version == FakeCoder().server_version == "v2.32.0"
