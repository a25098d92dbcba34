"""The endpoints tasks need outside the tasks tree: templates, their versions and presets,
and workspace builds.  Mixed into :class:`~coder_tasks_async._endpoints.tasks.TaskEndpoints`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar
from urllib.parse import quote
from uuid import UUID

from .._wire import converter, protocol
from .._wire.errors import CoderDecodeError, NotFoundError
from .._wire.models import WorkspaceBuild

if TYPE_CHECKING:
    from .._wire.settings import RetryPolicy, Timeouts
    from .._wire.templates import Preset, Template, TemplateVersion
    from .calls import ApiCalls

__all__ = ["ResourceEndpoints"]

T = TypeVar("T")
_NOT_FOUND = "Resource not found or you do not have access to this resource"


# The templates module is loaded on first use (the imports inside the functions below):
# most programs never look at templates, and its three models cost ~1.5 ms of every
# ``import`` (attrs compiles each class's methods).


def _template_id(template: Template | UUID | str) -> UUID:
    from .._wire.templates import Template

    if isinstance(template, Template):
        return template.id
    return protocol.as_uuid(template, "template")


def _version_id(version: TemplateVersion | UUID | str) -> UUID:
    from .._wire.templates import TemplateVersion

    if isinstance(version, TemplateVersion):
        return version.id
    return protocol.as_uuid(version, "template_version")


def _decode_templates(body: bytes) -> list[Template]:
    from .._wire.templates import Template

    return converter.decode(body, list[Template])


def _decode_version(body: bytes) -> TemplateVersion:
    from .._wire.templates import TemplateVersion

    return converter.decode(body, TemplateVersion)


def _decode_presets(body: bytes) -> list[Preset]:
    from .._wire.templates import preset_from_wire

    data = converter.loads(body)
    if data is None:  # Go writes a nil slice as null: no presets
        return []
    if not isinstance(data, list):
        raise CoderDecodeError("expected a JSON list of presets", snippet=body[:200].decode())
    try:
        return [preset_from_wire(item) for item in data]
    except (TypeError, ValueError) as exc:
        raise CoderDecodeError(f"unexpected preset: {exc}", snippet=body[:200].decode()) from None


class ResourceEndpoints:
    """Templates, presets and workspace builds (the methods of ``CoderTasksClient``)."""

    if TYPE_CHECKING:
        _calls: ApiCalls  # set by TaskEndpoints

        @property
        def url(self) -> str: ...

    async def list_templates(
        self, *,
        has_ai_task: bool | None = None,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> list[Template]:  # fmt: skip
        """Every template you can see, across organizations (``GET /api/v2/templates``).

        ``has_ai_task=True`` keeps the templates whose active version can run tasks (a
        ``coder_ai_task`` resource): Coder's ``has-ai-task:true`` search, what ``coder
        task create`` asks when no template is named; ``False`` keeps the others.

        Example::

            (template,) = await coder.list_templates(has_ai_task=True)
            task = await coder.create_task("Fix it", template_version_id=template.active_version_id)
        """
        params = None
        if has_ai_task is not None:
            params = {"q": f"has-ai-task:{'true' if has_ai_task else 'false'}"}
        found = await self._calls.get_api(
            "/api/v2/templates",
            _decode_templates,
            route="/api/v2/templates",
            params=params,
            timeouts=timeouts,
            retry=retry,
        )
        return found

    async def get_template_version(
        self, template: Template | UUID | str, name: str, *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> TemplateVersion:  # fmt: skip
        """A template's version by name (``GET /api/v2/templates/{id}/versions/{name}``).

        Example::

            version = await coder.get_template_version(template, "v1.2.0")
            await coder.create_task("Fix it", template_version_id=version.id)
        """
        template_id = _template_id(template)
        if not isinstance(name, str) or not name or "/" in name:
            raise ValueError(f"invalid template version name {name!r}")
        path = f"/api/v2/templates/{template_id}/versions/{quote(name, safe='')}"
        return await self._calls.get_api(
            path,
            _decode_version,
            route="/api/v2/templates/{template}/versions/{templateversionname}",
            timeouts=timeouts,
            retry=retry,
        )

    async def list_presets(
        self, template_version: TemplateVersion | UUID | str, *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> list[Preset]:  # fmt: skip
        """The presets of a template version (``GET /api/v2/templateversions/{id}/presets``).

        Example::

            presets = await coder.list_presets(template.active_version_id)
            default = next((p for p in presets if p.default), None)
        """
        path = f"/api/v2/templateversions/{_version_id(template_version)}/presets"
        return await self._calls.get_api(
            path,
            _decode_presets,
            route="/api/v2/templateversions/{templateversion}/presets",
            timeouts=timeouts,
            retry=retry,
        )

    async def get_preset(
        self, template_version: TemplateVersion | UUID | str, name: str, *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> Preset:  # fmt: skip
        """The preset of ``template_version`` named exactly ``name`` (as ``coder task create
        --preset`` matches it); :class:`NotFoundError` when there is none.

        Example::

            preset = await coder.get_preset(version, "Large")
            await coder.create_task("Go", template_version_id=version.id,
                                    template_version_preset_id=preset.id)
        """
        presets = await self.list_presets(template_version, timeouts=timeouts, retry=retry)
        for preset in presets:
            if preset.name == name:
                return preset
        known = ", ".join(repr(p.name) for p in presets) or "none"
        raise NotFoundError(
            status=404,
            message=_NOT_FOUND,
            detail=f"no preset named {name!r} (the version has: {known})",
            method="GET",
            url=self.url,
        )

    async def get_workspace_build(
        self, build: WorkspaceBuild | UUID | str, *,
        timeouts: Timeouts | None = None, retry: RetryPolicy | None = None,
    ) -> WorkspaceBuild:  # fmt: skip
        """A workspace build as it is now (``GET /api/v2/workspacebuilds/{id}``), e.g. the one
        ``pause_task`` started; ``wait_for_build`` polls this until the build ends."""
        if isinstance(build, WorkspaceBuild):
            build_id = build.id
        else:
            build_id = protocol.as_uuid(build, "build")
        return await self._calls.get_api(
            f"/api/v2/workspacebuilds/{build_id}",
            _decode_build,
            route="/api/v2/workspacebuilds/{workspacebuild}",
            timeouts=timeouts,
            retry=retry,
        )


def _decode_build(body: bytes) -> WorkspaceBuild:
    return converter.decode(body, WorkspaceBuild)
