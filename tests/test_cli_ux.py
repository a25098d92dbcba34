"""``coder-tasks`` as a user meets it: layout, pipes, errors, inputs, additions (issue 14).

Most tests run the typer app in-process (typer's ``CliRunner``) against a real-time
FakeCoder served from a background thread, so they cost milliseconds.  Only what
needs a real pipe, a signal or a fresh interpreter runs a subprocess.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from typer.testing import CliRunner

from coder_tasks_async import CoderTasksClient, Task
from coder_tasks_async.cli import app
from coder_tasks_async.cli._fake import known_versions
from coder_tasks_async.testing import FakeCoder, Fault, Timings

FAST = Timings(pending=0.05, initializing=0.1, chunk_interval=0.05, chunks=2)
POLL = ("--poll-interval", "0.05")
CLI = (sys.executable, "-m", "coder_tasks_async.cli")
LONG = "Refactoring the authentication middleware to use the new session store " * 2


class Served:
    """A FakeCoder running in its own thread's event loop, and helpers to drive it."""

    def __init__(self, portal: BlockingPortal, fake: FakeCoder, tmp: Path) -> None:
        self.portal = portal
        self.fake = fake
        self.env = {
            "CODER_URL": fake.url,
            "CODER_SESSION_TOKEN": fake.token,
            "CODER_CONFIG_DIR": str(tmp / "coderv2"),
            "CODER_TASK_TEMPLATE_VERSION": None,
            "COLUMNS": "80",
            "NO_COLOR": "1",
        }

    def call(self, func: Any, *args: Any) -> Any:
        return self.portal.call(func, *args)

    def make(self, name: str, prompt: str = "") -> Task:
        async def create() -> Task:
            async with CoderTasksClient(self.fake.url, token=self.fake.token) as coder:
                return await coder.create_task(
                    prompt or f"Fix {name}",
                    template_version_id=self.fake.template_version_id,
                    name=name,
                )

        return self.call(create)  # type: ignore[no-any-return]

    def cli(self, *args: str, input: str | None = None, **env: str | None) -> Any:
        result = CliRunner().invoke(
            app, list(args), input=input, env={**self.env, **env}, catch_exceptions=False
        )
        return result

    def subprocess_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("CODER_")}
        env.update({k: v for k, v in self.env.items() if v is not None})
        return env


@pytest.fixture
def served(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Served]:
    version = getattr(request, "param", "v2.31.1")
    with start_blocking_portal() as portal:
        fake = FakeCoder(timings=FAST, server_version=version)
        with portal.wrap_async_context_manager(fake):
            yield Served(portal, fake, tmp_path)


def no_python_leaks(text: str) -> None:
    for leak in ("Traceback", "Error(", "Error)", "<class", "ValueError", "[]", "['"):
        assert leak not in text, text


# -- tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("columns", ["80", "60"])
def test_piped_table_keeps_every_column_whole(served: Served, columns: str) -> None:
    task = served.make("task-tender-lovelace-long-name", LONG)
    result = served.cli("list", "-a", COLUMNS=columns)
    assert result.exit_code == 0, result.output
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["OWNER", "NAME", "STATUS", "STATE", "STATE", "CHANGED", "MESSAGE"]
    assert row.split()[:2] == ["alice", task.name]
    assert row.split()[2] in ("pending", "initializing", "active")
    assert "…" not in result.stdout  # piped: nothing is cut


def test_terminal_width_cuts_only_the_message() -> None:
    from coder_tasks_async.cli._output import render_table

    headers = ["NAME", "STATUS", "STATE", "MESSAGE"]
    rows = [["task-tender-lovelace-long", "initializing", "working", "x" * 100]]
    for width in (80, 60):
        header, line = render_table(headers, rows, width=width)
        assert line.startswith("task-tender-lovelace-long  initializing  working  ")
        assert header.split() == headers
        assert len(line) <= width and line.endswith("…")
    # Too narrow even for the fixed columns: those stay whole, the line runs over.
    _, line = render_table(headers, rows, width=30)
    assert "task-tender-lovelace-long  initializing  working" in line


