"""Site properties and storage tiers on a real cluster (issue 19): a two-tier worker converged
and reported per tier by the master, a no-op next, restarts only for the daemons that read a
changed key (workers one at a time, every tier's blocks kept), a site file that would hide
ours, and a tier folder that changes under its worker.

The demo release reads ``alluxio-site.properties`` as 1.x does (search order, defaults < site
file < ``-D``) and its worker builds its tiers from ``alluxio.worker.tieredstore.*``, adopting
the block files of every tier's folders when it starts.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_release import build
from lab import Lab
from tests.labutil import (
    MASTER,
    Run,
    changed_pairs,
    connections,
    converge,
    drift,
    dry_run,
    fetch,
    not_in_sync,
    ssh,
    wait_until,
)

WORKERS = ("server06", "server07", "server08")
MB = 1 << 20
TIERS = [
    {"alias": "MEM", "dirs": ["/mnt/ramdisk"], "quotas": ["64MB"]},
    {"alias": "HDD", "dirs": ["/mnt/hdd1", "/mnt/hdd2"], "quotas": ["100MB", "200MB"]},
]
HDD_BLOCKS = "/mnt/hdd1/alluxioworker"


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("tiers") / "1.2.0", version="1.2.0")


def data(site: dict[str, object] | None = None, tiers: object = TIERS) -> list[str]:
    return [
        "--data",
        f"alluxio_tiers={json.dumps(tiers)}",
        "--data",
        f"alluxio_site={json.dumps(site or {})}",
    ]


def rest(lab: Lab, call: str) -> object:
    return json.loads(fetch(lab, f"http://{MASTER}:19999/v1/api/master/{call}"))


def live(lab: Lab) -> dict[str, dict]:
    infos = rest(lab, "worker_info_list")
    assert isinstance(infos, list)
    return {w["address"]["host"]: w for w in infos if w["lastContactSec"] <= 3}


def pids(lab: Lab, name: str, cls: str) -> str:
    """The daemon's PID (the bracket keeps the shell running pgrep from matching itself)."""
    return ssh(lab, name, f"pgrep -f '[.]{cls}' || true").strip()


def test_two_tiers_are_reported_per_tier_and_restarts_keep_every_tiers_blocks(
    lab: Lab, release: Path
) -> None:
    lab.reset()
    first = converge(lab, release, *data()).ok()
    assert ("6. Each worker's disk tier folders are there, marked", "server06") in changed_pairs(first)
    per_worker = (64 + 100 + 200) * MB
    # the master reports what the workers declared, per tier, in its order of tiers
    assert wait_until(lambda: len(live(lab)) == 3, "every worker live")
    on_tiers = rest(lab, "capacity_bytes_on_tiers")
    assert on_tiers == {"MEM": 3 * 64 * MB, "HDD": 3 * 300 * MB} and list(on_tiers) == ["MEM", "HDD"]  # type: ignore[arg-type]
    assert {n: w["capacityBytes"] for n, w in live(lab).items()} == dict.fromkeys(WORKERS, per_worker)
    for n in WORKERS:
        assert ssh(lab, n, "cat /mnt/hdd2/.alluxio-reconcile-tier") == "level1 HDD /mnt/hdd2\n"
        assert "alluxio.worker.tieredstore.level1.dirs.quota=100MB,200MB" in ssh(
            lab, n, "cat /opt/alluxio-1.2.0/conf/alluxio-site.properties"
        )
    again = converge(lab, release, *data()).ok()
    assert changed_pairs(again) == set()

    # the closing lines: which hosts changed which steps, in one screen
    def closing(run: Run) -> list[str]:
        return [
            ln.strip()
            for ln in run.stderr.split("What changed, host by host (the steps of deploy.py):")[
                1
            ].splitlines()[1:4]
        ]

    assert [ln.split(":")[0] for ln in closing(first)] == ["server08", "server06", "server07"]
    assert all(
        {"2", "4", "6", "8", "11"} <= set(ln.split(": steps ")[1].split(", ")) for ln in closing(first)
    )
    assert closing(again)[0] == "unchanged: server08, server06, server07"
    code, report, _ = drift(lab, release, *data())
    assert code == 0 and not_in_sync(report) == set()

    # blocks on the disk tier: a key only workers read restarts each in turn, and each adopts them
    for i, n in enumerate(WORKERS):
        lab.exec(n, ["sh", "-c", f"head -c {8192 * (i + 1)} /dev/urandom > {HDD_BLOCKS}/{2001 + i}"])
    sums = {n: ssh(lab, n, f"sha256sum {HDD_BLOCKS}/*") for n in WORKERS}
    master_pid = pids(lab, MASTER, "AlluxioMaster")
    # long enough that the workers outlast the master restart below, however slow the machine
    worker_site = {"alluxio.worker.block.heartbeat.timeout.ms": 300000}
    code, pending, err = dry_run(lab, release, *data(worker_site), "--diff")
    assert code == 0
    assert {h for op, h in pending if op == "8. Workers restart one at a time"} == set(WORKERS)
    assert ("8. The master runs and serves", MASTER) not in pending
    assert "site keys server06's worker reads (alluxio.worker.block.heartbeat.timeout.ms)" in err
    rolled = converge(lab, release, *data(worker_site)).ok()
    assert {h for op, h in changed_pairs(rolled) if op == "8. Workers restart one at a time"} == set(WORKERS)
    assert pids(lab, MASTER, "AlluxioMaster") == master_pid
    want = {n: 8192 * (i + 1) for i, n in enumerate(WORKERS)}
    assert wait_until(
        lambda: {n: w["usedBytes"] for n, w in live(lab).items()} == want, "every worker's HDD blocks adopted"
    )
    assert rest(lab, "used_bytes_on_tiers") == {"MEM": 0, "HDD": sum(want.values())}
    assert {n: ssh(lab, n, f"sha256sum {HDD_BLOCKS}/*") for n in WORKERS} == sums

    # a key the master reads restarts the master, and no worker for the change
    worker_pids = {n: pids(lab, n, "AlluxioWorker") for n in WORKERS}
    both = {**worker_site, "alluxio.master.worker.timeout.ms": 120000}
    code, pending, err = dry_run(lab, release, *data(both))
    assert ("8. The master runs and serves", MASTER) in pending
    assert not {h for op, h in pending if op == "8. Workers restart one at a time"}
    master_change = converge(lab, release, *data(both)).ok()
    assert pids(lab, MASTER, "AlluxioMaster") != master_pid
    # A worker restarts only if it did not rejoin: a restarted 1.2.0 master numbers workers from 1
    # again and takes a heartbeat with another worker's id for that worker's (BlockMaster's
    # mNextWorkerId, workerHeartbeat), so a worker can stay unlisted; the run names it.
    for n in WORKERS:
        if pids(lab, n, "AlluxioWorker") != worker_pids[n]:
            assert f"[{n}] its worker runs but did not rejoin the master" in master_change.stderr, (
                master_change.stderr[-3000:]
            )
    assert rest(lab, "configuration")["alluxio.master.worker.timeout.ms"] == "120000"  # type: ignore[index]
    assert wait_until(lambda: len(live(lab)) == 3, "every worker back on the restarted master")

    # another file system mounted over a tier folder: named, and its worker restarted
    lab.exec("server07", ["mount", "-t", "tmpfs", "-o", "size=300m", "tmpfs", "/mnt/hdd2"])
    code, report, _ = drift(lab, release, *data(both))
    assert code == 2 and not_in_sync(report) == {("server07", "tier_dirs")}
    assert "/mnt/hdd2 lost its marker" in report["hosts"]["server07"]["resources"]["tier_dirs"]["actual"]
    before = pids(lab, "server07", "AlluxioWorker")
    healed = converge(lab, release, *data(both)).ok()
    assert ("8. Workers restart one at a time", "server07") in changed_pairs(healed)
    assert pids(lab, "server07", "AlluxioWorker") != before
    assert ssh(lab, "server07", "cat /mnt/hdd2/.alluxio-reconcile-tier") == "level1 HDD /mnt/hdd2\n"


