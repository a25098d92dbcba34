"""Names as Coder judges them, through the public API (issue 21, SDK rows 3 and 4, and
owners): ``codersdk.NameValid`` reserves only the lowercase ``new`` and ``create``, and
a display name is trimmed before its bytes are counted."""

from __future__ import annotations

import pytest

from coder_tasks_async import BadRequestError, CoderTasksClient, NotFoundError
from coder_tasks_async.testing import FakeClock, FakeCoder

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("name", ["New", "CREATE"])
async def test_names_that_only_look_reserved_are_created_and_found(
    fake_coder: FakeCoder, coder: CoderTasksClient, name: str
) -> None:
    """Regression: the SDK refused ``New`` and ``CREATE`` ("'new' is reserved") although
    Coder reserves only the lowercase spellings."""
    tv = fake_coder.template_version_id
    created = await coder.create_task("x", template_version_id=tv, name=name)
    assert created.name == name
    assert (await coder.get_task(name)).id == created.id
    assert (await coder.get_task(f"me/{name}")).id == created.id


@pytest.mark.parametrize("name", ["new", "create"])
async def test_the_lowercase_reserved_names_never_reach_the_server(
    fake_coder: FakeCoder, coder: CoderTasksClient, name: str
) -> None:
    with pytest.raises(ValueError, match="reserved"):
        await coder.create_task("x", template_version_id=fake_coder.template_version_id, name=name)
    assert not fake_coder.requests


async def test_a_display_name_is_trimmed_before_it_is_counted(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    """Regression: 64 bytes between spaces were refused locally; Coder trims first."""
    task = await coder.create_task(
        "x", template_version_id=fake_coder.template_version_id, display_name="  " + "x" * 64 + "  "
    )
    assert task.display_name == "x" * 64
    assert (await coder.get_task(task.id)).display_name == "x" * 64


async def test_a_display_name_is_counted_in_bytes_before_any_request(
    fake_coder: FakeCoder, coder: CoderTasksClient
) -> None:
    """33 "é" are 66 bytes: more than Coder's 64, refused before a request goes out;
    32 are 64 bytes and pass."""
    tv = fake_coder.template_version_id
    with pytest.raises(ValueError, match="64"):
        await coder.create_task("x", template_version_id=tv, display_name="é" * 33)
    assert not fake_coder.requests
    task = await coder.create_task("x", template_version_id=tv, display_name="é" * 32)
    assert task.display_name == "é" * 32


async def test_an_owner_named_new_is_a_username_like_any_other(
    fake_coder: FakeCoder, fake_clock: FakeClock
) -> None:
    """Regression: owners were checked case-insensitively, so ``list_tasks(owner="New")``
    and ``get_task("New/...")`` raised ``invalid owner 'New'`` before any request."""
    new = fake_coder.add_user("New")
    tv = fake_coder.template_version_id
    async with (
        CoderTasksClient(fake_coder.url, token=new.token, clock=fake_clock) as as_new,
        CoderTasksClient(fake_coder.url, token=fake_coder.token, clock=fake_clock) as other,
    ):
        task = await as_new.create_task("x", template_version_id=tv, name="mine", owner="New")
        assert task.owner_name == "New"
        assert [t.id for t in await as_new.list_tasks(owner="New")] == [task.id]
        assert (await as_new.get_task("New/mine")).id == task.id
        assert (await as_new.get_task("mine", owner="New")).id == task.id
        # Coder finds the user by LOWER(username) and checks no name rule on the way
        # (httpmw.ExtractUserContext): the lowercase spelling finds New too.
        assert [t.id for t in await as_new.list_tasks(owner="new")] == [task.id]
        assert (await as_new.get_task("new/mine")).id == task.id
        # Another member may name the owner too: the request goes out, Coder says 404.
        before = len(fake_coder.requests)
        with pytest.raises(NotFoundError):
            await other.get_task("New/mine")
        assert len(fake_coder.requests) > before
        with pytest.raises(BadRequestError, match="does not exist"):  # Coder's word, not ours
            await other.list_tasks(owner="CREATE")
