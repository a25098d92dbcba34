"""The names of the SDK's loggers and log fields (one table, _wire/loggers.py, which the
source keeps to), and the pure helpers of telemetry: url.full and error.type."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest
from yarl import URL

from coder_tasks_async import CoderTimeoutError
from coder_tasks_async._http.otel import url_full
from coder_tasks_async._http.telemetry import NO_ACTIVITY, Telemetry, error_type
from coder_tasks_async._wire.loggers import FIELDS, LOGGERS, ROOT, get_logger
from coder_tasks_async._wire.redact import Redactor

PACKAGE = Path(__file__).parents[2] / "coder_tasks_async"


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called == name:
                    found.append((path, node))
    return found


def _logger_name(node: ast.expr) -> str:
    """The name a ``getLogger``/``get_logger`` argument spells (``f"{ROOT}.http"`` too)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id == "ROOT":
        return ROOT
    if isinstance(node, ast.JoinedStr):
        parts = []
        for part in node.values:
            if isinstance(part, ast.Constant):
                parts.append(str(part.value))
            elif isinstance(part, ast.FormattedValue) and ast.unparse(part.value) == "ROOT":
                parts.append(ROOT)
            else:
                return ast.unparse(node)
        return "".join(parts)
    return ast.unparse(node)


def test_every_logger_of_the_sdk_is_in_the_table_and_every_one_is_used() -> None:
    used = {
        _logger_name(call.args[0])
        for name in ("getLogger", "get_logger")
        for _, call in _calls(name)
        if call.args
    }
    used.discard("name")  # get_logger's own body
    assert used <= {*LOGGERS, ROOT}, used - {*LOGGERS, ROOT}
    assert set(LOGGERS) <= used


def _dict_keys(node: ast.expr, scope: ast.AST) -> set[str]:
    if isinstance(node, ast.Dict):
        keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
        spread = {v for k, v in zip(node.keys, node.values, strict=True) if k is None}
        return {str(k) for k in keys} | {k for v in spread for k in _dict_keys(v, scope)}
    if isinstance(node, ast.Name):  # a dict built once before, in the same function
        for sub in ast.walk(scope):
            if isinstance(sub, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == node.id for t in sub.targets
            ):
                return _dict_keys(sub.value, scope)
    raise AssertionError(f"extra= of an unknown shape: {ast.unparse(node)}")


def test_every_field_a_record_carries_is_in_the_table() -> None:
    used: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for call in ast.walk(function):
                if isinstance(call, ast.Call):
                    for keyword in call.keywords:
                        if keyword.arg == "extra":
                            used |= _dict_keys(keyword.value, function)
    assert used <= set(FIELDS), used - set(FIELDS)
    assert {"method", "route", "status", "attempt", "elapsed", "task_id"} <= used


def test_a_logger_outside_the_table_is_refused() -> None:
    assert get_logger(f"{ROOT}.http").name == "coder_tasks_async.http"
    with pytest.raises(KeyError, match="not a logger"):
        get_logger(f"{ROOT}.misc")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://coder.example.com/api/v2/tasks?q=owner:me", None),
        ("https://alice:pw@coder.example.com/x", "https://REDACTED:REDACTED@coder.example.com/x"),
        (
            "https://coder.example.com/x?coder_session_token=abc&q=1",
            "https://coder.example.com/x?coder_session_token=REDACTED&q=1",
        ),
        ("https://coder.example.com/x?sig=abc", "https://coder.example.com/x?sig=REDACTED"),
        (
            "https://coder.example.com/api/v2/tasks?q=owner:tokenpart-secret1234567890",
            "https://coder.example.com/api/v2/tasks?q=owner:[REDACTED]",
        ),
    ],
)
def test_url_full_shows_no_credentials(url: str, shown: str | None) -> None:
    redactor = Redactor("tokenpart-secret1234567890")
    assert url_full(URL(url), redactor) == (shown or url)


def test_error_type_is_the_fully_qualified_class() -> None:
    assert error_type(TimeoutError()) == "TimeoutError"
    assert error_type(asyncio.CancelledError) == "asyncio.exceptions.CancelledError"
    assert error_type(CoderTimeoutError("x")) == "coder_tasks_async.CoderTimeoutError"


def test_telemetry_is_off_until_opentelemetry_is_in_use_or_given() -> None:
    # This process may have imported OpenTelemetry already: a provider given always
    # switches it on, and without one the answer follows sys.modules.
    import sys

    from opentelemetry.sdk.trace import TracerProvider

    given = Telemetry(tracer_provider=TracerProvider())
    assert given.active() is not None and given.activity("x") is not NO_ACTIVITY
    in_use = "opentelemetry.trace" in sys.modules or "opentelemetry.metrics" in sys.modules
    assert (Telemetry().active() is not None) == in_use
