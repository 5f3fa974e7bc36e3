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

# The suite has its own lab, beside the demo's (`./demo.sh` leaves that one up): the tools it
# starts (`python -m lab`, the deploy in the control namespace) find it through these.
os.environ["ALLUXIO_LAB_DIR"] = os.environ.get("ALLUXIO_TEST_LAB_DIR", "/var/lib/alluxio-lab-tests")
os.environ["ALLUXIO_LAB_PREFIX"] = os.environ.get("ALLUXIO_TEST_LAB_PREFIX", "atest-")


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    the_lab = Lab()
    owner = the_lab.owner()
    if owner:
        pytest.exit(
            f"another test session (PID {owner}) is using the tests' lab ({the_lab.root}, "
            f"namespaces {the_lab.prefix}*): wait for it to end, then run again.",
            returncode=3,
        )
    try:
        if the_lab.is_up():  # a killed session's: its owner is gone
            print(f"\nremoving a stale test lab ({the_lab.root}) left by a session that was killed")
            the_lab.down()
        the_lab.up()
        the_lab.claim(os.getpid())
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
