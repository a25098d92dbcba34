"""``create --template NAME[@VERSION]``: a template name (and version name) to a version id."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._errors import CliError

if TYPE_CHECKING:
    from uuid import UUID

    from coder_tasks_async import CoderTasksClient

__all__ = ["resolve_template"]


async def resolve_template(coder: CoderTasksClient, spec: str, org: str | None) -> UUID:
    """The version id ``spec`` names: the active version, or ``NAME@VERSION``'s.

    Several organizations may have a template of that name: then ``org`` (a name or
    an id) must say which, and the error lists the candidates.
    """
    from coder_tasks_async import NotFoundError

    name, _, version = spec.partition("@")
    name = name.strip()
    wanted = org.strip().lower() if org else None
    matches = [
        t
        for t in await coder.list_templates()
        if t.name.lower() == name.lower()
        and (wanted is None or wanted in (t.organization_name.lower(), str(t.organization_id)))
    ]
    where = f" in organization {org}" if org else ""
    if not matches:
        raise CliError(
            f"template {name} not found{where} (or you cannot use it)",
            "`coder templates list` shows the templates you can use",
        )
    if len(matches) > 1:
        orgs = ", ".join(sorted(t.organization_name or str(t.organization_id) for t in matches))
        raise CliError(
            f"template {name} exists in several organizations: {orgs}",
            "pass --org to pick one",
        )
    template = matches[0]
    if not version:
        return template.active_version_id
    try:
        found = await coder.get_template_version(template, version)
    except NotFoundError:
        raise CliError(
            f"template {name} has no version named {version}",
            f"`coder templates versions list {name}` shows its versions",
        ) from None
    return found.id
