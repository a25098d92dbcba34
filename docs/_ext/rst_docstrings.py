"""The package's docstrings are written in reStructuredText habits (``::`` literal
blocks, ``:class:`Task``` roles); the site renders Markdown.  This module is the one
place that reads those habits: the griffe extension below turns each docstring into
Markdown for mkdocstrings, and the docs tests (tests/docs) take the same literal blocks
from it to run every ``Example::``.

Conversion, nothing more: a paragraph ending ``::`` loses one colon and the indented
block after it becomes a fenced block (``python`` when it is Python, ``pycon`` for a
``>>>`` session, else ``text``); a role becomes a code span, linked to the API
reference when it names a public name of ``coder_tasks_async`` or
``coder_tasks_async.testing`` (which the reference documents, a test makes sure).
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass
from typing import Any

__all__ = ["LiteralBlock", "RstDocstrings", "is_python", "literal_blocks", "to_markdown"]

_ROLE = re.compile(r":(?:class|meth|func|data|attr|mod|exc|obj):`([^`]+)`")


@dataclass(frozen=True)
class LiteralBlock:
    """An indented block introduced by a line ending ``::`` (rST's literal block)."""

    #: The introducing line, stripped (``"Example::"``).
    header: str
    #: Line numbers (0-based, in the cleaned docstring) of the header and of the
    #: first and past-the-last line of the block.
    header_line: int
    start: int
    end: int
    #: The block, dedented.
    code: str


def literal_blocks(doc: str) -> list[LiteralBlock]:
    """Every literal block of a cleaned docstring (``inspect.cleandoc``), in order."""
    lines = doc.splitlines()
    blocks: list[LiteralBlock] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if not line.rstrip().endswith("::"):
            i += 1
            continue
        indent = len(line) - len(line.lstrip())
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        start = end = j
        # The block: every line indented deeper than the header, and blank lines inside.
        while end < len(lines) and (
            not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > indent
        ):
            end += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        if end > start:
            code = textwrap.dedent("\n".join(lines[start:end]))
            blocks.append(LiteralBlock(line.strip(), i, start, end, code))
        i = max(end, i + 1)
    return blocks


def is_python(code: str) -> bool:
    """Whether ``code`` compiles as Python (top-level ``await`` allowed, as in the docs)."""
    try:
        compile(code, "<docstring>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    except SyntaxError:
        return False
    return True


def _language(code: str) -> str:
    if code.lstrip().startswith(">>>"):
        return "pycon"
    return "python" if is_python(code) else "text"


def _role(match: re.Match[str], public: dict[str, str]) -> str:
    target = match.group(1).lstrip("~.")
    shown = target.rsplit(".", 1)[-1] if match.group(1).startswith("~") else target
    for prefix in ("coder_tasks_async.testing.", "coder_tasks_async."):
        if target.startswith(prefix):
            target = target[len(prefix) :]
            break
    identifier = public.get(target)
    if identifier is None:
        return f"`{shown}`"
    return f"[`{shown}`][{identifier}]"


def to_markdown(doc: str, public: dict[str, str]) -> str:
    """``doc`` (a cleaned docstring) as Markdown.  ``public`` maps a public name
    (``"Task"``) to the identifier of its reference entry (``"coder_tasks_async.Task"``)."""
    lines = doc.splitlines()

    def prose(chunk: list[str]) -> list[str]:
        return [_ROLE.sub(lambda m: _role(m, public), line) for line in chunk]

    out: list[str] = []
    done = 0
    for block in literal_blocks(doc):
        out += prose(lines[done : block.header_line])
        header = lines[block.header_line].rstrip()
        indent = header[: len(header) - len(header.lstrip())]
        # rST: "text::" reads "text:", and a lone "::" disappears.
        if header.strip() != "::":
            out += [*prose([header[:-1]]), ""]
        fence = f"{indent}```"
        body = textwrap.indent(block.code, indent).splitlines()
        out += [f"{fence}{_language(block.code)}", *body, fence]
        done = block.end
    out += prose(lines[done:])
    return "\n".join(out)


def public_identifiers() -> dict[str, str]:
    """Each public name of the package and of its ``testing`` module, to the identifier
    of its reference entry."""
    import coder_tasks_async
    import coder_tasks_async.testing

    names = {n: f"coder_tasks_async.testing.{n}" for n in coder_tasks_async.testing.__all__}
    names.update({n: f"coder_tasks_async.{n}" for n in coder_tasks_async.__all__})
    return names


try:
    import griffe
except ImportError:  # the docs tests use the functions above without mkdocs installed
    pass
else:

    class RstDocstrings(griffe.Extension):
        """Turn each docstring griffe loads into Markdown (see the module docstring)."""

        def __init__(self) -> None:
            super().__init__()
            self._public = public_identifiers()

        def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
            if obj.docstring is None and obj.kind is griffe.Kind.ATTRIBUTE:
                text = _comment_above(obj)
                if text:
                    obj.docstring = griffe.Docstring(text, parent=obj)
            if obj.docstring is not None:
                obj.docstring.value = to_markdown(obj.docstring.value, self._public)

    def _comment_above(obj: griffe.Object) -> str:
        """An attribute's ``#:`` comment lines (the Sphinx convention the models use)."""
        if obj.lineno is None or obj.filepath is None or isinstance(obj.filepath, list):
            return ""
        try:
            lines = obj.lines_collection[obj.filepath]
        except KeyError:
            return ""
        found: list[str] = []
        at = obj.lineno - 2  # the line above, 0-based
        while at >= 0 and lines[at].strip().startswith("#:"):
            found.insert(0, lines[at].strip()[2:].strip())
            at -= 1
        return "\n".join(found)
