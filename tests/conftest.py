"""Shared fixtures: one lab for the whole session, torn down at the end, also on failure."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_release import build
from lab import Lab

# Nothing the suite runs writes into the checkout (it may be read-only): no bytecode caches,
# here or in the tools it starts.
sys.dont_write_bytecode = True
os.environ["PYTHONDONTWRITEBYTECODE"] = "1"


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    the_lab = Lab()
    if the_lab.is_up():
        pytest.exit(
            f"a lab is already up on this machine ({the_lab.root}, namespaces alab-*): the tests need "
            "their own. If it is yours and idle, remove it with `python -m lab down`, then run again.",
            returncode=3,
        )
    try:
        the_lab.up()
        yield the_lab
    finally:
        the_lab.down()


@pytest.fixture(scope="session")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The post's release (1.2.0), for the tests that are about the post itself."""
    return build(tmp_path_factory.mktemp("release"))


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    skip = {root / ".venv", root / ".git"}
    out = {}
    for path in root.rglob("*"):
        if any(path == s or s in path.parents for s in skip):
            continue
        if path.is_file():
            stat = path.stat()
            out[str(path.relative_to(root))] = (stat.st_size, stat.st_mtime_ns)
    return out


@pytest.fixture(scope="session", autouse=True)
def checkout_untouched() -> Iterator[None]:
    """The suite never writes into the checkout (it may be read-only): checked at its end."""
    root = Path(__file__).resolve().parent.parent
    before = _listing(root)
    yield
    after = _listing(root)
    changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
    assert not changed, f"the test session wrote into the checkout: {changed[:10]}"
