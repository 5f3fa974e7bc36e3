"""Day two on a real cluster (issue 25): every restart keeps each worker's cache where its RAM
folder stays mounted, and a master slower than the workers' timeouts strands none of them.

The demo release behaves as 1.x does here (section 11 of the interface reference): a worker
adopts the block files of its RAM folder when it starts and reports their bytes as used; a
``SudoMount`` start re-mounts the folder empty; a worker gives up registering after
``alluxio.master.retry`` attempts and stops heartbeating for good once its master has been away
for ``alluxio.worker.block.heartbeat.timeout.ms``; the lab makes the master replay its journal
for as long as a test asks.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.inventories import cluster_of
from demo_release import build
from lab import Lab
from tests.labutil import MASTER, changed_pairs, converge, drift, fetch, not_in_sync, ssh, wait_until

NODES = ("server06", "server07", "server08")
HOSTS = {"server08": "10.0.1.13", "server06": "10.0.1.11", "server07": "10.0.1.12"}
BLOCKS = "/mnt/ramdisk/alluxioworker"


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cache")
    return {v: build(folder / v, version=v) for v in ("1.2.0", "1.3.0")}


def used_bytes(lab: Lab) -> dict[str, int]:
    """Each listed worker's ``usedBytes`` on the master, for the live ones."""
    infos = json.loads(fetch(lab, f"http://{MASTER}:19999/v1/api/master/worker_info_list"))
    return {w["address"]["host"]: w["usedBytes"] for w in infos if w["lastContactSec"] <= 3}


def blocks(lab: Lab) -> dict[str, str]:
    """Each worker's block files with their sums (what a remount would lose)."""
    return {n: ssh(lab, n, f"cd {BLOCKS} && sha256sum * 2>/dev/null || true") for n in NODES}


def env(**settings: str) -> list[str]:
    return ["--data", f"alluxio_env={json.dumps(settings)}"]


def test_blocks_survive_every_restart_and_a_moved_ram_folder_starts_empty(
    lab: Lab, releases: dict[str, Path]
) -> None:
    lab.reset()
    old, new = releases["1.2.0"], releases["1.3.0"]
    converge(lab, old).ok()
    for i, n in enumerate(NODES):
        size = 4096 * (i + 1)
        lab.exec(
            n, ["sh", "-c", f"head -c {size} /dev/urandom > {BLOCKS}/{1001 + i}; echo x > {BLOCKS}/junk"]
        )
    # a worker-only change: each worker restarts on its mounted folder and adopts its blocks
    adopt = converge(lab, old, *env(ALLUXIO_WORKER_JAVA_OPTS="-Dreconcile.test=adopt")).ok()
    assert "its worker keeps its cache: /mnt/ramdisk stays mounted, started with NoMount" in adopt.stderr
    want = {n: 4096 * (i + 1) for i, n in enumerate(NODES)}
    assert wait_until(lambda: used_bytes(lab) == want and used_bytes(lab), "every worker's blocks adopted")
    cached = blocks(lab)
    assert all(cached[n].count("\n") == 1 and "junk" not in cached[n] for n in NODES), (
        cached
    )  # 1.x deletes it

    steps = [
        (
            "the master alone",
            old,
            env(ALLUXIO_WORKER_JAVA_OPTS="-Dreconcile.test=adopt", ALLUXIO_MASTER_JAVA_OPTS="-Dx=1"),
        ),
        ("the master, then each worker", old, env(ALLUXIO_JAVA_OPTS="-Dreconcile.test=both")),
        ("an upgrade", new, env(ALLUXIO_JAVA_OPTS="-Dreconcile.test=both")),
        ("a rollback", old, env(ALLUXIO_JAVA_OPTS="-Dreconcile.test=both")),
    ]
    for what, tarball, data in steps:
        run = converge(lab, tarball, *data).ok()
        assert "SudoMount" not in run.stderr, what
        assert wait_until(lambda: used_bytes(lab) == want and used_bytes(lab), f"blocks after {what}", 30)
        assert blocks(lab) == cached, what
    # a host whose worker died: started again on the folder it had
    lab.exec("server07", ["sh", "-c", "kill -9 $(pgrep -o -f alluxio.worker.AlluxioWorker)"], check=True)
    revived = converge(lab, old, *steps[-1][2]).ok()
    assert ("8. Workers run, started once the master serves", "server07") in changed_pairs(revived)
    assert wait_until(lambda: used_bytes(lab) == want and used_bytes(lab), "blocks after a worker died", 30)
    assert blocks(lab) == cached
    assert drift(lab, old, *steps[-1][2])[0] == 0

    # a RAM folder that moves: mounted there, the old one unmounted, and the run says so
    moved = env(ALLUXIO_JAVA_OPTS="-Dreconcile.test=both", ALLUXIO_RAM_FOLDER="/mnt/ramdisk2")
    run = converge(lab, old, *moved).ok()
    said = "its worker moves its RAM folder from /mnt/ramdisk to /mnt/ramdisk2: the cache starts empty there"
    assert f"{said}, and /mnt/ramdisk is unmounted" in run.stderr
    for n in NODES:
        mounts = ssh(lab, n, "awk '{print $2, $3}' /proc/mounts")
        assert "/mnt/ramdisk2 ramfs" in mounts and "/mnt/ramdisk ramfs" not in mounts, (n, mounts)
    assert wait_until(lambda: used_bytes(lab) == dict.fromkeys(NODES, 0) and used_bytes(lab), "empty caches")
    assert drift(lab, old, *moved)[0] == 0