def test_column_selection_and_bad_column(served: Served) -> None:
    task = served.make("picked")
    chosen = served.cli("list", "-c", "name,STATE", "--column", "id")
    assert chosen.exit_code == 0, chosen.output
    assert chosen.stdout.splitlines()[0].split() == ["NAME", "STATE", "ID"]
    assert chosen.stdout.splitlines()[1].split()[0] == "picked"
    assert str(task.id) in chosen.stdout
    bad = served.cli("list", "-c", "name,colour")
    assert bad.exit_code == 2
    assert "unknown column 'colour'" in bad.stderr and "state-changed" in bad.stderr


def test_status_and_wait_tables_are_not_cut(served: Served) -> None:
    task = served.make("emoji-task-long-name")
    result = served.cli("status", task.name, COLUMNS="40")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split()[0] == task.name


# -- streams -------------------------------------------------------------------------


def test_results_on_stdout_notices_on_stderr(served: Served) -> None:
    tv = str(served.fake.template_version_id)
    created = served.cli("create", "Fix it", "--template-version", tv, "--name", "streams")
    assert created.exit_code == 0, created.output
    assert created.stdout == f"Created task alice/streams ({served.fake.task('streams').id}).\n"
    assert "coder-tasks logs alice/streams -f" in created.stderr
    sent = served.cli("send", "streams", "More please", "--wait-ready", *POLL)
    assert sent.exit_code == 0, sent.output
    assert sent.stdout == "Sent input to alice/streams.\n"
    assert "Waiting for alice/streams" in sent.stderr


# -- errors --------------------------------------------------------------------------


def test_not_found_names_the_task(served: Served) -> None:
    for args in (["status", "no-such-task"], ["logs", "no-such-task"], ["wait", "no-such-task",
                 "--until", "idle"]):  # fmt: skip
        result = served.cli(*args)
        assert result.exit_code == 1
        assert "error: task no-such-task not found" in result.stderr
        assert "coder-tasks list" in result.stderr  # the hint
        no_python_leaks(result.stderr)


def test_delete_reports_each_argument(served: Served) -> None:
    served.make("del-a")
    result = served.cli("delete", "del-a", "nope", "-y")
    assert result.exit_code == 1
    assert "Deleted task alice/del-a" in result.stdout
    assert "task nope not found" in result.stderr
    assert served.fake.task("del-a").deleted


def test_delete_without_terminal_points_at_yes(served: Served) -> None:
    served.make("kept")
    result = served.cli("delete", "kept", input="")
    assert result.exit_code == 2
    assert "pass -y" in result.stderr and "Aborted" not in result.output
    assert "[y/N]" not in result.output  # no question nobody will answer
    assert not served.fake.task("kept").deleted


def test_cursor_file_directory_checked_before_any_request(served: Served) -> None:
    served.make("cursed")
    before = len(served.fake.requests)
    result = served.cli("logs", "cursed", "-f", "--cursor-file", "/nonexistent/dir/c.txt")
    assert result.exit_code == 2
    assert "--cursor-file: directory /nonexistent/dir does not exist" in result.stderr
    assert len(served.fake.requests) == before
    no_python_leaks(result.stderr)


def test_html_page_and_413_are_one_line(served: Served) -> None:
    served.fake.faults.add(Fault("list", "html", status=200))
    html = served.cli("list")
    assert html.exit_code == 1
    assert f"error: {served.fake.url} is not a Coder server: got an HTML page (HTTP 200)" in (
        html.stderr
    )
    assert "<html" not in html.stderr.lower()
    served.fake.faults.clear()
    served.fake.faults.add(Fault("create", "html", status=413, times=1))
    tv = str(served.fake.template_version_id)
    big = served.cli("create", "x" * 1000, "--template-version", tv, "--name", "big")
    assert big.exit_code == 1
    assert big.stderr.startswith("error: request too large")
    assert "non-JSON" not in big.stderr and "<" not in big.stderr
    served.fake.faults.add(Fault("create", "html", status=413, times=1))
    verbose = served.cli("create", "x", "--template-version", tv, "--name", "big2", "-v")
    assert "detail:" in verbose.stderr  # the body is there on request


def test_wait_timeout_names_task_and_state(served: Served) -> None:
    served.make("slowpoke")
    result = served.cli("wait", "slowpoke", "--until", "complete", "--timeout", "0.05")
    assert result.exit_code == 1
    assert "task alice/slowpoke did not reach complete within 0.05s (now: status" in (result.stderr)
    assert "--timeout" in result.stderr
    no_python_leaks(result.stderr)


