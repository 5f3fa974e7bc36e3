"""Who can reach whom, while the tarball streams and after (issue 23): only the master acts as
the master's root. A chain node, root there turned hostile, finds no credential that opens a
shell anywhere: its link to the next node runs that node's receive step only, which refuses a
corrupt stream; and nothing of the chain stays authorized or open after a run, also after a run
killed mid-stream."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_release import build
from lab import Lab
from tests.labutil import (
    PROJECT,
    PYINFRA,
    chain_leftovers,
    converge,
    drift,
    release_data,
    wait_until,
)

NODES = ("server06", "server07", "server08")
WORKERS = ("server06", "server07")  # the chain's nodes: every node but the master
ATTACK = (PROJECT / "tests" / "chain_attack.sh").read_text()


@pytest.fixture
def capped(lab: Lab, tmp_path: Path) -> Iterator[Path]:
    """Bare hosts, links at 20 mbit/s and a 24 MiB release: the stream takes about ten seconds."""
    lab.reset()
    lab.cap_links("20mbit")
    try:
        yield build(tmp_path, pad_mb=24)
    finally:
        lab.cap_links(None)


def test_while_the_tarball_streams_no_chain_node_gets_a_shell_anywhere(lab: Lab, capped: Path) -> None:
    for worker in WORKERS:  # its own root key, which nobody authorized
        lab.exec(
            worker, ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", "/root/.ssh/id_ed25519"], check=True
        )
    attackers = {
        w: subprocess.Popen(
            lab.exec_argv(w, ["sh", "-c", ATTACK, "attack", "300", *NODES]), stdout=subprocess.PIPE, text=True
        )
        for w in WORKERS
    }
    try:
        run = converge(lab, capped)
    finally:
        for w in WORKERS:
            lab.exec(w, ["touch", "/tmp/stop-attack"], check=True)
        said = {w: attackers[w].communicate(timeout=120)[0] for w in WORKERS}
    run.ok()
    digest = hashlib.sha256(capped.read_bytes()).hexdigest()
    everything = "".join(said.values())
    assert not re.search(r"^shell ", everything, re.M), everything  # no command ran anywhere
    for name in NODES:
        assert lab.exec(name, ["sh", "-c", "ls /root/pwned-by-* 2>/dev/null"]).stdout == "", name
    # the attack found the chain's link and used it: whatever it asked through it (or with a hop
    # key it caught), only the next node's receive step answered, and refused
    commands = re.findall(r"^said \S+ command (?:through|with) (\S+): (.*)$", everything, re.M)
    assert any(".alluxio-chain-" in via for via, _ in commands), everything
    assert all(re.match(r"bad server0\d refused to run: cat /etc/shadow$", a) for _, a in commands), commands
    streams = re.findall(r"^said \S+ stream through \S+: (.*)$", everything, re.M)
    assert streams and all(re.match(r"bad server0\d tarball corrupted in transfer", a) for a in streams), (
        streams
    )
    for name in NODES:
        assert chain_leftovers(lab, name) == "", name
        assert lab.exec(name, ["sha256sum", f"/opt/{capped.name}"]).stdout.split()[0] == digest
    assert drift(lab, capped)[0] == 0


def test_a_run_killed_mid_stream_leaves_nothing_the_next_converge_does_not_remove(
    lab: Lab, capped: Path
) -> None:
    argv = [PYINFRA, "inventory.py", "deploy.py", "-y", *release_data(capped)]
    killed = subprocess.Popen(
        lab.run_argv(argv), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        # the stream runs: a chain node holds its link to the next
        wait_until(
            lambda: any(".alluxio-chain-" in chain_leftovers(lab, w) for w in WORKERS), "a chain link", 120
        )
    finally:
        os.kill(killed.pid, signal.SIGKILL)  # `ip netns exec` and the shell exec'd into pyinfra
        killed.wait()
    run = converge(lab, capped).ok()
    assert "took over" in run.stderr  # the killed run's lock
    for name in NODES:
        assert chain_leftovers(lab, name) == "", name
    assert drift(lab, capped)[0] == 0
