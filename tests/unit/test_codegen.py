"""The generated structuring functions: their source in tracebacks, the list loop."""

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


def test_list_functions_match_the_element_function_and_refuse_what_it_refuses() -> None:
    one = make_structure_fn(Point, cattrs.Converter(), _refuse)
    many = make_structure_fn(Point, cattrs.Converter(), _refuse, many=True)
    items: list[Any] = [{"x": 1}, {"x": 2, "label": "b"}]
    assert many(items, None) == [one(item, None) for item in items]
    assert many([], None) == []
    # (what the code reads per element follows, bound as keyword-only defaults)
    assert inspect.getsource(many).startswith("def structure_list(value, _=None, *, ")

    with pytest.raises(TypeError, match="expected a JSON array, got dict"):
        many({"x": 1}, None)
    with pytest.raises(TypeError) as info:
        many([{"x": 1}, {"x": "two"}], None)
    assert "__bad(v, type0)" in "".join(traceback.format_tb(info.value.__traceback__))


def test_generated_objects_skip_the_model_init_but_are_the_model() -> None:
    point = make_structure_fn(Point, cattrs.Converter(), _refuse, many=True)([{"x": 5}], None)[0]
    assert type(point) is Point
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        point.x = 6  # type: ignore[misc]
