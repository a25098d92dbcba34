"""What ``create`` runs on: a template (by name or the only one), a version, a preset.

``coder task create`` takes names: ``--template`` (else the only AI template),
``--template-version`` (a version *name* of that template, else its active
version) and ``--preset`` (a preset name, ``none`` for none).  This CLI also takes
a version id or a preset id (a UUID), as it always has.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from ._error_messages import CliError
from ._task_lookup import is_uuid

if TYPE_CHECKING:
    from uuid import UUID

    from coder_tasks_async import CoderTasksClient, Template

__all__ = ["NO_PRESET", "Choice", "preset_id", "task_templates", "template_version_id"]

#: ``--preset``'s value for "no preset" (``coder``'s ``PresetNone``).
NO_PRESET = "none"
_TEMPLATES_HINT = "`coder templates list` shows the templates you can use"


@dataclasses.dataclass(frozen=True)
class Choice:
    """``create``'s template flags as given (``None``: not given)."""

    template: str | None = None
    version: str | None = None
    organization: str | None = None


def _in_org(template: Template, org: str | None) -> bool:
    wanted = org.strip().lower() if org else None
    return wanted is None or wanted in (
        template.organization_name.lower(),
        str(template.organization_id),
    )


def _check_org(seen: list[Template], org: str | None) -> None:
    """Fail naming ``org`` when no template of ``seen`` (all you can see) is in it
    (checked only once a lookup in ``org`` found nothing, so a good ``-O`` costs nothing).

    ``coder`` fails with ``get current organization: …`` when ``-O`` names no
    organization of yours; this CLI reads no organizations, so it judges by the
    templates', and an organization without templates reads as unknown too.
    """
    if not org:
        return
    if any(_in_org(t, org) for t in seen):
        return
    orgs = sorted({t.organization_name or str(t.organization_id) for t in seen})
    raise CliError(
        f"get current organization: organization {org!r} not found "
        "(no template you can see is in it)",
        f"-O/--org and $CODER_ORGANIZATION take an organization's name or id; "
        f"your templates are in: {', '.join(orgs) or 'none'}",
    )


async def task_templates(coder: CoderTasksClient, org: str | None) -> list[Template]:
    """The templates tasks can run on (in ``org``, if given), asked as ``coder task
    create`` asks (``has-ai-task:true``)."""
    return [t for t in await coder.list_templates(has_ai_task=True) if _in_org(t, org)]


async def _named_template(coder: CoderTasksClient, name: str, org: str | None) -> Template:
    seen = await coder.list_templates()
    matches = [t for t in seen if t.name.lower() == name.lower() and _in_org(t, org)]
    where = f" in organization {org}" if org else ""
    if not matches:
        _check_org(seen, org)
        raise CliError(f"template {name} not found{where} (or you cannot use it)", _TEMPLATES_HINT)
    if len(matches) > 1:
        orgs = ", ".join(sorted(t.organization_name or str(t.organization_id) for t in matches))
        raise CliError(
            f"template {name} exists in several organizations: {orgs}",
            "pass -O/--org (or set $CODER_ORGANIZATION) to pick one",
        )
    return matches[0]


async def _only_template(coder: CoderTasksClient, org: str | None) -> Template:
    """The one task template, as ``coder task create`` picks it when none is named."""
    templates = await task_templates(coder, org)
    if not templates:
        if org:  # every template, not only those with an AI task, says which orgs exist
            _check_org(await coder.list_templates(), org)
        raise CliError("no task templates configured", _TEMPLATES_HINT)
    if len(templates) > 1:
        names = ", ".join(sorted(t.name for t in templates))
        raise CliError(
            f"template name not provided, available templates: {names}",
            "pass --template NAME (or set $CODER_TASK_TEMPLATE_NAME)",
            code=2,
        )
    return templates[0]


async def template_version_id(coder: CoderTasksClient, choice: Choice) -> UUID:
    """The template version id the flags name (see the module docstring)."""
    from uuid import UUID

    from coder_tasks_async import NotFoundError

    if choice.version and is_uuid(choice.version):
        return UUID(choice.version)
    name, _, pinned = (choice.template or "").partition("@")
    version = pinned or choice.version
    if name.strip():
        template = await _named_template(coder, name.strip(), choice.organization)
    else:
        template = await _only_template(coder, choice.organization)
    if not version:
        return template.active_version_id
    try:
        return (await coder.get_template_version(template, version)).id
    except NotFoundError:
        raise CliError(
            f"template {template.name} has no version named {version}",
            f"`coder templates versions list {template.name}` shows its versions",
        ) from None


async def preset_id(coder: CoderTasksClient, version_id: UUID, spec: str | None) -> UUID | None:
    """``--preset``: ``none`` (or nothing) for none, a preset id, or a preset name."""
    from uuid import UUID

    from coder_tasks_async import NotFoundError

    if spec is None or spec.strip().lower() in ("", NO_PRESET):
        return None
    if is_uuid(spec):
        return UUID(spec)
    try:
        return (await coder.get_preset(version_id, spec.strip())).id
    except NotFoundError as exc:
        raise CliError(
            f"--preset {spec!r}: {exc.detail or 'the template version has no such preset'}",
            "`coder templates presets list TEMPLATE` shows the presets",
            code=2,
        ) from None
