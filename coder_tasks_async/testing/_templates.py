"""The fake's templates: just enough of coderd's templates API to pick a template by name.

Routes (both outside the tasks tree, on every release the fake imitates):

* ``GET /api/v2/templates`` — every template the caller can see, across organizations.
* ``GET /api/v2/templates/{template}/versions/{templateversionname}`` — one version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import attrs

from ._jsonio import Reply, error, json_reply

__all__ = ["FakeTemplate", "TemplateCatalog"]

NOT_FOUND = "Resource not found or you do not have access to this resource"


@attrs.define(eq=False, slots=True, kw_only=True)
class FakeTemplate:
    """A template with named versions; ``active_version`` names the active one."""

    id: uuid.UUID
    name: str
    organization_id: uuid.UUID
    organization_name: str
    versions: dict[str, uuid.UUID]
    active_version: str

    def json(self) -> dict[str, object]:
        """The fields of coderd's ``Template`` the SDK reads (plus a few for realism)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "display_name": self.name.replace("-", " ").title(),
            "organization_id": str(self.organization_id),
            "organization_name": self.organization_name,
            "organization_display_name": self.organization_name.title(),
            "active_version_id": str(self.versions[self.active_version]),
            "deprecated": False,
        }


class TemplateCatalog:
    """The templates of a :class:`FakeCoder`, and the two routes that read them."""

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
    ) -> FakeTemplate:
        """Register a template (``versions`` maps version names to ids)."""
        template = FakeTemplate(
            id=template_id or self._new_id(),
            name=name,
            organization_id=organization_id,
            organization_name=organization_name,
            versions=dict(versions),
            active_version=active_version,
        )
        self.templates.append(template)
        return template

    @staticmethod
    def owns(segments: list[str]) -> bool:
        """Whether the decoded path segments address this catalog."""
        return segments[:3] == ["api", "v2", "templates"]

    def handle(self, method: str, segments: list[str]) -> Reply:
        """Serve one request below ``/api/v2/templates`` (after authentication)."""
        rest = [s for s in segments[3:] if s]
        if method != "GET":
            return error(405, "Method not allowed.")
        if not rest:
            return json_reply(200, [t.json() for t in self.templates])
        if len(rest) == 3 and rest[1] == "versions":
            template = next((t for t in self.templates if str(t.id) == rest[0]), None)
            if template is None:
                return error(404, NOT_FOUND)
            version = template.versions.get(rest[2])
            if version is None:
                return error(404, f'No template version found by name "{rest[2]}".', "sql: no rows")
            return json_reply(
                200,
                {
                    "id": str(version),
                    "name": rest[2],
                    "template_id": str(template.id),
                    "organization_id": str(template.organization_id),
                    "archived": False,
                },
            )
        return error(404, "Route not found.")
