"""Models back to JSON: ``task.to_dict()``, ``task.to_json()``, ``Task.from_dict(data)``.

A service hands a :class:`~coder_tasks_async.Task` or a log entry on to a browser, a
queue or a database without writing an encoder: cattrs unstructures the attrs model
(field names are the wire's, UUIDs become strings, timestamps RFC 3339 with ``Z`` as
Coder writes them, open enums their string, unknown values included), and
``from_dict`` structures the result back into an equal model through the same
decoding the client uses.

cattrs is imported and the converter built on the first call, never at import: most
programs never serialize, and importing cattrs costs more than the whole SDK.
"""

from __future__ import annotations

import enum
import functools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Self
from uuid import UUID

if TYPE_CHECKING:
    import cattrs

__all__ = ["Model"]


def rfc3339(value: datetime) -> str:
    """``value`` as Coder writes times: ISO 8601, ``Z`` for UTC."""
    text = value.isoformat()
    if value.utcoffset() == UTC.utcoffset(None):
        text = text.removesuffix("+00:00") + "Z"
    return text


@functools.cache
def _unstructurer() -> cattrs.Converter:
    import cattrs

    converter = cattrs.Converter()
    converter.register_unstructure_hook(UUID, str)
    converter.register_unstructure_hook(datetime, rfc3339)
    # An open enum is a str subclass: cattrs would hand it on as it is, and an unknown
    # value would come back as the enum, not the plain string JSON holds.
    converter.register_unstructure_hook(enum.StrEnum, str)
    return converter


class Model:
    """What every model can do besides holding its fields: turn into JSON and back.

    Example::

        payload = task.to_json()           # '{"id": "…", "name": "fix-login", …}'
        assert Task.from_dict(task.to_dict()) == task
    """

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The model as JSON-ready data: the wire's field names, UUIDs and timestamps as
        strings, enums as their values; ``None`` where a field is empty."""
        data: dict[str, Any] = _unstructurer().unstructure(self)
        return data

    def to_json(self) -> str:
        """:meth:`to_dict` encoded as a JSON string."""
        import orjson

        return orjson.dumps(self.to_dict()).decode()

    @classmethod
    def from_dict(cls, data: Any) -> Self:
        """The model from :meth:`to_dict`'s output or a server body already parsed from
        JSON; a misfit raises :class:`~coder_tasks_async.CoderDecodeError`."""
        from .converter import structure

        return structure(data, cls)
