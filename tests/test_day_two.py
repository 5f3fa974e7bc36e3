"""Day two, end to end in the lab (issue 10): upgrade 1.2.0 -> 1.3.0 and roll back without
losing the namespace, grow and shrink the cluster, restart workers one at a time, and faults."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from bench.inventories import cluster_of
from demo_release import build
from lab import Lab
from tests.labutil import (
    MASTER,
    PROJECT,
    PYINFRA,
    Run,
    changed_pairs,
    converge,
    drift,
    dry_run,
    host,
    live_workers,
    not_in_sync,
    release_data,
    ssh,
    wait_until,
    wait_worker_count,
)

NODES = ("server06", "server07", "server08")
OLD, NEW = "/opt/alluxio-1.2.0", "/opt/alluxio-1.3.0"
METADATA = "FileSystemMaster/log.out"  # a journal file the master would have written
BACKUPS = "/var/backups/alluxio-reconcile"


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("day-two")
    return {v: build(folder / v, version=v) for v in ("1.2.0", "1.3.0")}


def master_home(lab: Lab) -> str:
    """The release folder the master's JVM runs from."""
    args = ssh(lab, MASTER, "ps -eo args").splitlines()
    line = next(a for a in args if "alluxio.master.AlluxioMaster" in a and "java" in a)
    return next(w for w in line.split() if w.startswith("-Dalluxio.home=")).split("=", 1)[1]


def write_metadata(lab: Lab, home: str, text: str) -> None:
    lab.exec(MASTER, ["sh", "-c", f"printf '%s' '{text}' > {home}/journal/{METADATA}"], check=True)


