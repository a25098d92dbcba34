"""``coder-tasks`` additions (create --wait/--follow, --template, logs --tail/--since, --org,
--header, -v, version, completion) and the ``fake-server`` entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from cli_support import CLI, POLL, Served, served

from coder_tasks_async.cli._fake import known_versions

__all__ = ["served"]  # the fixture, imported for pytest


def test_create_wait_and_follow(served: Served) -> None:
    tv = str(served.fake.template_version_id)
    waited = served.cli("create", "Do it", "--template-version", tv, "--name", "cw", "--wait",
                        *POLL, "-o", "json")  # fmt: skip
    assert waited.exit_code == 0, waited.output
    assert json.loads(waited.stdout)["current_state"]["state"] in ("idle", "complete")
    followed = served.cli("create", "Do it", "--template-version", tv, "--name", "cf",
                          "--follow", *POLL)  # fmt: skip
    assert followed.exit_code == 0, followed.output
    assert "#1 input" in followed.stdout and "Done: Do it" in followed.stdout


def test_create_with_template_by_name(served: Served) -> None:
    fake = served.fake
    by_name = served.cli("create", "Go", "--template", "claude-code-agent", "--name", "t1", "-q")
    assert by_name.exit_code == 0, by_name.output
    assert served.fake.task("t1").template_version_id == fake.template_version_id
    pinned = served.cli("create", "Go", "--template", "Claude-Code-Agent@v1", "--name", "t2")
    assert pinned.exit_code == 0, pinned.output
    missing = served.cli("create", "Go", "--template", "claude-code-agent@v9")
    assert missing.exit_code == 1
    assert "template claude-code-agent has no version named v9" in missing.stderr
    unknown = served.cli("create", "Go", "--template", "nope")
    assert unknown.exit_code == 1 and "template nope not found" in unknown.stderr
    other = uuid.uuid4()
    fake.templates.add(
        "claude-code-agent",
        organization_id=uuid.uuid4(),
        organization_name="research",
        versions={"v1": other},
        active_version="v1",
    )
    ambiguous = served.cli("create", "Go", "--template", "claude-code-agent")
    assert ambiguous.exit_code == 1
    assert "exists in several organizations: coder, research" in ambiguous.stderr
    assert "--org" in ambiguous.stderr
    picked = served.cli(
        "create", "Go", "--template", "claude-code-agent", "--org", "coder", "--name", "t3"
    )
    assert picked.exit_code == 0, picked.output
    both = served.cli("create", "Go", "--template", "x", "--template-version", str(other))
    assert both.exit_code == 2 and "not both" in both.stderr
    # The environment's default version does not clash with an explicit --template.
    env_default = served.cli(
        "create", "Go", "--template", "claude-code-agent", "--org", "coder", "--name", "t4",
        CODER_TASK_TEMPLATE_VERSION=str(other),
    )  # fmt: skip
    assert env_default.exit_code == 0, env_default.output


def test_logs_tail_and_since(served: Served) -> None:
    served.make("tailed")
    served.cli("wait", "tailed", "--until", "idle", *POLL)
    full = served.cli("logs", "tailed", "-o", "json")
    entries = json.loads(full.stdout)  # coder's shape: an array of entries
    assert len(entries) >= 2
    tail = served.cli("logs", "tailed", "--tail", "1", "-o", "json")
    assert json.loads(tail.stdout) == entries[-1:]
    since = served.cli("logs", "tailed", "--since", "1h", "-o", "json")
    assert json.loads(since.stdout) == entries
    future = served.cli("logs", "tailed", "--since", "2999-01-01T00:00:00+00:00")
    assert future.exit_code == 0 and future.stdout == ""
    bad = served.cli("logs", "tailed", "--since", "yesterday")
    assert bad.exit_code == 2 and "30s, 10m" in bad.stderr


def test_org_header_verbose_version(served: Served) -> None:
    served.make("orgy")
    org = served.cli("list", "--org", served.fake.organization_name, "-q")
    assert org.exit_code == 0 and org.stdout.strip() == str(served.fake.task("orgy").id)
    headed = served.cli("list", "--header", "X-Trace=abc123", "-q")
    assert headed.exit_code == 0, headed.output
    assert served.fake.requests[-1].headers.get("X-Trace") == "abc123"
    bad = served.cli("list", "--header", "novalue")
    assert bad.exit_code == 2 and "KEY=VALUE" in bad.stderr
    verbose = served.cli("list", "-v")
    assert "debug:" in verbose.stderr and served.fake.token not in verbose.stderr
    version = served.cli("version")
    assert version.exit_code == 0
    assert "Client: coder-tasks" in version.stdout and "Coder v2.31.1" in version.stdout


def test_completion_script(served: Served) -> None:
    result = served.cli("completion", "bash")
    assert result.exit_code == 0
    assert "_CODER_TASKS_COMPLETE" in result.stdout and "complete" in result.stdout
    assert "install with" in result.stderr
    # The protocol the script speaks: the shell asks, the command answers.
    env = {**os.environ, "_CODER_TASKS_COMPLETE": "complete_bash", "COMP_CWORD": "2",
           "COMP_WORDS": "coder-tasks list --sta"}  # fmt: skip
    answer = subprocess.run([*CLI], env=env, capture_output=True, text=True, check=False)
    assert answer.stdout.split() == ["--status"], answer


def test_fake_server_versions(served: Served) -> None:
    bad = served.cli("fake-server", "--server-version", "v2.20.0")
    assert bad.exit_code == 2
    assert "unknown version 'v2.20.0'" in bad.stderr and known_versions()[-1] in bad.stderr
    shown = served.cli("fake-server", "--help", COLUMNS="200").stdout
    assert "--record-requests" in shown and "--speed" in shown and "--token" in shown


def test_fake_server_token_random_warns_beyond_loopback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
    hosts = [[], ["--host", "0.0.0.0"]]
    procs = [
        subprocess.Popen(
            [*CLI, "fake-server", *extra],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for extra in hosts
    ]
    tokens = []
    for extra, proc in zip(hosts, procs, strict=True):
        assert proc.stdout is not None and proc.stderr is not None
        lines = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        tokens.append(lines["TOKEN"])
        assert lines["URL"].startswith("http://")
        proc.send_signal(2)
        err = proc.stderr.read()
        proc.stdout.close()
        proc.stderr.close()
        assert proc.wait(10) == 0
        assert ("warning: listening on 0.0.0.0" in err) == bool(extra)
        assert f"Fake Coder {known_versions()[-1]} is running" in err
    assert tokens[0] != tokens[1]


def test_python_m_testing_is_the_same_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "coder_tasks_async.testing", "--help"],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=True,
    ).stdout  # fmt: skip
    assert "python -m coder_tasks_async.testing" in out
    for flag in ("--speed", "--record-requests", "--token", "--server-version", "Example:"):
        assert flag in out


@pytest.mark.parametrize("served", ["v2.26.0"], indirect=True)
def test_logs_need_v2_27(served: Served) -> None:
    # v2.26 has list, create and get only (docs/compatibility.md §1).
    created = served.cli("create", "Old server", "--template", "claude-code-agent", "--name", "old")
    assert created.exit_code == 0, created.output
    logs = served.cli("logs", "old")
    assert logs.exit_code == 1
    # Named for what the user asked (task logs), not the SDK method behind it.
    assert "(Coder v2.26.0) has no task logs: it needs Coder v2.27 or later" in logs.stderr
    assert "get_logs" not in logs.stderr


@pytest.mark.parametrize("served", ["v2.27.0", "v2.28.0", "v2.29.0"], indirect=True)
def test_additions_on_older_profiles(served: Served) -> None:
    created = served.cli(
        "create", "Old server", "--template", "claude-code-agent", "--name", "old", "--follow",
        *POLL,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Done: Old server" in created.stdout
    tail = served.cli("logs", "old", "--tail", "1", "-o", "json")
    assert tail.exit_code == 0 and len(json.loads(tail.stdout)) == 1
    version = served.cli("version")
    assert f"Coder {served.fake.server_version}" in version.stdout
    listed = served.cli("list", "-c", "name,status,state")
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].split()[0] == "old"
