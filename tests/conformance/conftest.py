"""The ``env`` fixture of the conformance suite (helpers: tests/conformance_support.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from conformance_support import Env, served


@pytest.fixture
async def env(profile: str) -> AsyncIterator[Env]:
    async with served(profile) as e:
        yield e
