"""Find every Python block the documentation shows: the ```python blocks of README.md and
of the site's pages (docs/), and the ``Example::`` blocks of the public docstrings.

A Markdown block may carry wiring for the tests in HTML comments right above it
(invisible on GitHub and on the site)::

    <!-- test-before: python run first, in the block's namespace -->
    <!-- test-after: python run after the block, e.g. to call what it defines -->
    <!-- test-stop-when: an expression; the block is cancelled once it holds -->
    <!-- not-run: why this block cannot run (counted and listed by the tests) -->

A comment may span lines (``<!-- test-after:`` then code lines, then ``-->``).
Docstrings stay free of test wiring: theirs is a table in test_code_blocks.py, keyed
by the public path of the docstring's object (``"CoderTasksClient.follow_logs"``).
"""

from __future__ import annotations

import ast
import inspect
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FunctionType, ModuleType

from helpers import TESTS

sys.path.insert(0, str(TESTS.parent / "docs" / "_ext"))
from rst_docstrings import LiteralBlock, is_python, literal_blocks  # the site's reading

ROOT = TESTS.parent

#: The Markdown files whose blocks run: the README and every page of the site.
MARKDOWN = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]

#: The headers that introduce an example in a docstring.
EXAMPLE_HEADERS = ("Example::", "Examples::")

_FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
_COMMENT = re.compile(r"<!--\s*(test-before|test-after|test-stop-when|not-run):(.*?)-->", re.S)


@dataclass
class Wiring:
    """What the tests do around a block (see the module docstring)."""

    before: str = ""
    after: str = ""
    stop_when: str = ""
    not_run: str = ""
    #: A docstring example that shows an exception being raised: its class name.
    raises: str = ""


@dataclass
class Block:
    """One Python block of the documentation."""

    #: ``README.md:42`` or ``docstring:CoderTasksClient.follow_logs``.
    where: str
    code: str
    #: True for Markdown blocks: they must import what they use.  Docstring examples
    #: run in their package's namespace (every public name of ``coder_tasks_async``
    #: and ``coder_tasks_async.testing``).
    markdown: bool
    wiring: Wiring = field(default_factory=Wiring)

    @property
    def program(self) -> bool:
        """A complete program: it calls ``anyio.run`` or ``asyncio.run`` at top level."""
        try:
            body = ast.parse(self.code).body
        except SyntaxError:
            return False  # it fails when run, and says why
        for node in body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                name = ast.unparse(node.value.func)
                if name in ("anyio.run", "asyncio.run"):
                    return True
        return False


def _dedent_comment(text: str) -> str:
    lines = text.strip("\n").splitlines()
    if len(lines) == 1:
        return lines[0].strip()
    return inspect.cleandoc("\n".join(lines))


def _wiring_above(text: str, fence_at: int) -> Wiring:
    """The wiring comments directly above the fence that starts at ``fence_at``."""
    wiring = Wiring()
    head = text[:fence_at].rstrip()
    while head.endswith("-->"):
        start = head.rfind("<!--")
        match = _COMMENT.fullmatch(head[start:])
        if match is None:
            break  # some other comment (a snippet marker): the wiring ends here
        key, value = match.group(1).replace("test-", "").replace("-", "_"), match.group(2)
        setattr(wiring, key, _dedent_comment(value))
        head = head[:start].rstrip()
    return wiring


def markdown_blocks(path: Path) -> Iterator[Block]:
    """The ```python blocks of one Markdown file, with their wiring."""
    return blocks_in(path.read_text(), path.relative_to(ROOT).as_posix())


def blocks_in(text: str, name: str) -> Iterator[Block]:
    """The ```python blocks of Markdown ``text`` (from the file ``name``)."""
    for match in _FENCE.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        wiring = _wiring_above(text, match.start())
        yield Block(f"{name}:{line}", match.group(1), markdown=True, wiring=wiring)


def _documented(module: ModuleType) -> Iterator[tuple[str, object]]:
    """``(public path, object)`` for the module, each public name, and then each public
    class's members and its base classes in the package, as the API reference shows them."""
    yield module.__name__, module
    classes: list[tuple[str, type]] = []
    for name in sorted(module.__all__):
        obj = getattr(module, name)
        if isinstance(obj, type | FunctionType) and obj.__module__.startswith(PACKAGE):
            yield name, obj  # (constants and type aliases have no docstring of their own)
            if isinstance(obj, type):
                classes.append((name, obj))
    for name, obj in classes:
        shown: set[str] = set()  # a member overridden lower down is not shown
        for cls in obj.__mro__:
            if not cls.__module__.startswith(PACKAGE):
                continue
            if cls is not obj:
                yield cls.__name__, cls  # a base class of the package's (under its own name)
            for attr, value in vars(cls).items():
                if attr.startswith("_") or attr in shown:
                    continue
                shown.add(attr)
                target = getattr(value, "__func__", value)
                if isinstance(target, property):
                    target = target.fget
                if isinstance(target, FunctionType):
                    yield f"{name}.{attr}", target


PACKAGE = "coder_tasks_async"


def public_docstrings() -> dict[str, str]:
    """The cleaned docstring of each documented object, by public path; an object
    reached along several paths (an inherited method) is listed under its first."""
    import coder_tasks_async
    import coder_tasks_async.testing

    found: dict[str, str] = {}
    seen: set[int] = set()
    for module in (coder_tasks_async, coder_tasks_async.testing):
        for path, obj in _documented(module):
            doc = obj.__doc__
            if not doc or id(obj) in seen:
                continue
            seen.add(id(obj))
            found[path] = inspect.cleandoc(doc)
    return found


def is_example(block: LiteralBlock) -> bool:
    """An ``Example::`` block, or any other the site shows as Python or as a ``>>>``
    session (rst_docstrings decides how a block is shown)."""
    return block.header in EXAMPLE_HEADERS or is_python(block.code) or is_session(block.code)


def is_session(code: str) -> bool:
    """A ``>>>`` session: it runs as a doctest."""
    return code.lstrip().startswith(">>>")


def docstring_blocks() -> Iterator[Block]:
    """The examples of the public docstrings (:func:`is_example`)."""
    for path, doc in public_docstrings().items():
        examples = [b for b in literal_blocks(doc) if is_example(b)]
        for i, block in enumerate(examples):
            suffix = f"#{i + 1}" if len(examples) > 1 else ""
            yield Block(f"docstring:{path}{suffix}", block.code, markdown=False)


def source_examples() -> dict[str, list[str]]:
    """Every example (:func:`is_example`) anywhere in the package's source, read
    statically: ``{"coder_tasks_async._fanout.bounded:map_bounded": [code, ...]}``
    (the module's own docstring under ``"<module>"``)."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for node in _with_qualnames(ast.parse(path.read_text())):
            doc = ast.get_docstring(node[1])
            if doc:
                codes = [b.code for b in literal_blocks(doc) if is_example(b)]
                if codes:
                    found[f"{module}:{node[0]}"] = codes
    return found


def _with_qualnames(tree: ast.Module) -> Iterator[tuple[str, ast.AST]]:
    yield "<module>", tree
    stack: list[tuple[str, ast.AST]] = [("", tree)]
    while stack:
        prefix, parent = stack.pop()
        for child in ast.iter_child_nodes(parent):
            if isinstance(child, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                yield name, child
                stack.append((f"{name}.", child))


def all_blocks() -> list[Block]:
    """Every block: Markdown files first, then docstrings."""
    blocks = [b for path in MARKDOWN for b in markdown_blocks(path)]
    return blocks + list(docstring_blocks())