def test_wait_and_follow_of_a_deleted_task(served: Served) -> None:
    for args in (["wait", "doomed", "--until", "complete"], ["logs", "doomed", "-f"]):
        task = served.make("doomed")
        results: list[Any] = []

        def invoke(a: list[str] = args, into: list[Any] = results) -> None:
            into.append(served.cli(*a, *POLL))

        worker = threading.Thread(target=invoke)
        worker.start()
        deadline = time.monotonic() + 10
        # Delete once the CLI has polled the task a few times.
        while sum(str(task.id) in r.path for r in served.fake.requests) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        served.call(served.fake.delete_out_of_band, task.id)
        worker.join(10)
        (result,) = results
        assert result.exit_code == 1, result.output
        assert "error: task alice/doomed was deleted" in result.stderr


def test_bad_values_list_the_valid_ones(served: Served) -> None:
    status = served.cli("list", "--status", "bogus")
    assert status.exit_code == 2
    assert "unknown status 'bogus'" in status.stderr and "active" in status.stderr
    until = served.cli("wait", "x", "--until", "Active,bogus")
    assert until.exit_code == 2 and "statuses:" in until.stderr and "idle" in until.stderr
    tv = served.cli("create", "x", "--template-version", "not-a-uuid")
    assert tv.exit_code == 2 and "template version id (a UUID)" in tv.stderr
    fmt = served.cli("list", "-o", "yaml")
    assert fmt.exit_code == 2 and "Value error" not in fmt.output
    for result in (status, until, tv):
        no_python_leaks(result.stderr)
        assert result.stderr.startswith("error: ")


def test_hints_for_send_refusals(served: Served) -> None:
    served.make("busy")
    result = served.cli("send", "busy", "hello")
    assert result.exit_code == 1
    assert "--wait-ready" in result.stderr
    no_python_leaks(result.stderr)


def test_describe_rate_limit_and_ambiguous() -> None:
    from coder_tasks_async import AmbiguousRequestError, RateLimitError
    from coder_tasks_async.cli._errors import describe

    limited = RateLimitError(
        retry_after=7.2, status=429, message="rate limited", method="GET", url="http://x/api/v2"
    )
    assert describe(limited)[0] == "rate limited by the server (HTTP 429): retry in 8s"
    url = "http://coder.example/api/v2/tasks/me"
    ambiguous = AmbiguousRequestError(f"{url}: reset", method="POST", url=url)
    message, hint = describe(ambiguous)
    assert message.count(url) == 1 and hint is not None


# -- inputs --------------------------------------------------------------------------


def test_any_case_status_and_until(served: Served) -> None:
    served.make("cased")
    listed = served.cli("list", "--status", "PENDING", "-q")
    assert listed.exit_code == 0, listed.output
    waited = served.cli("wait", "cased", "--until", "Active", *POLL)
    assert waited.exit_code == 0, waited.output
    assert "active" in waited.stdout


def test_url_without_scheme_suggests_https(served: Served) -> None:
    result = served.cli("list", "--url", "coder.example.com")
    assert result.exit_code == 2
    assert "did you mean https://coder.example.com" in result.stderr
    spaced = served.cli("list", "--url", "not a url")
    assert spaced.exit_code == 2 and "'not a url' is not a URL" in spaced.stderr
    assert "%20" not in spaced.stderr


def test_deprecated_user_flag_still_works(served: Served) -> None:
    served.make("aliased")
    result = served.cli("status", "aliased", "--user", "alice")
    assert result.exit_code == 0, result.output
    assert "--user is deprecated; use --owner" in result.stderr
    assert "--user" not in served.cli("status", "--help").stdout


def test_help_texts(served: Served) -> None:
    commands = ["list", "create", "status", "send", "pause", "resume", "delete", "wait",
                "logs", "demo", "fake-server", "version", "completion"]  # fmt: skip
    for command in commands:
        text = served.cli(command, "--help", COLUMNS="200").stdout
        assert "Example:" in text, command
        for leak in ("<bool>", "<list[str]>", "{task}", "<str>", "<float>"):
            assert leak not in text, (command, leak)
    create = served.cli("create", "--help", COLUMNS="200").stdout
    assert "CODER_TASK_TEMPLATE_VERSION" in create
    demo = served.cli("demo", "--help", COLUMNS="200").stdout
    assert "$CODER_URL is not used" in demo
    wait = served.cli("wait", "--help", COLUMNS="200").stdout
    assert "600" in wait and "0: wait forever" in wait


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


