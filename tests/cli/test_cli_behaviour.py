"""What ``coder task`` users expect: waits that say why, idempotent pause, wording, completion.

Most checks run the typer app in-process against a real-time FakeCoder (they are
about what is printed and the exit code); completion runs the real process the
shell would start.
"""

from __future__ import annotations

import json
import re

import pytest
from cli_support import (
    CLI,
    FROZEN_TIMINGS,
    POLL,
    Frozen,
    Served,
    frozen,
    no_python_leaks,
    run_cli,
    served,
)

__all__ = ["frozen", "served"]


def settled(served: Served, name: str, prompt: str = "") -> str:
    task = served.make(name, prompt)
    assert served.cli("wait", name, "--until", "idle", *POLL).exit_code == 0
    return str(task.id)


def test_wait_on_a_paused_task_says_so_and_never_takes_its_old_state(served: Served) -> None:
    settled(served, "sleeper")
    assert served.cli("pause", "sleeper").exit_code == 0
    # The paused task's stored state is `idle`: that must not count (it used to, at once).
    for until in ("idle", "active"):
        waited = served.cli("wait", "sleeper", "--until", until, "--timeout", "0.3", *POLL)
        assert waited.exit_code == 1, waited.output
        assert "task alice/sleeper is paused: waiting until someone resumes it" in waited.stderr
        assert f"did not reach {until} within 0.3s (now: status paused" in waited.stderr
    paused = served.cli("wait", "sleeper", "--until", "paused", "-o", "json")
    assert paused.exit_code == 0 and json.loads(paused.stdout)["status"] == "paused"


@pytest.mark.parametrize("served", ["v2.26.0"], indirect=True)
def test_waiting_for_a_status_v2_26_never_reports_is_refused(served: Served) -> None:
    tv = str(served.fake.template_version_id)
    assert served.cli("create", "Old", "--template-version", tv, "--name", "old").exit_code == 0
    active = served.cli("wait", "old", "--until", "active", "--timeout", "5")
    assert active.exit_code == 2, active.output
    assert "reports no task status (Coder v2.26 and v2.27 do not)" in active.stderr
    assert "--until idle" in active.stderr
    # Agent states do work there (v2.26 spells `completed`; both spellings are one state).
    idle = served.cli("wait", "old", "--until", "idle,completed", "--timeout", "20", *POLL)
    assert idle.exit_code == 0, idle.output


def test_pause_of_a_paused_task_sends_nothing(served: Served) -> None:
    settled(served, "napper")
    first = served.cli("pause", "napper", "-y")
    assert first.exit_code == 0 and first.stdout == "Paused task alice/napper.\n"
    posts = [r for r in served.fake.requests if r.method == "POST"]
    again = served.cli("pause", "napper", "--yes")
    assert again.exit_code == 0 and again.stdout == "Task alice/napper is already paused.\n"
    assert [r for r in served.fake.requests if r.method == "POST"] == posts
    # resume waits until the task is active again; a running task is left alone too.
    resumed = served.cli("resume", "napper", *POLL)
    assert resumed.exit_code == 0 and resumed.stdout == "Resumed task alice/napper.\n"
    assert served.call(lambda: served.fake.task("napper").status) == "active"
    left = served.cli("resume", "napper")
    assert left.exit_code == 0 and "nothing to resume" in left.stdout


def test_hints_list_only_real_states_and_o_lists_its_values(served: Served) -> None:
    bad = served.cli("wait", "x", "--until", "snoozing")
    assert bad.exit_code == 2
    hint = bad.stderr.splitlines()[1]
    assert hint == (
        "hint: statuses: pending, initializing, active, paused, error, unknown; "
        "states: working, idle, complete, failed"
    )
    for command in ("list", "status", "logs", "wait", "create"):
        shown = served.cli(command, "--help", COLUMNS="200").stdout
        assert "-o, --output table|json" in shown and "table or json" in shown, command
    # --preset takes a name, as coder's (which has no help text for it), or an id.
    shown = " ".join(served.cli("create", "--help", COLUMNS="200").stdout.split())
    assert "--preset NAME|UUID Preset name (or id); 'none' for none." in shown


