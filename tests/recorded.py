"""Recorded node states (the output of ``NodeState``'s one command on each lab host, bare and
converged) and a cluster consistent with them, for unit tests of verdicts and operations.

    python -m tests.recorded     # as root: record them again in the lab (rewrites tests/data/node)
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from cluster import Cluster, Member, Node, Tarball
from facts.node import NodeSnapshot, NodeState
from tarball import read as read_tarball

DATA = Path(__file__).parent / "data" / "node"
NAMES = ("server08", "server06", "server07")


def snapshots(scenario: str) -> dict[str, NodeSnapshot]:
    """``bare`` (as the lab makes hosts) or ``converged`` (after one deploy)."""
    out = {}
    for name in NAMES:
        snap = NodeState().process((DATA / scenario / f"{name}.txt").read_text().splitlines())
        assert snap is not None
        out[name] = snap
    return out


def cluster(**changes: object) -> Cluster:
    """The post's cluster, with the tarball the converged recording was extracted from."""
    recorded = json.loads((DATA / "tarball.json").read_text())
    converged = snapshots("converged")["server06"]
    launcher = (converged.launcher.file.text or "").replace(" -tt ${worker}", " -t ${worker}")
    tarball = Tarball(
        local_path="/build/alluxio-1.2.0-cdh5-bin.tar.gz",
        sha256=recorded["sha256"],
        size=recorded["size"],
        tar_size=recorded["tar_size"],
        top="alluxio-1.2.0",
        members=tuple(Member(**m) for m in recorded["members"]),
        launcher=launcher,
    )
    base = Cluster(
        nodes=(
            Node(name="server08", address="10.0.1.13"),
            Node(name="server06", address="10.0.1.11"),
            Node(name="server07", address="10.0.1.12"),
        ),
        master="server08",
        workers=("server06", "server07", "server08"),
        resolve_only=(Node(name="server03", address="10.0.1.8"),),
        tarball=tarball,
        version="1.2.0",
        env=(),
        underfs_address="hdfs://server03:8020/alluxio",
    )
    return base.model_copy(update=changes)


def with_file(snap: NodeSnapshot, part: str, text: str | None, **file_changes: object) -> NodeSnapshot:
    """``snap`` with the file of ``part`` (etc_hosts, authorized_keys, ...) replaced."""
    from facts.conf import parse_env, parse_workers
    from facts.hosts import parse_hosts
    from facts.probe import ABSENT, FileState
    from facts.ssh import parse_known_hosts, parse_public_key
    from layout import launcher_shape

    old = getattr(snap, part)
    file = ABSENT if text is None else FileState("file", "644", "root", "root", text.encode())
    file = replace(file, **file_changes) if text is not None else file
    derived: dict[str, object] = {"file": file}
    body = text or ""
    if part == "etc_hosts":
        derived["lines"] = parse_hosts(body)
    elif part == "authorized_keys":
        lines = [ln for ln in body.splitlines() if ln.strip() and not ln.startswith("#")]
        derived["keys"] = tuple(k for ln in lines if (k := parse_public_key(ln)))
    elif part == "known_hosts":
        derived["entries"] = parse_known_hosts(body)
    elif part == "launcher":
        derived["shape"] = launcher_shape(text)
    elif part == "workers_file":
        derived["hosts"] = parse_workers(body)
    elif part == "alluxio_env":
        derived["settings"] = parse_env(body)
    return replace(snap, **{part: replace(old, **derived)})


def record() -> None:
    """Record the bare and converged states of the lab's hosts with the 1.2.0 demo release."""
    from demo_release import build
    from lab import Lab
    from tests.labutil import converge

    lab = Lab()
    lab.up()
    with tempfile.TemporaryDirectory() as folder:
        tarball = build(Path(folder))
        t = read_tarball(str(tarball), "alluxio-1.2.0")
        lab.reset()
        for scenario in ("bare", "converged"):
            if scenario == "converged":
                run = converge(lab, tarball)
                if run.returncode != 0:
                    sys.exit(f"the converge failed:\n{run.stderr[-3000:]}")
            (DATA / scenario).mkdir(parents=True, exist_ok=True)
            for name in NAMES:
                master = name == "server08"
                command = NodeState().command(
                    "/opt/alluxio-1.2.0",
                    "/opt/alluxio-1.2.0-cdh5-bin.tar.gz",
                    master,
                    "/v1/api/master/worker_info_list" if master else "",
                    tier_dirs=("/mnt/ramdisk",),  # as runtime/run.py reads a worker: its RAM folder
                )
                done = lab.exec(name, ["sh", "-c", command])
                (DATA / scenario / f"{name}.txt").write_text(done.stdout)
        members = [m.model_dump() for m in t.members]
        document = {"sha256": t.sha256, "size": t.size, "tar_size": t.tar_size, "members": members}
        (DATA / "tarball.json").write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    record()
