"""One fact, one place, and the places that must agree do.

The SDK's release table (``coder_tasks_async._wire.releases``) and FakeCoder's (its
route table and ``FEATURES``) are kept apart on purpose: the fake judges the SDK.  These
tests check that they say the same thing, that docs/compatibility.md shows the SDK's
table, and that the CLI lists the fake's profiles.
"""

from __future__ import annotations

import re

from helpers import TESTS

from coder_tasks_async._wire import releases as sdk
from coder_tasks_async.cli._fake import KNOWN_VERSIONS, known_versions
from coder_tasks_async.testing import PROFILES
from coder_tasks_async.testing._profile import FEATURES, version_tuple
from coder_tasks_async.testing._routes import _STABLE_TREE_SINCE, ROUTES

DOC = TESTS.parent / "docs" / "compatibility.md"


def _fake_since(feature: str) -> str:
    # An endpoint feature is named after the SDK method, and the fake's handler of that
    # endpoint carries the same name: the route row says when the release added it.
    routes = [r for r in ROUTES if r.handler == feature]
    if routes:
        (route,) = routes
        return route.since
    if feature == "stable_tree":
        return _STABLE_TREE_SINCE
    return FEATURES[feature]


def test_the_sdk_and_the_fake_agree_on_every_release_fact() -> None:
    for feature, since in sdk.RELEASES.items():
        assert version_tuple(_fake_since(feature)) == version_tuple(since), feature


def test_every_feature_of_the_fake_is_known_to_the_sdk() -> None:
    # The fake's own behaviours the SDK does not read at all are listed here by name.
    fake_only = {"canceled_is_error", "synthesized_state"}
    assert set(FEATURES) - set(sdk.RELEASES) == fake_only


def test_the_compatibility_page_shows_the_release_table() -> None:
    text = DOC.read_text()
    found = re.search(r"<!-- releases:begin -->\n(.*?)\n<!-- releases:end -->", text, re.S)
    assert found, "docs/compatibility.md lacks the generated release table"
    assert found.group(1) == sdk.markdown_table(), (
        "docs/compatibility.md §11 is out of date; replace it with:\n" + sdk.markdown_table()
    )


def test_the_cli_lists_the_fakes_profiles() -> None:
    assert KNOWN_VERSIONS == known_versions() == PROFILES


def test_route_names_are_unique_and_each_has_a_handler() -> None:
    from coder_tasks_async.testing._handlers import Api

    names = [r.name for r in ROUTES]
    assert len(names) == len(set(names))
    for route in ROUTES:
        assert callable(getattr(Api, route.handler, None)), route