# -- additions -----------------------------------------------------------------------


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


def test_logs_tail_and_since(served: Served) -> None:
    served.make("tailed")
    served.cli("wait", "tailed", "--until", "idle", *POLL)
    full = served.cli("logs", "tailed", "-o", "json")
    entries = json.loads(full.stdout)["logs"]
    assert len(entries) >= 2
    tail = served.cli("logs", "tailed", "--tail", "1", "-o", "json")
    assert json.loads(tail.stdout)["logs"] == entries[-1:]
    since = served.cli("logs", "tailed", "--since", "1h", "-o", "json")
    assert json.loads(since.stdout)["logs"] == entries
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


# -- real pipes, signals and start-up --------------------------------------------------


def test_closed_pipe_ends_quietly_with_zero(served: Served) -> None:
    for i in range(40):
        served.make(f"piped-{i}")
    commands = [
        ["list", "-q"],
        ["list", "-o", "json"],
        ["logs", "piped-0", "-f", "--until", "idle"],
    ]
    procs = [
        subprocess.Popen(
            [*CLI, *args],
            env=served.subprocess_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for args in commands
    ]
    for proc in procs:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.readline()
        proc.stdout.close()  # like `| head -1` exiting
    for args, proc in zip(commands, procs, strict=True):
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        proc.stderr.close()
        assert proc.wait(20) == 0, (args, err)
        assert "Traceback" not in err and "Exception ignored" not in err, err


def test_help_does_not_import_the_client() -> None:
    # One interpreter runs several invocations (each ends in SystemExit), then reports.
    code = (
        "import sys\n"
        "from coder_tasks_async.cli import main\n"
        "for args in (['--help'], ['list', '--help'], ['list', '--bogus'], ['wait', 'x']):\n"
        "    sys.argv = ['coder-tasks', *args]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print('LOADED', 'aiohttp' in sys.modules, 'coder_tasks_async._facade' in sys.modules,"
        " file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert "LOADED False False" in proc.stderr, proc.stderr
    assert "Missing option '--until'" in proc.stderr  # the last invocation did run


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


def test_send_to_paused_task_points_at_resume(served: Served) -> None:
    served.make("napping")
    assert served.cli("wait", "napping", "--until", "idle", *POLL).exit_code == 0
    assert served.cli("pause", "napping").exit_code == 0
    plain = served.cli("send", "napping", "hello")
    assert plain.exit_code == 1
    assert "task napping is paused" in plain.stderr and "--wait-ready --resume" in plain.stderr
    waiting = served.cli("send", "napping", "hello", "--wait-ready", *POLL)
    assert waiting.exit_code == 1
    assert "is paused" in waiting.stderr and "--resume" in waiting.stderr
    no_python_leaks(waiting.stderr)
    resumed = served.cli("send", "napping", "hello", "--wait-ready", "--resume", *POLL)
    assert resumed.exit_code == 0, resumed.output


def test_html_404_is_not_a_coder_server(served: Served) -> None:
    served.fake.faults.add(Fault("list", "html", status=404))
    result = served.cli("list")
    assert result.exit_code == 1
    assert f"{served.fake.url} is not a Coder server: got an HTML page (HTTP 404)" in (
        result.stderr
    )
    assert "not found (or you cannot see it)" not in result.stderr


@pytest.mark.parametrize("served", ["v2.26.0", "v2.28.0", "v2.29.0"], indirect=True)
def test_additions_on_older_profiles(served: Served) -> None:
    created = served.cli(
        "create", "Old server", "--template", "claude-code-agent", "--name", "old", "--follow",
        *POLL,
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert "Done: Old server" in created.stdout
    tail = served.cli("logs", "old", "--tail", "1", "-o", "json")
    assert tail.exit_code == 0 and len(json.loads(tail.stdout)["logs"]) == 1
    version = served.cli("version")
    assert f"Coder {served.fake.server_version}" in version.stdout
    listed = served.cli("list", "-c", "name,status,state")
    assert listed.exit_code == 0 and listed.stdout.splitlines()[1].split()[0] == "old"
