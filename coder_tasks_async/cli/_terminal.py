"""Where output goes and how it looks: results on stdout, everything else on stderr.

Colour and bold are only for people: a stream is styled when it is a terminal,
``NO_COLOR`` is unset or empty (https://no-color.org: "when present and not an empty
string") and ``TERM`` is not ``dumb``.  Styling is a few SGR codes written here, not
rich: the everyday commands then never import rich (about 35 ms of every start).

Widths are display cells, not characters: a Japanese prompt takes two cells a
character.  ASCII text (nearly every line) is measured with ``len``; anything else
with rich's cell table, imported only then.
"""

from __future__ import annotations

import os
import shutil
import sys
from typing import TextIO

__all__ = [
    "cells",
    "paint",
    "print_error",
    "print_notice",
    "print_warning",
    "styled",
    "terminal_width",
    "truncate",
    "write_stdout",
]

#: The styles the CLI uses, as SGR parameters.
_SGR = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "magenta": "35",
    "cyan": "36",
}


def styled(stream: TextIO) -> bool:
    """Whether ``stream`` gets colour and bold (see the module docstring)."""
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed, or not a real file
        return False


def paint(text: str, style: str, *, stream: TextIO) -> str:
    """``text`` in ``style`` (like ``"bold red"``) when ``stream`` is styled, else as is."""
    if not text or not styled(stream):
        return text
    codes = ";".join(_SGR[word] for word in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


def cells(text: str) -> int:
    """Display cells ``text`` takes on a terminal (wide characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def truncate(text: str, width: int) -> str:
    """``text`` cut to at most ``width`` cells, ending in ``…`` when something was cut."""
    if cells(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    if text.isascii():
        return text[: width - 1] + "…"
    from rich.cells import set_cell_size

    # Exactly width - 1 cells (a wide character that does not fit becomes a space).
    return set_cell_size(text, width - 1) + "…"


def terminal_width() -> int | None:
    """Columns of the terminal stdout is, or ``None`` when stdout is not one (never cut then)."""
    try:
        if not sys.stdout.isatty():
            return None
    except (AttributeError, ValueError):
        return None
    return shutil.get_terminal_size().columns


def write_stdout(text: str) -> None:
    """One line of results on stdout, flushed (a reader may be waiting for it)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _write_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def print_error(message: str, hint: str | None = None) -> None:
    """``error: message`` (and ``hint: …``) on stderr: the one error style of the CLI."""
    err = sys.stderr
    _write_stderr(f"{paint('error:', 'bold red', stream=err)} {message}")
    if hint:
        _write_stderr(paint(f"hint: {hint}", "dim", stream=err))


def print_warning(message: str) -> None:
    """``warning: message`` on stderr."""
    _write_stderr(f"{paint('warning:', 'yellow', stream=sys.stderr)} {message}")


def print_notice(message: str, style: str = "") -> None:
    """Progress or a note for people, on stderr (``style`` as in :func:`paint`)."""
    _write_stderr(paint(message, style, stream=sys.stderr) if style else message)
