"""A shell script written for ``coder task`` runs unchanged with ``coder-tasks``.

The script below is what a ``coder`` user writes (flags, aliases, environment
variables, JSON shapes of ``coder task`` at v2.31.1/v2.32.0); the test runs it
with ``coder task`` standing for ``coder-tasks``, every line a real process, and
checks what each printed.  Issue 23 lists each of these as failing (exit 2) or
printing another shape before.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import uuid

from cli_support import CLI, Served, served

__all__ = ["served"]

#: ``coder task …`` lines; ``coder task`` becomes ``coder-tasks`` and ``$PY`` Python.
SCRIPT = r"""
set -eu
coder() { [ "$1" = task ] && shift; $CT "$@"; }
section() { echo "== $1"; }
py() { $PY -c "import json, sys; data = json.load(sys.stdin); print($1)"; }
export CODER_TASK_TEMPLATE_NAME=claude-code-agent CODER_ORGANIZATION=coder

section create-env;   coder task create --name s1 "Fix the flaky login test"
section create-named; coder task create -O coder --template claude-code-agent \
                        --template-version v1 --preset none --name s2 "Second"
section create-stdin; echo "Third, from stdin" | coder task create --stdin --name s3 -q
$CT wait s1 --until idle --poll-interval 0.05 -o json > /dev/null
section ls;           coder task ls
section columns;      coder task list -c name,"template name",status,"created at"
section quiet;        coder task list -q
section json;         coder task list -o json | py 'sorted(t["name"] for t in data)'
section stat;         coder task stat s1 -c "state changed",status,healthy,state
section logs-json;    coder task logs s1 -o json | py '[e["type"] for e in data]'
section logs-cols;    coder task logs s1 -c id,type
section send;         coder task send s1 "Please also add a regression test"
section pause;        coder task pause s1 --yes
section pause-again;  coder task pause s1 -y
section logs-paused;  coder task logs s1 -c type 2>&1
section send-paused;  coder task send s1 "While paused" 2>/dev/null
coder task pause s1 -y > /dev/null
section resume;       coder task resume s1 --no-wait
section rm;           coder task rm s2 s3 -y
section header-env;   CODER_HEADER="X-Trace=from-env,X-Other=2" coder task ls -q
section header-cmd;   coder task ls -q --header-command 'echo X-From-Command=yes'
section global;       $CT --url "$CODER_URL" --no-version-warning -v ls -q \
                        --no-feature-warning 2>&1 | grep -c '^debug: GET'
