"""The fake's templates: what a task is created from, and just enough of coderd's
templates API to pick one by name (routes in :mod:`._routes`).

A template has named versions; each version may have a ``coder_ai_task`` resource (only
those can run tasks) and presets.  ``GET /api/v2/templates?q=has-ai-task:true`` lists the
templates whose active version has one, as ``coder task create`` asks.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs

__all__ = ["FakePreset", "FakeTemplate", "FakeVersion", "TemplateCatalog"]


@attrs.define(eq=False, slots=True, kw_only=True)
class FakePreset:
    """A preset of a template version (``GET /api/v2/templateversions/{id}/presets``)."""

    id: uuid.UUID
    name: str
    default: bool = False
    parameters: dict[str, str] = attrs.field(factory=dict)
    description: str = ""

    def json(self) -> dict[str, object]:
        """``codersdk.Preset``: its Go struct has no JSON tags, so the keys are Go's field
        names, capitalized; ``Parameters`` is ``null`` when there are none."""
        params = [{"Name": k, "Value": v} for k, v in self.parameters.items()] or None
        return {
            "ID": str(self.id),
            "Name": self.name,
            "Parameters": params,
            "Default": self.default,
            "DesiredPrebuildInstances": None,
            "Description": self.description,
            "Icon": "",
        }


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeVersion:
    """A template version; ``has_ai_task`` says whether tasks can be created from it."""

    id: uuid.UUID
    name: str
    template: FakeTemplate
    has_ai_task: bool = True
    presets: list[FakePreset] = attrs.field(factory=list)

    def json(self) -> dict[str, object]:
        """The fields of ``codersdk.TemplateVersion`` a client reads."""
        return {
            "id": str(self.id),
            "template_id": str(self.template.id),
            "organization_id": str(self.template.organization_id),
            "name": self.name,
            "message": "",
            "readme": "",
            "archived": False,
            "has_external_agent": False,
        }


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeTemplate:
    """A template with named versions; ``active_version`` names the active one."""

    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    organization_name: str
    versions: dict[str, FakeVersion] = attrs.field(factory=dict)
    active_version: str = ""
    display_name: str = ""
    icon: str = ""

    def json(self) -> dict[str, object]:
        """The fields of coderd's ``Template`` the SDK reads (plus a few for realism)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "display_name": self.display_name,
            "organization_id": str(self.organization_id),
            "organization_name": self.organization_name,
            "organization_display_name": self.organization_name.title(),
            "active_version_id": str(self.versions[self.active_version].id),
            "description": "",
            "icon": self.icon,
            "deprecated": False,
            "deprecation_message": "",
            "deleted": False,
        }


class TemplateCatalog:
    """The templates of a :class:`FakeCoder`."""

    def __init__(self, new_id: Callable[[], uuid.UUID]) -> None:
        self._new_id = new_id
        self.templates: list[FakeTemplate] = []

    def add(
        self,
        name: str,
        *,
        organization_id: uuid.UUID,
        organization_name: str,
        versions: dict[str, uuid.UUID],
        active_version: str,
        template_id: uuid.UUID | None = None,
        has_ai_task: bool = True,
        display_name: str = "",
        icon: str = "",
    ) -> FakeTemplate:
        """Register a template (``versions`` maps version names to ids).

        Every version gets ``has_ai_task``; change one with :meth:`version`.
        """
        template = FakeTemplate(
            id=template_id or self._new_id(),
            name=name,
            organization_id=organization_id,
            organization_name=organization_name,
            active_version=active_version,
            display_name=display_name or name.replace("-", " ").title(),
            icon=icon,
        )
        for version_name, version_id in versions.items():
            template.versions[version_name] = FakeVersion(
                id=version_id, name=version_name, template=template, has_ai_task=has_ai_task
            )
        if active_version not in template.versions:
            raise ValueError(f"active_version {active_version!r} is not one of {list(versions)}")
        self.templates.append(template)
        return template

    def add_version(
        self,
        template: FakeTemplate,
        name: str,
        *,
        version_id: uuid.UUID | None = None,
        has_ai_task: bool = True,
        active: bool = False,
    ) -> FakeVersion:
        """Give ``template`` another version (``active=True`` makes it the active one)."""
        version = FakeVersion(
            id=version_id or self._new_id(), name=name, template=template, has_ai_task=has_ai_task
        )
        template.versions[name] = version
        if active:
            template.active_version = name
        return version

    def version(self, version_id: uuid.UUID) -> FakeVersion | None:
        """The version with ``version_id``, in any template."""
        for template in self.templates:
            for version in template.versions.values():
                if version.id == version_id:
                    return version
        return None

    def add_preset(
        self,
        version_id: uuid.UUID,
        name: str,
        *,
        default: bool = False,
        parameters: dict[str, str] | None = None,
        preset_id: uuid.UUID | None = None,
    ) -> FakePreset:
        """Give a version a preset (names are what ``coder task create --preset`` matches)."""
        version = self.version(version_id)
        if version is None:
            raise KeyError(version_id)
        preset = FakePreset(
            id=preset_id or self._new_id(),
            name=name,
            default=default,
            parameters=dict(parameters or {}),
        )
        version.presets.append(preset)
        return preset

    def search(self, ai_only: bool | None) -> list[FakeTemplate]:
        """Templates, optionally only those whose active version has (or lacks) an AI task."""
        if ai_only is None:
            return list(self.templates)
        return [t for t in self.templates if t.versions[t.active_version].has_ai_task is ai_only]
