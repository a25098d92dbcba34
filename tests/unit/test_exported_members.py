"""The public API: declared once in ``coder_tasks_async/__init__.py``, the rest derived.

The ``if TYPE_CHECKING:`` imports there are the one declaration.  The lazy-loading
table and ``__all__`` are generated from them; this file checks they match (and
rewrites them: ``python tests/unit/test_exported_members.py --write``), then checks
what a user sees: every name resolves, shows ``coder_tasks_async`` as its module,
has a docstring, and every error class the SDK defines is exported.
"""

from __future__ import annotations

import ast
import inspect
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

import coder_tasks_async
from coder_tasks_async._wire import errors as errors_module

INIT = Path(coder_tasks_async.__file__)
BEGIN = "# --- generated from the imports above; do not edit by hand"
END = "# --- end of generated code"
#: Public names that are not imported from a submodule.
EXTRA = ("__version__",)


def declared(source: str) -> dict[str, str]:
    """``name -> module`` from the ``if TYPE_CHECKING:`` block, in file order."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            table: dict[str, str] = {}
            for item in node.body:
                assert isinstance(item, ast.ImportFrom) and item.level == 1, ast.unparse(item)
                assert item.module is not None
                for alias in item.names:
                    # `import X as X` is how a name is re-exported to type checkers.
                    assert alias.asname == alias.name, f"write {alias.name} as {alias.name}"
                    table[alias.name] = item.module
            return table
    raise AssertionError("no `if TYPE_CHECKING:` block in __init__.py")


def _isort_order(name: str) -> tuple[int, str]:
    """Constants, then classes, then the rest (ruff's RUF022 order for ``__all__``)."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def generated(table: dict[str, str]) -> str:
    lazy = "".join(f'    "{name}": "{module}",\n' for name, module in sorted(table.items()))
    names = sorted([*table, *EXTRA], key=_isort_order)
    listed = "".join(f'    "{name}",\n' for name in names)
    return f"_LAZY: dict[str, str] = {{\n{lazy}}}\n__all__ = [\n{listed}]\n"


def rewrite(source: str) -> str:
    head, _, rest = source.partition(BEGIN)
    first_line, _, _ = rest.partition("\n")
    _, _, tail = rest.partition(END)
    return f"{head}{BEGIN}{first_line}\n{generated(declared(source))}{END}{tail}"


def test_the_generated_table_and_all_follow_the_declaration() -> None:
    source = INIT.read_text("utf-8")
    assert rewrite(source) == source, (
        "coder_tasks_async/__init__.py: the lazy table or __all__ no longer follow the "
        "TYPE_CHECKING imports; run `python tests/unit/test_exported_members.py --write`"
    )


def test_all_is_exactly_the_declared_names_and_dir_shows_them() -> None:
    table = declared(INIT.read_text("utf-8"))
    assert sorted(coder_tasks_async.__all__) == sorted([*table, *EXTRA])
    assert dir(coder_tasks_async) == sorted(coder_tasks_async.__all__)


@pytest.mark.parametrize("name", sorted(set(coder_tasks_async.__all__) - set(EXTRA)))
def test_every_name_resolves_and_is_shown_at_the_public_path(name: str) -> None:
    value = getattr(coder_tasks_async, name)
    if inspect.isclass(value) or inspect.isfunction(value):
        assert value.__module__ == "coder_tasks_async", name
        assert value.__qualname__ == name
        assert inspect.getdoc(value), f"{name} has no docstring"


def test_every_error_the_sdk_defines_is_exported() -> None:
    defined = {
        name
        for name, obj in vars(errors_module).items()
        if inspect.isclass(obj) and issubclass(obj, errors_module.CoderError)
    }
    assert defined <= set(coder_tasks_async.__all__)


def test_every_error_is_in_the_class_tree_drawing() -> None:
    drawing = errors_module.__doc__ or ""
    for name in coder_tasks_async.__all__:
        obj = getattr(coder_tasks_async, name)
        if inspect.isclass(obj) and issubclass(obj, coder_tasks_async.CoderError):
            assert f" {name} " in drawing or drawing.count(f" {name}\n"), name


def test_errors_pickle_by_their_public_path() -> None:
    error = coder_tasks_async.TaskNotActiveConflict(
        status=409, message="Task is paused.", task_status="paused"
    )
    data = pickle.dumps(error)
    assert b"coder_tasks_async\x94" in data or b"coder_tasks_async\n" in data
    back = pickle.loads(data)
    assert type(back) is coder_tasks_async.TaskNotActiveConflict
    assert back.task_status == "paused"


def test_a_traceback_names_the_public_error_path() -> None:
    code = (
        "import coder_tasks_async\n"
        "coder_tasks_async.CoderTasksClient\n"
        "from coder_tasks_async._wire.errors import NotFoundError\n"
        "raise NotFoundError(status=404, message='gone')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "coder_tasks_async.NotFoundError: " in done.stderr, done.stderr


def test_the_old_spelling_still_works_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning, match="UnsupportedByServerError"):
        old = coder_tasks_async.UnsupportedByServer  # type: ignore[attr-defined]
    assert old is coder_tasks_async.UnsupportedByServerError


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        coder_tasks_async.Nope  # type: ignore[attr-defined]  # noqa: B018


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/unit/test_exported_members.py --write")
    INIT.write_text(rewrite(INIT.read_text("utf-8")), "utf-8")
