"""A server that stops answering under a long-running command is said aloud, then given up on.

Real ``coder-tasks`` processes follow, watch and wait on a FakeCoder that then dies
(or answers only 503s for a while).  Issue 23: they used to retry forever with an
empty stderr.
"""

from __future__ import annotations

import threading

from cli_support import POLL, Running, Served, served
from helpers import eventually

from coder_tasks_async.testing import Fault, RecordedRequest

__all__ = ["served"]


def test_a_dead_server_is_reported_then_given_up_on(served: Served) -> None:
    served.make("followed")
    served.make("watched")
    served.make("awaited")
    served.call(served.fake.set_error, served.fake.task("watched").id)  # the watch cannot end
    env = served.subprocess_env()
    # Polling only: the fake's shutdown is not what is tested, and open watch streams
    # make it leave a server-side socket to the garbage collector.
    limit = ["--retry-for", "1", "--no-watch", *POLL]
    runs = {
        "logs": Running(["logs", "followed", "-f", "-o", "json", *limit], env),
        "status": Running(["status", "watched", "--watch", *limit], env),
        # The limit from the environment this time ($CODER_TASKS_RETRY_FOR).
        "wait": Running(
            ["-v", "wait", "awaited", "--until", "complete", "--timeout", "0", *limit[2:]],
            {**env, "CODER_TASKS_RETRY_FOR": "1"},
        ),
    }
    try:
        runs["logs"].until(lambda line: line.startswith("{"), "the first entry")
        runs["status"].until(lambda line: "error" in line, "the errored task")
        runs["wait"].err_until("/awaited -> 200")
        served.call(served.fake.close)
        results = {name: run.finish() for name, run in runs.items()}
    finally:
        for run in runs.values():
            run.close()
    url = served.fake.url
    for name, (code, _, err) in results.items():
        assert code == 1, (name, err)
        assert f"warning: cannot reach {url} (connection refused); retrying for 1 s" in err, err
        assert f"error: cannot reach {url}: no answer for 1 s (connection refused)" in err, err
        assert "Traceback" not in err


def test_a_server_that_comes_back_is_said_to(served: Served) -> None:
    served.make("patient")
    args = ["wait", "patient", "--until", "complete", "--timeout", "0", "--retry-for", "4"]
    args.append("--no-watch")
    run = Running(["-v", *args, *POLL], served.subprocess_env())
    try:
        run.err_until("/patient -> 200")  # it is waiting: now the server fails
        served.fake.faults.add(Fault("*", "status", status=503))
        run.err_until("warning: cannot reach")
        assert "(HTTP 503); retrying for 4 s" in run.err
        served.fake.faults.clear()
        run.err_until(f"{served.fake.url} answers again.")
        code, _, err = run.interrupt()
    finally:
        run.close()
    assert code == 130 and "error:" not in err, err


def test_a_dead_server_under_a_watch_stream_is_reported(served: Served) -> None:
    # logs -f as run by default: on the workspace's watch stream, not polling.  The fake
    # is closed only once the stream is open: closed while a stream was being opened it
    # left a server-side socket to the garbage collector (1 run in ~8; none in 16 since).
    served.make("streamed")
    env = served.subprocess_env()
    stream = threading.Event()

    def observe(request: RecordedRequest) -> None:
        if request.route == "watch_ws":
            stream.set()

    served.call(served.fake.request_observers.append, observe)
    run = Running(["logs", "streamed", "-f", "-o", "json", "--retry-for", "1", *POLL], env)
    try:
        run.until(lambda line: line.startswith("{"), "the first entry")
        assert stream.wait(30)  # the follower asked for the workspace's stream...
        # ...and the fake has it open (the observer fires when the request is recorded,
        # before the upgrade: closing then is the mid-open window the comment above names).
        served.call(eventually, lambda: served.fake.watch.open_streams >= 1, "the open stream")
        served.call(served.fake.close)
        code, _, err = run.finish()
    finally:
        run.close()
    url = served.fake.url
    assert code == 1, err
    assert f"warning: cannot reach {url} (connection refused); retrying for 1 s" in err, err
    assert f"error: cannot reach {url}: no answer for 1 s (connection refused)" in err, err
