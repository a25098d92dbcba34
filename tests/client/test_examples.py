"""The runnable examples, executed against FakeCoder, and the README's opening.

Each example runs as a subprocess with ``CODER_URL`` unset, so it starts its own
fake; they run concurrently to keep interpreter start-ups off the clock.  Every
Python block of the README (its complete programs included) runs in
tests/docs/test_code_blocks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from helpers import TESTS

ROOT = TESTS.parent
EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"

#: What each script must print (besides exiting 0) to count as having done its job.
EXPECTED = {
    "quickstart.py": ["created alice/", "--- input #1", "Done: Fix the flaky login test"],
    "fan_out.py": [
        "created 10 tasks",
        "] ● Looking at: Add type hints to module_9.py",
        "deleted 10",
    ],
    "bot.py": [
        "bot answers: Also add a regression test.",
        "conversation restarted",
        "input #1: And update the CHANGELOG.",
    ],
    "fleet_bot.py": ["[bot-1] following", "posted to", "posted 3 replies, each once"],
    "rebroadcast.py": ["20 browsers got the agent's reply", "requests to Coder for 20 browsers"],
    "wait_for_status.py": ["is active", "not complete after 0.5 s", "agent finished its turn"],
    "handle_errors.py": [
        "404 GET",
        "409: Workspace",
        "refused before sending",
        "401:",
        "transport:",
    ],
}


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    env["CODER_CONFIG_DIR"] = os.devnull  # never a developer's real `coder login`
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


#: Seconds a script may run before it is killed: a safety net against a hang (a clear
#: failure with the script's output instead of a CI job stuck forever), not a timing
#: assertion.
BOUND = 120.0


async def run(
    args: list[str], env: dict[str, str], cwd: Path = ROOT, bound: float = BOUND
) -> tuple[int, str]:
    """Run a script; ``(exit code, stdout and stderr)``.  A script that runs longer
    than ``bound`` seconds is killed and the test fails with what it printed."""
    chunks: list[bytes] = []
    async with await anyio.open_process(
        args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stderr=subprocess.STDOUT
    ) as proc:
        stdout = proc.stdout
        assert stdout is not None

        async def drain() -> None:
            async for chunk in stdout:
                chunks.append(chunk)

        async with anyio.create_task_group() as tg:
            tg.start_soon(drain)
            with anyio.move_on_after(bound) as limit:
                await proc.wait()
            if limit.cancelled_caught:
                proc.kill()
                await proc.wait()
    output = b"".join(chunks).decode(errors="replace")
    if limit.cancelled_caught:
        pytest.fail(f"{' '.join(args[1:])} hung: killed after {bound} s; it printed:\n{output}")
    assert proc.returncode is not None
    return proc.returncode, output


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == {*EXPECTED, "testing_with_fakecoder.py"}


@pytest.mark.anyio
async def test_examples_run_against_a_fake() -> None:
    results: dict[str, tuple[int, str]] = {}

    async def one(name: str) -> None:
        results[name] = await run([sys.executable, str(EXAMPLES / name)], clean_env())

    async with anyio.create_task_group() as tg:
        for name in EXPECTED:
            tg.start_soon(one, name)
        tg.start_soon(pytest_example, results)
    for name, (rc, output) in results.items():
        assert rc == 0, f"{name} failed:\n{output}"
        assert "Traceback" not in output, f"{name}:\n{output}"
        for needle in EXPECTED.get(name, []):
            assert needle in output, f"{name} did not print {needle!r}:\n{output}"
    assert "2 passed" in results["testing_with_fakecoder.py"][1]


async def pytest_example(results: dict[str, tuple[int, str]]) -> None:
    """The pytest example, collected on its own (its name keeps the main run off it)."""
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    args.append(str(EXAMPLES / "testing_with_fakecoder.py"))
    results["testing_with_fakecoder.py"] = await run(args, clean_env())


def test_readme_starts_with_the_two_commands() -> None:
    head = README.read_text()[:800]
    venv = "python3 -m venv .venv && . .venv/bin/activate"
    demo = f"{venv} && pip install -e '.[cli]' && coder-tasks demo"
    tests = f"{venv} && pip install -e '.[test]' && pytest"
    assert f"Run the demo:\n\n```sh\n{demo}\n```" in head
    assert f"Run the tests:\n\n```sh\n{tests}\n```" in head
