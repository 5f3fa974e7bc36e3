"""Shared fixtures: one lab for the whole session, torn down at the end, also on failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_release import build
from lab import Lab


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    the_lab = Lab()
    the_lab.down()  # whatever an earlier, killed run left behind
    try:
        the_lab.up()
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture(scope="session")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("release"))