def test_a_master_slower_than_the_workers_timeouts_strands_no_worker(
    lab: Lab, releases: dict[str, Path], tmp_path: Path
) -> None:
    lab.reset()
    old, new = releases["1.2.0"], releases["1.3.0"]
    lab.set_journal_replay(MASTER, 8)  # longer than both timeouts below
    # declared: workers give up on a silent master after 3 s, and register once (about 5 s)
    quick = env(
        ALLUXIO_WORKER_JAVA_OPTS="-Dalluxio.worker.block.heartbeat.timeout.ms=3000 -Dalluxio.master.retry=0"
    )
    try:
        cold = converge(lab, old, *quick).ok()  # its health step counts all three live
        assert ("8. Workers run, started once the master serves", "server06") in changed_pairs(cold)
        assert "Replaying the journal (8 s" in ssh(lab, MASTER, "cat /opt/alluxio-1.2.0/logs/master.log")

        # retire server07: the master restarts alone, longer than the workers' heartbeat lasts
        two = cluster_of(
            tmp_path / "two", HOSTS, MASTER, workers=["server06", "server08"], retired=["server07"]
        )
        run = converge(lab, old, *quick, inventory=two).ok()
        gave_up = ssh(lab, "server06", "cat /opt/alluxio-1.2.0/logs/worker.log")
        assert "Heartbeat Thread shutting down" in gave_up  # it did give up, before the tool restarted it
        assert "did not rejoin the master within 10 s of it serving" in run.stderr
        assert sorted(wait_until(lambda: used_bytes(lab), "live workers")) == ["server06", "server08"]
        assert changed_pairs(converge(lab, old, *quick, inventory=two).ok()) == set()
        code, document, _ = drift(lab, old, *quick, inventory=two)
        assert code == 0, not_in_sync(document)

        # an upgrade: everything stops, the master replays, then the workers start, in one run
        converge(lab, new, *quick, inventory=two).ok()
        assert sorted(used_bytes(lab)) == ["server06", "server08"]

        # the release's own `start all` on such a master: its workers give up registering
        ssh(lab, MASTER, "/opt/alluxio-1.3.0/bin/alluxio-start.sh all")
        wait_until(
            lambda: (
                "stopping it and exiting" in ssh(lab, "server06", "cat /opt/alluxio-1.3.0/logs/worker.log")
            ),
            "server06's worker to give up registering",
            30,
        )
        assert drift(lab, new, *quick, inventory=two)[0] == 2
        converge(lab, new, *quick, inventory=two).ok()
        assert sorted(used_bytes(lab)) == ["server06", "server08"]
    finally:
        lab.set_journal_replay(MASTER, 0)