def test_upgrade_rollback_and_an_interrupted_upgrade_keep_the_journal(
    lab: Lab, releases: dict[str, Path]
) -> None:
    lab.reset()
    converge(lab, releases["1.2.0"]).ok()
    write_metadata(lab, OLD, "the namespace of 1.2.0")
    marker = ssh(lab, MASTER, f"ls {OLD}/journal | grep _format_").strip()

    # the pending upgrade, before anything happens: intentional, the version change in one line
    code, document, _ = drift(lab, releases["1.3.0"])
    assert code == 2
    j = document["hosts"][MASTER]["resources"]["journal"]
    assert j["cause"] == "intentional"
    assert j["actual"] == "in alluxio-1.2.0/journal: version change 1.2.0 -> 1.3.0, to carry over"
    _, predicted, stderr = dry_run(lab, releases["1.3.0"], "--diff")
    assert "journal: drifted: in alluxio-1.2.0/journal: version change 1.2.0 -> 1.3.0" in stderr
    assert not any(op.startswith("1. Stop") for op, _ in predicted)  # the old release runs meanwhile

    run = converge(lab, releases["1.3.0"]).ok()
    assert changed_pairs(run) == predicted
    assert master_home(lab) == NEW and wait_worker_count(lab, 3) == 3
    master = host(lab, MASTER)
    assert master.file(f"{NEW}/journal/{METADATA}").content_string == "the namespace of 1.2.0"
    assert ssh(lab, MASTER, f"ls {NEW}/journal | grep _format_").strip() == marker  # never formatted
    assert not master.file(f"{OLD}/journal").exists and master.file(OLD).is_directory  # kept for a rollback
    backups = ssh(lab, MASTER, f"ls {BACKUPS}").split()
    assert len(backups) == 1 and backups[0].endswith("-alluxio-1.2.0-journal.tar.gz")
    listing = ssh(lab, MASTER, f"tar -tzf {BACKUPS}/{backups[0]}")
    assert f"journal/{METADATA}" in listing and f"journal/{marker}" in listing
    restored = ssh(
        lab,
        MASTER,
        f"mkdir -p /tmp/restore && tar -xzf {BACKUPS}/{backups[0]} -C /tmp/restore && cat /tmp/restore/journal/{METADATA}",
    )
    assert restored == "the namespace of 1.2.0"
    for name in NODES:  # 1.3.0 ships -tt: its launcher is left as shipped
        assert host(lab, name).file(f"{NEW}/bin/alluxio-workers.sh").contains(r" -tt \${worker}")
    assert drift(lab, releases["1.3.0"])[0] == 0
    assert converge(lab, releases["1.3.0"]).ok().changed() == {}

    # rollback: the previous release is there; nothing is sent; the journal comes back with it
    write_metadata(lab, NEW, "the namespace of 1.3.0")
    sent_before = ssh(lab, "server06", f"stat -c %Y /opt/{releases['1.2.0'].name}")
    back = converge(lab, releases["1.2.0"]).ok()
    assert not [op for op, _ in changed_pairs(back) if op.startswith("4.")]  # no tarball, no extraction
    assert master_home(lab) == OLD and wait_worker_count(lab, 3) == 3
    assert master.file(f"{OLD}/journal/{METADATA}").content_string == "the namespace of 1.3.0"
    assert ssh(lab, "server06", f"stat -c %Y /opt/{releases['1.2.0'].name}") == sent_before
    assert len(ssh(lab, MASTER, f"ls {BACKUPS}").split()) == 2

    # an upgrade interrupted after the stop: the control side dies; the next run finishes it
    argv = [PYINFRA, "inventory.py", "deploy.py", "-y", *release_data(releases["1.3.0"])]
    # `ip netns exec` and the lab's shell exec pyinfra: this PID is pyinfra's own
    control = subprocess.Popen(
        lab.run_argv(argv), cwd=PROJECT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_until(
            lambda: "alluxio.master.AlluxioMaster" not in ssh(lab, MASTER, "ps -eo args"),
            "the upgrade's stop",
            120,
        )
    finally:
        control.kill()  # the control side dies, at once
        control.wait()
    assert control.returncode != 0
    assert ssh(lab, MASTER, "ls /etc/alluxio-reconcile/lock/owner")  # the killed run's lock is left
    finish = converge(lab, releases["1.3.0"]).ok()  # a dead holder on this machine: taken over
    assert "took over /etc/alluxio-reconcile/lock" in finish.stderr
    assert master_home(lab) == NEW and wait_worker_count(lab, 3) == 3
    assert master.file(f"{NEW}/journal/{METADATA}").content_string == "the namespace of 1.3.0"
    assert drift(lab, releases["1.3.0"])[0] == 0


def test_grow_and_retire_a_worker(lab: Lab, tarball: Path, tmp_path: Path) -> None:
    lab.reset()
    converge(lab, tarball).ok()
    before = {n: ssh(lab, n, "pgrep -f alluxio.worker.AlluxioWorker").split()[0] for n in NODES}
    master_pid = ssh(lab, MASTER, "pgrep -f alluxio.master.AlluxioMaster").split()[0]
    lab.add("server09", "10.0.1.14")
    try:
        hosts = {
            "server08": "10.0.1.13",
            "server06": "10.0.1.11",
            "server07": "10.0.1.12",
            "server09": "10.0.1.14",
        }
        four = cluster_of(tmp_path / "four", hosts, MASTER)  # server09 joins the workers group
        grown = converge(lab, tarball, inventory=four).ok()
        assert sorted(live_workers(lab)) == ["server06", "server07", "server08", "server09"]
        for name in (*NODES, "server09"):
            workers = host(lab, name).file(f"{OLD}/conf/workers").content_string.splitlines()
            assert workers[1:] == ["server06", "server07", "server08", "server09"]
            assert "10.0.1.14\tserver09" in host(lab, name).file("/etc/hosts").content_string
        # the others kept running: conf/workers is only read by the scripts
        assert {n: ssh(lab, n, "pgrep -f alluxio.worker.AlluxioWorker").split()[0] for n in NODES} == before
        assert ssh(lab, MASTER, "pgrep -f alluxio.master.AlluxioMaster").split()[0] == master_pid
        assert not [op for op in grown.changed() if op.startswith("1. Stop")]
        assert converge(lab, tarball, inventory=four).ok().changed() == {}

        # retire server09: from the workers group to alluxio_retired
        retiring = cluster_of(tmp_path / "retiring", hosts, MASTER, workers=list(NODES), retired=["server09"])
        code, document, _ = drift(lab, tarball, inventory=retiring)
        assert code == 2 and ("server09", "services") in not_in_sync(document)
        retired = converge(lab, tarball, inventory=retiring).ok()
        assert "8. Hosts run no daemon they are not declared for" in retired.changed()
        assert wait_worker_count(lab, 3) == 3 and "server09" not in live_workers(lab)
        assert "alluxio.worker" not in ssh(lab, "server09", "ps -eo args")
        assert ssh(lab, "server09", "mountpoint -q /mnt/ramdisk || echo unmounted").strip() == "unmounted"
        assert host(lab, "server09").file(f"{OLD}/bin/alluxio").exists  # its other files stay
        for name in (*NODES, "server09"):
            assert host(lab, name).file(f"{OLD}/conf/workers").content_string.splitlines()[1:] == list(NODES)
        assert converge(lab, tarball, inventory=retiring).ok().changed() == {}
        assert drift(lab, tarball, inventory=retiring)[0] == 0
    finally:
        lab.remove("server09")


def worker_log_events(lab: Lab, name: str) -> list[tuple[str, str]]:
    """(time, "started" or "registered") of each JVM start and registration in the worker's own
    log, in order."""
    lines = ssh(lab, name, f"cat {OLD}/logs/worker.log").splitlines()
    events = []
    for line in lines:
        when = line[:23]  # yyyy-MM-dd HH:mm:ss,SSS
        if "Alluxio worker version" in line and " started @ " in line:
            events.append((when, "started"))
        elif "Registered with the master" in line:
            events.append((when, "registered"))
    return events


def test_a_worker_only_change_restarts_workers_one_at_a_time(lab: Lab, tarball: Path) -> None:
    lab.reset()
    converge(lab, tarball).ok()
    # Workers that register 4 s after their JVM starts: until then the master still lists each
    # one's old entry, heard from less than 10 s before, which must not count as the new JVM.
    for n in NODES:
        lab.set_worker_start(n, 4)
    master_pid = ssh(lab, MASTER, "pgrep -f alluxio.master.AlluxioMaster").split()[0]
    workers_before = {n: ssh(lab, n, "pgrep -f alluxio.worker.AlluxioWorker").split()[0] for n in NODES}
    samples: list[int] = []
    runs: dict[str, Run] = {}
    thread = threading.Thread(
        target=lambda: runs.setdefault(
            "run", converge(lab, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "768MB"}')
        )
    )
    thread.start()
    try:
        while thread.is_alive():
            samples.append(len(live_workers(lab)))
            time.sleep(0.2)
        thread.join()
    finally:
        for n in NODES:
            lab.set_worker_start(n, 0)
    ended = ssh(lab, MASTER, "date '+%F %T,%3N'").strip()
    run = runs["run"].ok()
    # From the workers' own logs: each new JVM registered before the next worker's started,
    # and the last before the run ended.
    restarts = sorted((worker_log_events(lab, n)[-2:], n) for n in NODES)
    nexts = [*restarts[1:], ([(ended, "run ended")], "")]
    for (events, name), (following, _) in zip(restarts, nexts, strict=True):
        assert [e for _, e in events] == ["started", "registered"], (name, events)
        assert events[1][0] < following[0][0], (name, events, following)
    assert sorted(run.changed()["8. Workers restart one at a time"]) == sorted(NODES)
    assert not any(n.startswith("8. The master runs") for n in run.changed())
    assert min(samples) >= len(NODES) - 1, samples  # never two workers down at once
    assert len(samples) > 10  # it was watched throughout
    assert ssh(lab, MASTER, "pgrep -f alluxio.master.AlluxioMaster").split()[0] == master_pid
    after = {n: ssh(lab, n, "pgrep -f alluxio.worker.AlluxioWorker").split()[0] for n in NODES}
    assert all(after[n] != workers_before[n] for n in NODES)
    assert wait_worker_count(lab, 3) == 3


def test_a_host_that_drops_packets_fails_alone_within_the_connect_timeout(lab: Lab, tarball: Path) -> None:
    lab.reset()
    # server07 answers nothing: every packet it would send to the lab's network is dropped
    halves = ("10.0.1.0/25", "10.0.1.128/25")  # more specific than its /24: they win
    for half in halves:
        subprocess.run(["ip", "-n", lab.namespace("server07"), "route", "add", "blackhole", half], check=True)
    try:
        start = time.monotonic()
        run = converge(lab, tarball)
        seconds = time.monotonic() - start
    finally:
        for half in halves:
            subprocess.run(
                ["ip", "-n", lab.namespace("server07"), "route", "del", "blackhole", half], check=True
            )
    assert run.returncode != 0 and "[server07] Could not connect" in run.stderr
    assert not run.errors()  # nobody else failed
    assert sorted(live_workers(lab)) == ["server06", "server08"]
    assert seconds < 300, seconds  # a guard against hanging, not a speed claim
    converge(lab, tarball).ok()
    assert wait_worker_count(lab, 3) == 3