def test_a_site_file_that_would_hide_ours_is_named_and_refused(lab: Lab, release: Path) -> None:
    # the cluster of the test before, as it left it (or a fresh one)
    converge(lab, release, *data()).ok()
    lab.exec(
        "server06",
        [
            "sh",
            "-c",
            "mkdir -p /etc/alluxio && echo alluxio.master.port=1 > /etc/alluxio/alluxio-site.properties",
        ],
    )
    code, report, _ = drift(lab, release, *data())
    assert code == 2
    entry = report["hosts"]["server06"]["resources"]["alluxio_site"]
    assert (
        entry["status"] == "drifted" and "hidden by /etc/alluxio/alluxio-site.properties" in entry["actual"]
    )
    site = "cat /opt/alluxio-1.2.0/conf/alluxio-site.properties"
    before = ssh(lab, "server06", site)
    changed = {"alluxio.user.file.writetype.default": "CACHE_THROUGH"}
    run = converge(lab, release, *data(changed))
    assert run.returncode != 0
    assert "/etc/alluxio/alluxio-site.properties would be loaded instead of" in run.stderr
    assert ssh(lab, "server06", site) == before  # nothing written where the daemons would not read it
    assert "CACHE_THROUGH" in ssh(lab, "server07", site)
    lab.exec("server06", ["rm", "-r", "/etc/alluxio"])
    converge(lab, release, *data(changed)).ok()
    assert "CACHE_THROUGH" in ssh(lab, "server06", site)


def test_bad_tiers_and_typod_keys_are_refused_before_any_connection(lab: Lab, release: Path) -> None:
    seen = connections(lab)
    bad_tiers = [{"alias": "MEM"}, {"alias": "HDD", "dirs": ["/a", "/b", "/c"], "quotas": ["1GB", "2GB"]}]
    run = converge(lab, release, *data(tiers=bad_tiers))
    assert run.returncode == 1
    assert "--data alluxio_tiers[1]: 3 dirs and 2 quotas" in run.stderr
    run = converge(lab, release, *data({"alluxio.master.worker.timout.ms": 1}))
    assert run.returncode == 1
    assert "did you mean 'alluxio.master.worker.timeout.ms'?" in run.stderr
    assert connections(lab) == seen
