"""The tool's type hints are checked (mypy, configured in pyproject.toml): a mistyped field of a
verdict's details, or a command of the wrong type, fails here, not in a run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.labutil import PROJECT

CODE = (
    "cluster.py", "layout.py", "alluxio_site.py", "tiers.py", "heal.py", "tarball.py", "scripts.py",
    "refusal.py", "drift.py", "status.py", "deploy.py", "inventory.py",
    "facts", "operations", "resources", "runtime",
)  # fmt: skip


def test_the_tools_code_type_checks(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "mypy", f"--cache-dir={tmp_path}", *CODE]  # nothing written here
    done = subprocess.run(command, cwd=PROJECT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
