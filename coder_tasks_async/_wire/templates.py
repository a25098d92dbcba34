"""Templates, read only: enough of Coder's templates API to pick a template by name.

Tasks are created from a template *version* id; people think in template names.
``GET /api/v2/templates`` lists every template the caller can see (across
organizations), and ``GET /api/v2/templates/{id}/versions/{name}`` finds one version
by name.  Both exist on every release with AI tasks and sit outside the tasks tree.
"""

from __future__ import annotations

from uuid import UUID

from attrs import define

from .serialize import Model

__all__ = ["Template", "TemplateVersion"]


@define(frozen=True, kw_only=True)
class Template(Model):
    """A template as ``GET /api/v2/templates`` lists it (the fields tasks need)."""

    id: UUID
    name: str
    organization_id: UUID
    active_version_id: UUID
    organization_name: str = ""
    display_name: str = ""
    deprecated: bool = False


@define(frozen=True, kw_only=True)
class TemplateVersion(Model):
    """One version of a template; ``id`` is what ``create_task`` takes."""

    id: UUID
    name: str
    template_id: UUID | None = None