def test_errors_name_flags_not_sdk_parameters() -> None:
    from coder_tasks_async.cli._error_messages import describe

    assert describe(ValueError("template_version_preset_id must be a UUID, got 'x'"))[0] == (
        "--preset must be a UUID, got 'x'"
    )
    assert describe(ValueError("follow_logs.idle_timeout must be finite and positive"))[0] == (
        "--idle-timeout must be finite and positive"
    )


def test_create_dash_reads_stdin_and_quiet_json(served: Served) -> None:
    created = served.cli("create", "-", "--name", "dashed", "-q", "-o", "json",
                         input="From stdin\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert json.loads(created.stdout) == str(served.fake.task("dashed").id)
    assert served.fake.task("dashed").prompt == "From stdin"
    listed = served.cli("list", "-q", "-o", "json")
    assert json.loads(listed.stdout) == [str(served.fake.task("dashed").id)]
    empty = served.cli("create", "-", input="  \n")
    assert empty.exit_code == 2 and "a task cannot be started with an empty input" in empty.stderr


def test_status_watch_prints_one_header_and_aligned_columns(served: Served) -> None:
    served.make("watched", "Make it so " * 3)
    watch = served.cli("status", "watched", "--watch", *POLL)
    assert watch.exit_code == 0, watch.output
    header, *rows = watch.stdout.splitlines()
    assert header.split() == ["STATE", "CHANGED", "STATUS", "HEALTHY", "STATE", "MESSAGE"]
    assert len(rows) >= 2 and all("STATUS" not in row for row in rows)
    starts = [m.start() for m in re.finditer(r"STATUS|HEALTHY|(?<= )STATE|MESSAGE", header)]
    for row in rows:
        for start in starts:
            assert row[start - 1] == " " and row[start] != " ", (header, row)


def complete(served: Served, words: str) -> list[str]:
    """What the shell's completion hook gets for the command line ``words``."""
    env = {**served.subprocess_env(), "_CODER_TASKS_COMPLETE": "complete_bash"}
    env.update(COMP_WORDS=words, COMP_CWORD=str(len(words.split()) - (not words.endswith(" "))))
    return run_cli(env).stdout.split()


def test_completion_offers_task_names_and_values(served: Served) -> None:
    served.make("fix-login")
    served.make("fix-logout")
    served.make("tidy")
    assert CLI  # the hook runs the real command
    assert complete(served, "coder-tasks logs fix-") == ["fix-login", "fix-logout"]
    assert complete(served, "coder-tasks stat ") == ["fix-login", "fix-logout", "tidy"]
    assert complete(served, "coder-tasks list --status ac") == ["active"]
    assert complete(served, "coder-tasks list -o ") == ["table", "json"]
    assert complete(served, "coder-tasks wait tidy --until idle,c") == ["idle,complete"]


def test_logs_say_what_coder_says_about_snapshots_and_no_logs(frozen: Frozen) -> None:
    task = frozen.create("quiet-one", "Tidy up")
    empty = frozen.cli("logs", "quiet-one", "-o", "json")  # pending: nothing yet
    assert empty.exit_code == 0 and empty.stdout == "", empty.output
    assert empty.stderr.splitlines()[-1] == "No task logs found."
    frozen.advance(7)  # active, and the reply is done
    frozen.sdk(lambda coder: coder.pause_task(task.id))
    stopping = frozen.cli("logs", "quiet-one", "-o", "json")  # the stop build runs
    assert stopping.exit_code == 1 and "unknown" in stopping.stderr, stopping.output
    no_python_leaks(stopping.stderr)
    frozen.advance(FROZEN_TIMINGS.stop_job)  # the stop build has ended: paused
    paused = frozen.cli("logs", "quiet-one", "-o", "json")
    assert paused.exit_code == 0, paused.output
    assert paused.stderr == "warning: Task is paused. Showing last 3 messages from snapshot.\n"
    assert [e["id"] for e in json.loads(paused.stdout)] == [0, 1, 2]
    # --tail (ours; coder has none): the warning counts the messages shown, not stored.
    tailed = frozen.cli("logs", "quiet-one", "--tail", "1", "-o", "json")
    assert tailed.stderr == "warning: Task is paused. Showing last 1 message from snapshot.\n"
    assert [e["id"] for e in json.loads(tailed.stdout)] == [2]
