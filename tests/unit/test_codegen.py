"""The generated structuring functions show their source in tracebacks."""

from __future__ import annotations

import inspect
import traceback
from typing import Any

import attrs
import cattrs
import pytest

from coder_tasks_async._wire.codegen import make_structure_fn


@attrs.define(frozen=True, kw_only=True)
class Point:
    x: int
    label: str = ""


def _refuse(value: Any, expected: type[Any]) -> Any:
    raise TypeError(f"{value!r} is not a {expected.__name__}")


def test_generated_functions_are_registered_in_linecache() -> None:
    fn = make_structure_fn(Point, cattrs.Converter(), _refuse)
    assert fn({"x": 3}, None) == Point(x=3)
    source = inspect.getsource(fn)
    assert source.startswith("def structure(o, _=None):")

    with pytest.raises(TypeError) as info:
        fn({"x": "three"}, None)
    shown = "".join(traceback.format_tb(info.value.__traceback__))
    assert "__bad(v, type0)" in shown  # the generated line itself, not a blank
