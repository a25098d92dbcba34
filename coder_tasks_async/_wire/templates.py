"""Templates, read only: enough of Coder's templates API to pick a template by name.

Tasks are created from a template *version* id; people think in template names.
``GET /api/v2/templates`` lists every template the caller can see (across
organizations; ``q=has-ai-task:true`` keeps those whose active version can run tasks),
``GET /api/v2/templates/{id}/versions/{name}`` finds one version by name, and
``GET /api/v2/templateversions/{id}/presets`` lists a version's presets.  All exist on
every release with AI tasks and sit outside the tasks tree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from attrs import define, field

from .serialize import Model

__all__ = ["Preset", "Template", "TemplateVersion", "preset_from_wire"]


@define(frozen=True, kw_only=True)
class Template(Model):
    """A template as ``GET /api/v2/templates`` lists it (the fields tasks need)."""

    id: UUID
    name: str
    organization_id: UUID
    active_version_id: UUID
    organization_name: str = ""
    organization_display_name: str = ""
    display_name: str = ""
    description: str = ""
    icon: str = ""
    deprecated: bool = False


@define(frozen=True, kw_only=True)
class TemplateVersion(Model):
    """One version of a template; ``id`` is what ``create_task`` takes."""

    id: UUID
    name: str
    template_id: UUID | None = None
    organization_id: UUID | None = None
    archived: bool = False


@define(frozen=True, kw_only=True)
class Preset(Model):
    """A preset of a template version: a named set of parameter values.

    ``id`` is what ``create_task(template_version_preset_id=...)`` takes; ``default``
    marks the one ``coder task create`` uses when no ``--preset`` is given.
    """

    id: UUID
    name: str
    default: bool = False
    #: Parameter name → value.
    parameters: Mapping[str, str] = field(factory=dict, hash=False)
    description: str = ""
    icon: str = ""
    desired_prebuild_instances: int | None = None


def preset_from_wire(data: Any) -> Preset:
    """One element of the presets list.  ``codersdk.Preset`` has no JSON tags, so Coder
    writes Go's field names (``ID``, ``Name``, ``Parameters``, ...); keys are matched
    case-insensitively, as Go's decoder does, so a future ``id`` spelling reads too."""
    if not isinstance(data, dict):
        raise TypeError(f"expected a JSON object, got {type(data).__name__}")
    keys = {str(k).lower(): v for k, v in data.items()}
    params: dict[str, str] = {}
    for item in keys.get("parameters") or ():
        if isinstance(item, dict):
            item_keys = {str(k).lower(): v for k, v in item.items()}
            params[str(item_keys.get("name", ""))] = str(item_keys.get("value", ""))
    instances = keys.get("desiredprebuildinstances", keys.get("desired_prebuild_instances"))
    name = keys.get("name")
    if not isinstance(name, str):
        raise TypeError("a preset needs a string Name")
    return Preset(
        id=UUID(str(keys.get("id"))),
        name=name,
        default=bool(keys.get("default", False)),
        parameters=params,
        description=str(keys.get("description") or ""),
        icon=str(keys.get("icon") or ""),
        desired_prebuild_instances=instances if isinstance(instances, int) else None,
    )
