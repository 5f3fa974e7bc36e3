"""The README's efficiency claims, as counts (times are the benchmark's business): a no-op
converge and a drift report cost one remote command per host, and a cold converge sends the
tarball out of the operator's machine once."""

from __future__ import annotations

from pathlib import Path

from bench.__main__ import sent_bytes, sessions
from demo_release import build
from lab import Lab
from tests.labutil import converge, drift

NODES = ("server06", "server07", "server08")


def test_remote_commands_per_host_and_bytes_sent_from_here(lab: Lab, tmp_path: Path) -> None:
    lab.reset()
    tarball = build(tmp_path, pad_mb=32)  # big enough that the tarball dominates what is sent
    before = sent_bytes(lab)
    converge(lab, tarball).ok()
    sent = sent_bytes(lab) - before
    size = tarball.stat().st_size
    assert size <= sent <= 1.1 * size, f"sent {sent} bytes for a {size}-byte tarball"

    for command in ("converge", "drift"):
        before_sessions, before = sessions(lab), sent_bytes(lab)
        if command == "converge":
            assert converge(lab, tarball).ok().changed() == {}
        else:
            assert drift(lab, tarball)[0] == 0
        after = sessions(lab)
        per_host = {n: after[n] - before_sessions.get(n, 0) for n in NODES}
        assert per_host == dict.fromkeys(NODES, 1), (command, per_host)
        assert sent_bytes(lab) - before < 256 * 1024, command  # no tarball bytes
