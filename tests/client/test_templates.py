"""``list_templates`` / ``get_template_version`` against FakeCoder's templates routes."""

from __future__ import annotations

import uuid

import pytest

from coder_tasks_async import CoderTasksClient, NotFoundError
from coder_tasks_async.testing import FakeCoder

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("version", ["v2.26.0", "v2.31.1"])
async def test_templates_by_name(version: str) -> None:
    async with (
        FakeCoder(server_version=version) as fake,
        CoderTasksClient(fake.url, token=fake.token) as coder,
    ):
        (template,) = await coder.list_templates()
        assert template.name == "claude-code-agent"
        assert template.organization_name == fake.organization_name
        assert template.active_version_id == fake.template_version_id
        found = await coder.get_template_version(template, "v1")
        assert found.id == fake.template_version_id and found.template_id == template.id
        with pytest.raises(NotFoundError):
            await coder.get_template_version(template.id, "nope")
        with pytest.raises(NotFoundError):
            await coder.get_template_version(uuid.uuid4(), "v1")
        with pytest.raises(ValueError, match="invalid template version name"):
            await coder.get_template_version(template, "a/b")
