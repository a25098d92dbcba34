"""The README's fleet bot ("A fleet of bots that survives kill -9"), run as written.

    python readme_bot.py URL TOKEN NAME LEASE      # in the directory of fleet.sqlite3

The block is read from README.md the way the docs tests read it (tests/docs/codeblocks.py)
and its ``run_bot`` runs with a short ``lease``, on a client that polls quickly (the
block uses the client's pace).  It prints ``ready`` and runs until killed; a reply
posted twice breaks the outbox's primary key, and the process dies of it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS), str(TESTS / "docs")]

import anyio  # noqa: E402 -- after the path the tests' modules are found on
from codeblocks import ROOT, markdown_blocks  # noqa: E402

from coder_tasks_async import CoderTasksClient, PollPolicy  # noqa: E402

PACE = PollPolicy(initial=0.1, maximum=0.4, jitter=0.0)


def readme_fleet_bot() -> Any:
    """``run_bot`` of the README's fleet block, the block run in a namespace of its own."""
    [block] = [b for b in markdown_blocks(ROOT / "README.md") if "follow_fleet(" in b.code]
    namespace: dict[str, Any] = {}
    exec(compile(block.code, block.where, "exec"), namespace)
    return namespace["run_bot"]


async def main(url: str, token: str, name: str, lease: str) -> None:
    run_bot = readme_fleet_bot()
    async with CoderTasksClient(url, token=token, poll=PACE) as coder:
        print("ready", flush=True)
        await run_bot(coder, name, float(lease))


if __name__ == "__main__":
    anyio.run(main, *sys.argv[1:5])
