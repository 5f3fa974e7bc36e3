"""Progress on the long steps (issue 22): under a pseudo-terminal a converge says how the
tarball's stream, the master's start, the wait for workers to be live and a rolling restart
are going; without a terminal, or with ``--json``, it says nothing of the kind."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import time
from pathlib import Path

from demo_release import build
from lab import Lab
from tests.labutil import PROJECT, PYINFRA, converge, release_data

PROGRESS = "--> progress: "


def on_a_terminal(lab: Lab, tarball: Path, *args: str) -> tuple[int, str]:
    """A converge whose stdin, stdout and stderr are a pseudo-terminal (outside CI's setting)."""
    argv = lab.run_argv([PYINFRA, "inventory.py", "deploy.py", "-y", *release_data(tarball), *args])
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    parent, child = pty.openpty()
    process = subprocess.Popen(argv, stdin=child, stdout=child, stderr=child, cwd=PROJECT, env=env)
    os.close(child)
    chunks = []
    deadline = time.monotonic() + 600
    # until the run has exited and said everything (a process it left may hold the terminal)
    while time.monotonic() < deadline:
        if select.select([parent], [], [], 0.5)[0]:
            try:
                data = os.read(parent, 65536)
            except OSError:  # the terminal's other side closed
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    os.close(parent)
    return process.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def env(value: str) -> list[str]:
    return ["--data", f"alluxio_env={json.dumps({'ALLUXIO_WORKER_JAVA_OPTS': f'-Dreconcile.test={value}'})}"]


def test_progress_lines_on_a_terminal_only(lab: Lab, tmp_path: Path) -> None:
    tarball = build(tmp_path / "release")  # ZooKeeper's client makes it 5 MiB: 10 s over a capped link
    lab.reset()
    lab.set_journal_replay("server08", 4)  # a master that takes a while to serve
    lab.set_worker_start("server07", 3)  # and a worker that registers late
    lab.cap_links("4mbit")
    try:
        code, out = on_a_terminal(lab, tarball)
        assert code == 0, out[-3000:]
        # the upload from here is the chain's first hop: the slowest node's bytes (the master's
        # counted as it acknowledges them), at 4mbit 2.4 MiB in 5 s
        lines = "\n".join(line for line in out.splitlines() if "progress: tarball" in line)
        assert re.search(
            rf"{re.escape(PROGRESS)}tarball from here to server08 and along 2 nodes: [0-3] of \d+ MiB on "
            r"the slowest node \((server06|server07|server08)\), 0\.\d+ MiB/s",
            out,
        ), lines
        assert (
            f"{PROGRESS}the master server08 starting: its JVM runs, its REST API does not answer yet" in out
        )
        waited = "every worker live on the master: live 2 of 3 (server06, server08); waiting for server07"
        assert f"{PROGRESS}{waited}" in out, out[-3000:]
        lab.cap_links(None)
        lab.set_journal_replay("server08", 0)
        code, out = on_a_terminal(lab, tarball, *env("a"))
    finally:
        lab.cap_links(None)
        lab.set_journal_replay("server08", 0)
        lab.set_worker_start("server07", 0)
    assert code == 0, out[-3000:]
    for k, name in enumerate(("server06", "server07", "server08"), start=1):
        assert f"{PROGRESS}rolling restart: worker {k} of 3: {name}" in out
    assert f"{PROGRESS}server07 restarted: live 0 of 1; waiting for server07" in out
    # not on a terminal, or with --json: none
    quiet = converge(lab, tarball, *env("b")).ok()
    assert PROGRESS not in quiet.stderr and PROGRESS not in quiet.stdout
    code, out = on_a_terminal(lab, tarball, "--json", *env("c"))
    assert code == 0 and PROGRESS not in out
