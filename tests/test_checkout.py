"""The tool wherever its checkout lies: a read-only checkout deploys, reports and writes
nothing there (the whole suite checks the same of itself at its end, see conftest)."""

from __future__ import annotations

import sys
from pathlib import Path

from lab import Lab
from tests.labutil import PROJECT, PYINFRA, release_data, worker_count


def read_only(lab: Lab, *argv: str):
    """``argv`` in the control namespace, with the checkout mounted read-only there."""
    script = f'mount --bind -o ro {PROJECT} {PROJECT} && cd {PROJECT} && exec "$@"'
    return lab.run(["sh", "-c", script, "sh", *argv], capture_output=True, text=True)


def test_a_read_only_checkout_converges_and_reports(lab: Lab, tarball: Path) -> None:
    assert read_only(lab, "touch", "probe").returncode != 0  # it really is read-only there
    lab.reset()
    run = read_only(lab, PYINFRA, "inventory.py", "deploy.py", "-y", *release_data(tarball))
    assert run.returncode == 0, run.stderr[-3000:]
    assert worker_count(lab) == 3
    report = read_only(lab, sys.executable, "drift.py", "inventory.py", "--json", *release_data(tarball))
    assert report.returncode == 0, report.stderr[-2000:]
    dry = read_only(lab, PYINFRA, "inventory.py", "deploy.py", "--dry", "--diff", *release_data(tarball))
    assert dry.returncode == 0, dry.stderr[-2000:]
