"""Room for every host's connection: the open-files limit raised before any host is contacted,
or the run refused naming the limit."""

from __future__ import annotations

import resource
import subprocess
import sys
from pathlib import Path

import pytest

from runtime import limits


def test_the_soft_limit_is_raised_to_what_the_hosts_need(monkeypatch: pytest.MonkeyPatch) -> None:
    set_to: list[tuple[int, int]] = []
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 4096))
    monkeypatch.setattr(resource, "setrlimit", lambda _, value: set_to.append(value))
    assert limits.open_files(100) is None and set_to == []  # room enough: left alone
    assert limits.open_files(1000) is None and set_to == [(1000 + limits.SPARE, 4096)]


def test_a_hard_limit_too_low_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 1024))
    why = limits.open_files(1000)
    assert why is not None and "1000 hosts need about 1064 open files" in why and "at most 1024" in why
    assert "ulimit -Hn" in why


def test_in_a_real_process_the_limit_is_raised() -> None:
    """A child whose soft limit is 256: making room for 500 hosts raises it for real."""
    code = (
        "import resource\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))\n"
        "from runtime import limits\n"
        "print(limits.open_files(500), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["None", str(500 + limits.SPARE)]


def test_a_run_whose_hard_limit_is_too_low_is_refused_before_connecting(tmp_path: Path) -> None:
    """The drift report under a hard limit of 60 open files (the post's 3 managed hosts need 67): it
    stops before its first connection, naming the limit."""
    from demo_release import build
    from tests.labutil import PROJECT

    tarball = build(tmp_path)
    done = subprocess.run(
        [
            "prlimit",
            "--nofile=60:60",
            "--",
            sys.executable,
            "drift.py",
            "inventory.py",
            "--data",
            f"alluxio_tarball={tarball}",
        ],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=120,
    )
    assert done.returncode != 0
    assert "3 hosts need about 67 open files" in done.stderr + done.stdout, done.stderr[-2000:]
    assert "Connecting" not in done.stderr + done.stdout
