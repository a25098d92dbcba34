"""Ports of coderd/taskname tests through ``POST /tasks/me`` without a name: the name and
display name a server without an LLM key generates from the prompt (v2.29+), and the
docker-style ``task-…`` names of earlier releases."""

from __future__ import annotations

import re

import pytest
from conformance_support import Env, at

from coder_tasks_async.testing._names import name_error

pytestmark = pytest.mark.anyio

FROM_PROMPT = [
    # Go subtest, prompt, name prefix, display name
    ("UppercasePrompt", "BUILD MY APP", "build-my-app", "BUILD MY APP"),
    ("PromptWithApostrophes", "fix user's dashboard", "fix-users-dashboard",
     "Fix user's dashboard"),
    ("LongPrompt", "a" * 100, "a" * 27, "A" + "a" * 62 + "…"),
    ("PromptWithMultipleSpaces", "build    my    app", "build-my-app", "Build    my    app"),
    ("PromptWithNewlines", "build\nmy\napp", "build-my-app", "Build my app"),
    (
        "TruncatesLongPromptAtWordBoundary",
        "implement real-time notifications dashboard",
        "implement-real-time",
        "Implement real-time notifications dashboard",
    ),
    ("FromPrompt", "Create a finance planning app", "create-a-finance-planning",
     "Create a finance planning app"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "prompt", "prefix", "display"), FROM_PROMPT, ids=[c[0] for c in FROM_PROMPT]
)
@at("v2.29")
async def test_generate_from_prompt(
    env: Env, case: str, prompt: str, prefix: str, display: str
) -> None:
    task = await env.create(prompt)
    assert re.fullmatch(re.escape(prefix) + r"-[0-9a-f]{4}", task["name"]), task["name"]
    assert name_error(task["name"]) is None
    assert task["display_name"] == display


@at("v2.31.1")
async def test_generate_from_prompt_multi_byte(env: Env) -> None:
    task = await env.create("über cool feature")
    assert name_error(task["name"]) is None
    assert task["display_name"] == "Über cool feature"  # the first rune, not its first byte


@pytest.mark.parametrize(
    ("case", "prompt"),
    [("EmptyPrompt", ""), ("OnlySpaces", "     "), ("OnlySpecialCharacters", "!@#$%^&*()")],
)
@at("v2.29")
async def test_generate_fallback_when_the_prompt_gives_no_name(
    env: Env, case: str, prompt: str
) -> None:
    task = await env.create(prompt)
    assert name_error(task["name"]) is None
    assert re.fullmatch(r"[a-z]+-[a-z]+-[0-9a-f]{4}", task["name"])
    words = task["name"].rsplit("-", 1)[0].replace("-", " ")
    assert task["display_name"] == words[:1].upper() + words[1:]


@at("v2.26", "v2.29")
async def test_generate_task_name_fallback_before_v2_29(env: Env) -> None:
    task = await env.create("Create a finance planning app")
    assert name_error(task["name"]) is None
    assert re.fullmatch(r"task-[a-z-]+-[0-9a-f]{4}", task["name"])
    assert "display_name" not in task