section verbose-env;  CODER_VERBOSE=true coder task ls -q 2>&1 | grep -c '^debug: GET'
section times;        coder task list -o json | grep -o '"created_at": "[^"]*"' | head -1
section preset;       coder task create --preset Default --name s4 -q "With a preset"
unset CODER_TASK_TEMPLATE_NAME
section only-template; coder task create --name s5 -q "The only AI template"
"""


def sections(out: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    current = ""
    for line in out.splitlines():
        if line.startswith("== "):
            current = line[3:]
            found[current] = []
        elif current:
            found[current].append(line)
    return found


def test_a_coder_task_script_runs_unchanged(served: Served) -> None:
    env = {**served.subprocess_env(), "CT": " ".join(CLI), "PY": sys.executable}
    env["COLUMNS"] = "200"
    done = subprocess.run(["sh", "-c", SCRIPT], env=env, capture_output=True, text=True,
                          timeout=240, check=False)  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    out = sections(done.stdout)
    fake = served.fake

    # create: template from $CODER_TASK_TEMPLATE_NAME, a version by name, stdin, -q.
    assert out["create-env"] == [f"Created task alice/s1 ({fake.task('s1').id})."]
    assert fake.task("s2").template_version_id == fake.template_version_id  # "v1" by name
    assert out["create-stdin"] == [str(fake.task("s3").id)]
    assert fake.task("s3").prompt == "Third, from stdin"
    # ls: coder's default columns, sorted by name.
    assert out["ls"][0].split() == ["NAME", "STATUS", "STATE", "STATE", "CHANGED", "MESSAGE"]
    assert [row.split()[0] for row in out["ls"][1:]] == ["s1", "s2", "s3"]
    assert out["columns"][0].split() == ["NAME", "TEMPLATE", "NAME", "STATUS", "CREATED", "AT"]
    assert out["columns"][1].split()[1] == "claude-code-agent"
    assert re.fullmatch(r"\S+Z", out["columns"][1].split()[3])
    assert {uuid.UUID(line) for line in out["quiet"]} == {
        fake.task(n).id for n in ("s1", "s2", "s3")
    }
    assert out["json"] == ["['s1', 's2', 's3']"]
    assert out["stat"][0].split() == ["STATE", "CHANGED", "STATUS", "HEALTHY", "STATE"]
    assert out["stat"][1].split()[-3:] == ["active", "true", "idle"]
    # logs -o json: an array of entries, as coder prints it (scripts do `jq '.[]'`).
    assert out["logs-json"] == ["['output', 'input', 'output']"]
    assert out["logs-cols"] == ["ID  TYPE", "0   output", "1   input", "2   output"]
    # send waits until the agent is ready; pause waits for the stop; a paused task is left.
    assert out["send"] == ["Sent input to alice/s1."]
    assert [d[1] for d in fake.deliveries][-2:] == [
        "Please also add a regression test",
        "While paused",
    ]
    assert out["pause"] == ["Paused task alice/s1."]
    assert out["pause-again"] == ["Task alice/s1 is already paused."]
    # logs of a paused task: coder's snapshot warning (on stderr, here with 2>&1), then it.
    warning = "warning: Task is paused. Showing last 5 messages from snapshot."
    assert out["logs-paused"][0] == warning
    assert out["logs-paused"][1:] == ["TYPE", "output", "input", "output", "input", "output"]
    # send to a paused task resumes it, waits until it is ready, then delivers (coder v2.32).
    assert out["send-paused"] == ["Sent input to alice/s1."]
    acts = [r.route for r in fake.requests if r.route in ("send", "pause", "resume")]
    # send, pause, (pause-again sends nothing), send-paused: resume then send; pause; resume.
    assert acts == ["send", "pause", "resume", "send", "pause", "resume"]
    assert out["resume"] == ["Resuming task alice/s1 in the background."]
    assert out["rm"] == ["Deleted task alice/s2.", "Deleted task alice/s3."]
    # $CODER_HEADER (comma-separated) and --header-command reach the server.
    headers = [r.headers for r in fake.requests if r.method == "GET"]
    assert any(h.get("X-Trace") == "from-env" and h.get("X-Other") == "2" for h in headers)
    assert any(h.get("X-From-Command") == "yes" for h in headers)
    # Global flags before the command (and coder's two warning silencers, ignored).
    assert int(out["global"][0]) >= 1
    assert int(out["verbose-env"][0]) >= 1  # $CODER_VERBOSE, as coder reads it
    # Times in RFC 3339 with Z, as Go writes them.
    (created,) = out["times"]
    assert re.fullmatch(r'"created_at": "\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z"', created)
    assert json.loads("{" + created + "}")["created_at"].endswith("Z")
    # --preset by name, as coder takes it: looked up among the version's presets.
    assert out["preset"] == [str(fake.task("s4").id)]
    assert [r.route for r in fake.requests].count("list_presets") == 1
    # No $CODER_TASK_TEMPLATE_NAME and no --template: the only template with an AI task.
    assert out["only-template"] == [str(fake.task("s5").id)]
    assert fake.task("s5").template_version_id == fake.template_version_id


#: ``coder task list``'s columns at v2.33.0-rc.1: the ``table:`` tags of ``codersdk.Task``
#: (``cs,recursive_inline`` stands for its ``current_state``'s ``state`` and ``message``)
#: and ``state changed`` from ``cli/task_list.go``, in source order; typed in as data.
CODER_LIST_COLUMNS = [
    "id", "organization id", "owner id", "owner name", "owner avatar url", "name",
    "display_name", "template id", "template version id", "template name",
    "template display name", "template icon", "workspace id", "workspace name",
    "workspace status", "workspace build number", "workspace agent id",
    "workspace agent lifecycle", "workspace agent health", "workspace app id",
    "initial prompt", "status", "state", "message", "created at", "updated at",
    "state changed",
]  # fmt: skip


def test_list_takes_all_of_coders_columns(served: Served) -> None:
    served.make("every-column", "Show me everything")
    assert len(CODER_LIST_COLUMNS) == 27
    shown = served.cli("list", "-c", ",".join(CODER_LIST_COLUMNS), "-w")
    assert shown.exit_code == 0, shown.output
    header, row = shown.stdout.splitlines()
    # Columns are two spaces apart at least; no header holds two spaces running.  Coder's
    # table turns "_" into a space (cli/cliui/table.go), so display_name is DISPLAY NAME.
    wanted = [c.upper().replace("_", " ") for c in CODER_LIST_COLUMNS]
    assert re.split(r"\s{2,}", header.strip()) == wanted
    assert row.startswith(str(served.fake.task("every-column").id))
