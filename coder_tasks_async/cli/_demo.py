"""``demo``: fan out tasks, tail their conversations merged, answer one, summarize, clean up.

The flow lives in ``_demo_flow`` and is imported only when the command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ._app import command
from ._connection import check_url
from ._error_messages import CliError
from ._options import TEMPLATE_VERSION_ENV
from ._runner import run, usage_error

__all__ = ["demo"]


@command("demo")
def demo(
    tasks: Annotated[
        int, typer.Option("--tasks", help="How many tasks to fan out.", min=1, metavar="N")
    ] = 20,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", help="At most this many creates at once.", min=1, metavar="N"
        ),
    ] = 8,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout", help="Give up after this many seconds.", min=1, metavar="SECONDS"
        ),
    ] = 300.0,
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="Run against this deployment instead of an embedded fake Coder "
            "($CODER_URL is not used: the demo creates and deletes tasks).",
            show_default=False,
            metavar="URL",
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", help="With --url: session token.", metavar="TOKEN"),
    ] = None,
    template_version: Annotated[
        str | None,
        typer.Option(
            "--template-version",
            envvar=TEMPLATE_VERSION_ENV,
            help="With --url: template version id (UUID) for the tasks.",
            show_envvar=True,
            metavar="UUID",
        ),
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option("--preset", help="With --url: template version preset id.", metavar="UUID"),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            "--speed",
            help="Without --url: run the embedded fake this many times faster.",
            metavar="FACTOR",
        ),
    ] = 1.0,
) -> None:
    """Fan out tasks, tail them merged, answer one, summarize and clean up.

    Without --url this runs against an embedded fake Coder and needs nothing else.

    Example: coder-tasks demo --tasks 5
    """
    if url is None and token is not None:
        usage_error("--token needs --url (without --url the demo runs on an embedded fake)")
    if speed <= 0:
        usage_error("--speed must be positive")

    if url is not None:
        try:
            url = check_url(url)
        except CliError as exc:
            usage_error(exc.message)

    async def main() -> None:
        from ._demo_flow import run_demo

        await run_demo(
            url=url,
            token=token,
            template_version=template_version if url else None,
            preset=preset if url else None,
            tasks=tasks,
            concurrency=concurrency,
            timeout=timeout,
            speed=speed,
        )

    run(main)
