"""``coder-tasks`` errors: one line naming the subject, a hint naming the flag, no Python."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cli_support import POLL, Served, no_python_leaks, served

from coder_tasks_async.testing import Fault, RecordedRequest

__all__ = ["served"]  # the fixture, imported for pytest


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


def test_html_404_is_not_a_coder_server(served: Served) -> None:
    served.fake.faults.add(Fault("list", "html", status=404))
    result = served.cli("list")
    assert result.exit_code == 1
    assert f"{served.fake.url} is not a Coder server: got an HTML page (HTTP 404)" in (
        result.stderr
    )
    assert "not found (or you cannot see it)" not in result.stderr


def test_wait_timeout_names_task_and_state(served: Served) -> None:
    served.make("slowpoke")
    result = served.cli("wait", "slowpoke", "--until", "complete", "--timeout", "0.05")
    assert result.exit_code == 1
    assert "task alice/slowpoke did not reach complete within 0.05s (now: status" in (result.stderr)
    assert "--timeout" in result.stderr
    no_python_leaks(result.stderr)


def test_wait_follow_and_watch_of_a_deleted_task(served: Served) -> None:
    commands = (
        ["wait", "doomed", "--until", "complete"],
        ["logs", "doomed", "-f"],
        ["status", "doomed", "--watch"],  # on an errored task, so the watch cannot end
    )
    for args in commands:
        task = served.make("doomed")
        if "--watch" in args:
            served.call(served.fake.set_error, task.id)
        results: list[Any] = []

        def invoke(a: list[str] = args, into: list[Any] = results) -> None:
            into.append(served.cli(*a, *POLL))

        seen: list[RecordedRequest] = []
        polled_twice = threading.Event()

        def count_polls(
            request: RecordedRequest,
            task_id: str = str(task.id),
            seen: list[Any] = seen,
            polled_twice: threading.Event = polled_twice,
        ) -> None:
            # Runs on the fake's own thread, right after it answered the request.
            if task_id in request.path:
                seen.append(request)
                if len(seen) == 2:
                    polled_twice.set()

        served.call(served.fake.request_observers.append, count_polls)
        worker = threading.Thread(target=invoke)
        worker.start()
        # Deleted once the command has polled twice, whenever that is: a third poll may
        # come only after the slow idle pace (150 s) when the watch stream reports the
        # agent idle; the deletion ends the stream, which makes the command poll at once.
        assert polled_twice.wait(30), args
        served.call(served.fake.delete_out_of_band, task.id)
        worker.join(30)
        served.call(served.fake.request_observers.remove, count_polls)
        assert not worker.is_alive(), args
        assert len(seen) >= 3, args
        (result,) = results
        assert result.exit_code == 1, (args, result.output)
        assert "error: task alice/doomed was deleted" in result.stderr


def test_bad_values_list_the_valid_ones(served: Served) -> None:
    status = served.cli("list", "--status", "bogus")
    assert status.exit_code == 2
    assert "unknown status 'bogus'" in status.stderr and "active" in status.stderr
    until = served.cli("wait", "x", "--until", "Active,bogus")
    assert until.exit_code == 2 and "statuses:" in until.stderr and "idle" in until.stderr
    # Not a UUID: a version *name*, looked up as `coder task create` does.
    tv = served.cli("create", "x", "--template-version", "not-a-version")
    assert tv.exit_code == 1 and "has no version named not-a-version" in tv.stderr
    preset = served.cli("create", "x", "--preset", "My Preset")
    assert preset.exit_code == 2 and "--preset 'My Preset'" in preset.stderr
    assert "Default" in preset.stderr  # the presets there are
    fmt = served.cli("list", "-o", "yaml")
    assert fmt.exit_code == 2 and "Value error" not in fmt.output
    for result in (status, until, tv, preset):
        no_python_leaks(result.stderr)
        assert result.stderr.startswith("error: ")


def test_hints_for_send_refusals(served: Served) -> None:
    task = served.make("busy")
    served.call(served.fake.set_error, task.id)  # not active, whatever the timing
    result = served.cli("send", "busy", "hello", "--no-wait-ready")
    assert result.exit_code == 1
    assert "task busy is" in result.stderr and "not active" in result.stderr
    assert "without --no-wait-ready" in result.stderr
    no_python_leaks(result.stderr)


def test_send_to_paused_task_points_at_resume(served: Served) -> None:
    served.make("napping")
    assert served.cli("wait", "napping", "--until", "idle", *POLL).exit_code == 0
    assert served.cli("pause", "napping").exit_code == 0
    at_once = served.cli("send", "napping", "hello", "--no-wait-ready")
    assert at_once.exit_code == 1
    assert "task napping is paused" in at_once.stderr and "--no-resume" in at_once.stderr
    left = served.cli("send", "napping", "hello", "--no-resume", *POLL)
    assert left.exit_code == 1
    assert "is paused" in left.stderr and "--no-resume" in left.stderr
    no_python_leaks(left.stderr)
    # By default a paused task is resumed first, as `coder task send` (v2.32) does.
    resumed = served.cli("send", "napping", "hello", *POLL)
    assert resumed.exit_code == 0, resumed.output
    assert "Resuming alice/napping, then sending" in resumed.stderr


def test_describe_rate_limit_and_ambiguous() -> None:
    from coder_tasks_async import AmbiguousRequestError, RateLimitError
    from coder_tasks_async.cli._error_messages import describe

    limited = RateLimitError(
        retry_after=7.2, status=429, message="rate limited", method="GET", url="http://x/api/v2"
    )
    assert describe(limited)[0] == "rate limited by the server (HTTP 429): retry in 8s"
    url = "http://coder.example/api/v2/tasks/me"
    ambiguous = AmbiguousRequestError(f"{url}: reset", method="POST", url=url)
    message, hint = describe(ambiguous)
    assert message.count(url) == 1 and hint is not None


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


@pytest.mark.parametrize(
    "command", [["status"], ["wait", "--until", "pending,initializing,active"], ["logs"]]
)
def test_the_watching_options_are_the_same_on_every_command(
    served: Served, command: list[str]
) -> None:
    """``--owner``, ``--user``, ``--poll-interval`` and ``--no-watch`` come from one
    declaration (``@watching_options``): each command takes all of them."""
    served.make("watched")
    name, *rest = command
    args = [name, "watched", *rest, "--poll-interval", "0.05"]
    owned = served.cli(*args, "--owner", "alice")
    assert owned.exit_code == 0, owned.output
    aliased = served.cli(*args, "--user", "alice")
    assert aliased.exit_code == 0, aliased.output
    assert "--user is deprecated; use --owner" in aliased.stderr
    help_text = served.cli(name, "--help").stdout
    assert "--owner" in help_text and "--poll-interval" in help_text
    assert "--no-watch" in help_text and "--user" not in help_text


def test_a_bug_is_one_line_and_v_shows_where(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    from coder_tasks_async.cli import _list

    def broken(*_: object, **__: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(_list, "print_table", broken)
    served.make("buggy")
    plain = served.cli("list")
    assert plain.exit_code == 1
    assert "error: unexpected failure: 'boom'" in plain.stderr
    assert "Traceback" not in plain.stderr and "bug in coder-tasks" in plain.stderr
    verbose = served.cli("list", "-v")
    assert "Traceback" in verbose.stderr and "broken" in verbose.stderr


def test_refused_query_names_the_flag(served: Served) -> None:
    result = served.cli("list", "--org", "nope")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: request refused (HTTP 400): Invalid task search query;")
    assert 'organization "nope"' in result.stderr and "hint: check --org" in result.stderr


def test_an_unknown_organization_is_named(served: Served) -> None:
    # coder fails with "get current organization: …"; before, this said "no task
    # templates configured", or "template … not found", without a word on the org.
    for args, env in (
        (["create", "p"], {"CODER_ORGANIZATION": "nosuchorg"}),
        (["create", "p", "-O", "nosuchorg", "--template", "claude-code-agent"], {}),
    ):
        result = served.cli(*args, **env)
        assert result.exit_code == 1, result.output
        error, hint = result.stderr.splitlines()
        assert error == (
            "error: get current organization: organization 'nosuchorg' not found "
            "(no template you can see is in it)"
        )
        assert hint.startswith("hint: -O/--org and $CODER_ORGANIZATION take")
        assert hint.endswith("your templates are in: coder")
    assert not any(r.route == "create" for r in served.fake.requests)  # nothing created
