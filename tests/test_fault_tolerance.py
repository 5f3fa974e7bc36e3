"""Fault tolerance as 1.2.0 has it (issue 20; section 12 of the interface reference), first the
demo release against a real ZooKeeper server (Debian's, run by the lab on server03), by hand:
masters elect through Curator's LeaderSelector, only the leader serves, its record under
/leader is persistent, a standby takes over once a killed leader's session expires, and the
workers follow the leader ZooKeeper names."""

from __future__ import annotations

import json
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.inventories import group, inventory_variant
from demo_release import build
from lab import Lab
from lab.common import SHARED
from tests.labutil import (
    POST_WORKERS,
    PROJECT,
    PYINFRA,
    Run,
    converge,
    drift,
    fetch,
    http_status,
    not_in_sync,
    release_data,
    ssh,
    wait_until,
)

MASTERS = ("server08", "server07")
WORKER = "server06"
HOME = "/opt/alluxio-1.2.0"
JOURNAL = f"{SHARED}/alluxio/journal/"
REST = "/v1/api/master"
TICK_MS = 200  # sessions expire within 20 ticks: 4 s
MASTER_CLASS = "alluxio.master.AlluxioMaster"
START = f"{HOME}/bin/alluxio-start.sh"


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("ft"))


def master_pid(lab: Lab, name: str) -> str:
    return ssh(lab, name, f"pgrep -f 'java.*{MASTER_CLASS[:-1]}[{MASTER_CLASS[-1]}]' || true").strip()


def serves(lab: Lab, name: str) -> bool:
    try:
        return http_status(lab, f"http://{name}:19999{REST}/worker_count") == 200
    except Exception:  # the port refuses: a standby, or no master
        return False


def live_on(lab: Lab, master: str) -> list[str]:
    infos = json.loads(fetch(lab, f"http://{master}:19999{REST}/worker_info_list"))
    return sorted(w["address"]["host"] for w in infos if w["lastContactSec"] <= 3)


def zk_children(lab: Lab, path: str) -> list[str]:
    out = lab.zookeeper_cli("server03", "ls", path)
    line = next(line for line in reversed(out.splitlines()) if line.startswith("["))
    return sorted(x.strip() for x in line.strip("[]").split(",") if x.strip())


def test_masters_elect_through_zookeeper_and_a_standby_takes_over_a_killed_leader(
    lab: Lab, tarball: Path
) -> None:
    lab.reset()
    zookeeper = lab.start_zookeeper("server03", tick_ms=TICK_MS)
    names = "".join(f"{ip} {name}\n" for name, ip in lab.hosts().items())
    try:
        for name in (*MASTERS, WORKER):
            ssh(lab, name, f"printf '%s' '{names}' >> /etc/hosts")  # the post's step 2
            (lab.host_dir(name) / "opt" / tarball.name).write_bytes(tarball.read_bytes())
            env = "ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio\n"
            if name in MASTERS:  # each master its own name; a worker none (it asks ZooKeeper)
                env += f"ALLUXIO_MASTER_HOSTNAME={name}\n"
            site = (
                f"alluxio.zookeeper.enabled=true\nalluxio.zookeeper.address={zookeeper}\n"
                f"alluxio.master.journal.folder={JOURNAL}\n"
                "alluxio.worker.block.heartbeat.timeout.ms=60000\n"
            )
            ssh(
                lab,
                name,
                f"tar -xzf /opt/{tarball.name} -C /opt && printf '%s' '{env}' > {HOME}/conf/alluxio-env.sh"
                f" && printf '%s' '{site}' > {HOME}/conf/alluxio-site.properties",
            )
        # the journal formatted once, on the shared folder: every master refuses an unformatted one
        ssh(lab, MASTERS[0], f"{HOME}/bin/alluxio runClass alluxio.cli.Format master")
        ssh(lab, MASTERS[0], f"echo namespace > {JOURNAL}FileSystemMaster/log.out")
        ssh(lab, MASTERS[0], f"{HOME}/bin/alluxio-start.sh master")
        wait_until(lambda: serves(lab, MASTERS[0]), f"{MASTERS[0]} leads and serves", 30)
        ssh(lab, MASTERS[1], f"{HOME}/bin/alluxio-start.sh master")
        wait_until(lambda: len(zk_children(lab, "/election")) == 2, "two masters in the election", 30)
        # the standby: its JVM runs, its RPC port is bound but its web port is not; its log says so
        assert master_pid(lab, MASTERS[1])
        assert not serves(lab, MASTERS[1])
        assert ":4E1E 00000000:0000 0A" in ssh(lab, MASTERS[1], "cat /proc/net/tcp")  # 19998 listens
        standby_log = ssh(lab, MASTERS[1], f"cat {HOME}/logs/master.log")
        assert "FileSystemMaster: Starting standby master." in standby_log
        assert "gained leadership" not in standby_log
        assert zk_children(lab, "/leader") == [f"{MASTERS[0]}:19998"]
        assert "(gained leadership)" in ssh(lab, MASTERS[0], f"cat {HOME}/logs/master.log")

        mount = "mkdir -p /mnt/ramdisk && mount -t ramfs -o size=1G ramfs /mnt/ramdisk"  # no tty for sudo
        ssh(lab, WORKER, f"{mount} && ALLUXIO_RAM_FOLDER=/mnt/ramdisk {START} worker NoMount")
        wait_until(lambda: live_on(lab, MASTERS[0]) == [WORKER], f"{WORKER} live on the leader")

        # SIGKILL the leader: its record stays, the standby leads once its session expired
        ssh(lab, MASTERS[0], f"kill -9 {master_pid(lab, MASTERS[0])}")
        killed = time.monotonic()
        wait_until(lambda: serves(lab, MASTERS[1]), f"{MASTERS[1]} takes over", 60)
        took = time.monotonic() - killed
        print(f"failover: {MASTERS[1]} served {took:.1f} s after the SIGKILL (tickTime {TICK_MS} ms)")
        assert TICK_MS * 20 / 1000 * 0.5 <= took < 30, took  # not before the session could expire
        assert zk_children(lab, "/leader") == sorted(f"{m}:19998" for m in MASTERS)
        # the worker follows the newer record, and the new leader reads the same journal
        wait_until(lambda: live_on(lab, MASTERS[1]) == [WORKER], f"{WORKER} live on the new leader", 30)
        print(f"failover: {WORKER} live on {MASTERS[1]} {time.monotonic() - killed:.1f} s after the SIGKILL")
        conf = json.loads(fetch(lab, f"http://{MASTERS[1]}:19999{REST}/configuration"))
        assert conf["alluxio.master.journal.folder"] == JOURNAL
        assert ssh(lab, MASTERS[1], f"cat {JOURNAL}FileSystemMaster/log.out").strip() == "namespace"
        worker_log = ssh(lab, WORKER, f"cat {HOME}/logs/worker.log")
        assert f"Registered with the master {MASTERS[1]}:19998" in worker_log
    finally:
        lab.stop_zookeeper("server03")


# ----- the tool: bare hosts to fault-tolerant masters, and a dead leader --------------------------
def ft_data(zookeeper: str) -> list[str]:
    return ["--data", f"alluxio_zookeeper={zookeeper}", "--data", f"alluxio_journal_folder={JOURNAL}"]


def leaders(lab: Lab) -> list[str]:
    return [m for m in MASTERS if serves(lab, m)]


def test_bare_hosts_to_fault_tolerant_masters_and_a_dead_leader_restarted_as_a_standby(
    lab: Lab, tarball: Path, tmp_path: Path
) -> None:
    lab.reset()
    hosts = lab.hosts()
    inventory = inventory_variant(
        tmp_path,
        alluxio_master=group({m: hosts[m] for m in MASTERS}),
        alluxio_workers=group({w: hosts[w] for w in POST_WORKERS}),
    )
    # ZooKeeper not running: refused before anything changes, on any host
    refused = converge(lab, tarball, *ft_data(f"{hosts['server03']}:2181"), inventory=inventory)
    assert refused.returncode != 0 and "no ZooKeeper server (10.0.1.8:2181) answers srvr" in refused.stderr
    for name in POST_WORKERS:
        assert not (lab.host_dir(name) / "opt" / "alluxio-1.2.0").exists()
    zookeeper = lab.start_zookeeper("server03", tick_ms=TICK_MS)
    data = ft_data(zookeeper)
    try:
        run = converge(lab, tarball, *data, inventory=inventory).ok()
        assert sorted(run.changed()["8. The master runs and serves"]) == sorted(MASTERS)
        # one leader, the other master a standby, every worker live on the leader
        (leader,) = leaders(lab)
        (standby,) = [m for m in MASTERS if m != leader]
        assert master_pid(lab, standby)
        wait_until(lambda: live_on(lab, leader) == sorted(POST_WORKERS), "every worker live on the leader")
        # each master names itself; a worker that is no master names none (it asks ZooKeeper)
        for name in POST_WORKERS:
            env = ssh(lab, name, f"cat {HOME}/conf/alluxio-env.sh")
            site = ssh(lab, name, f"cat {HOME}/conf/alluxio-site.properties")
            assert ("ALLUXIO_MASTER_HOSTNAME=" + name in env) == (name in MASTERS), env
            assert "ALLUXIO_MASTER_HOSTNAME" in env or name not in MASTERS
            assert f"alluxio.zookeeper.address={zookeeper}\n" in site, site
            assert f"alluxio.master.journal.folder={JOURNAL}" in site
            assert "alluxio.worker.block.heartbeat.timeout.ms=1000000" in site
        assert "ALLUXIO_MASTER_HOSTNAME" not in ssh(lab, WORKER, f"cat {HOME}/conf/alluxio-env.sh")
        markers = ssh(lab, leader, f"ls {JOURNAL}").split()
        assert [m for m in markers if m.startswith("_format_")], markers  # formatted once, shared
        assert ssh(lab, standby, f"ls {JOURNAL}").split() == markers
        assert not converge(lab, tarball, *data, inventory=inventory).ok().changed()
        code, report, _ = drift(lab, tarball, *data, inventory=inventory)
        assert code == 0 and not not_in_sync(report)
        roles = {m: report["hosts"][m]["resources"]["services"]["actual"] for m in MASTERS}
        assert "(leads)" in roles[leader] and "(standby)" in roles[standby], roles
        assert report["masters"] == {"serving": [leader], "standby": [standby], "down": [], "unreachable": []}

        # the leader's JVM killed: the standby takes over; the report names the dead master
        ssh(lab, leader, f"kill -9 {master_pid(lab, leader)}")
        wait_until(lambda: leaders(lab) == [standby], f"{standby} takes over", 60)
        everyone = sorted(POST_WORKERS)
        # 1.2.0's new leader numbers workers from 1 again and takes a heartbeat of any id it has
        # given (BlockMaster.workerHeartbeat): a worker whose old id went to another heartbeats
        # on under it, unlisted, until it is restarted. The others register again by themselves.
        wait_until(lambda: live_on(lab, standby), "workers registering with the new leader", 30)
        time.sleep(3)  # the heartbeats of a second
        rejoined = live_on(lab, standby)
        print(f"failover: {len(rejoined)} of {len(everyone)} workers registered again by themselves")
        code, report, _ = drift(lab, tarball, *data, inventory=inventory)
        differs = not_in_sync(report)
        # the dead master, and the workers still unlisted (none of those that registered again)
        assert (leader, "services") in differs, report
        assert differs - {(leader, "services")} <= {(w, "services") for w in everyone if w not in rejoined}
        assert "master down" in report["hosts"][leader]["resources"]["services"]["actual"]
        assert report["masters"] == {"serving": [standby], "standby": [], "down": [leader], "unreachable": []}
        text = lab.run(
            [sys.executable, "drift.py", str(inventory), *release_data(tarball), *data],
            capture_output=True, text=True, cwd=PROJECT,
        ).stdout  # fmt: skip
        assert f"masters: {standby} leads; down {leader}" in text.splitlines()[1], text
        # one converge restarts it as a standby, and does not fight the election
        run = converge(lab, tarball, *data, inventory=inventory).ok()
        assert run.changed()["8. The master runs and serves"] == [leader]
        assert leaders(lab) == [standby] and master_pid(lab, leader)
        assert live_on(lab, standby) == everyone  # the unlisted ones restarted by the converge
        code, report, _ = drift(lab, tarball, *data, inventory=inventory)
        assert code == 0 and not not_in_sync(report), report

        # a change every master reads rolls through: the standby first, the leader last
        change = [*data, "--data", 'alluxio_env={"ALLUXIO_MASTER_JAVA_OPTS": "-Dreconcile.test=roll"}']
        (leader,) = leaders(lab)
        (standby,) = [m for m in MASTERS if m != leader]
        argv = [PYINFRA, str(inventory), "deploy.py", "--dry", "--diff", *release_data(tarball), *change]
        planned = lab.run(argv, capture_output=True, text=True, cwd=PROJECT)
        assert planned.returncode == 0, planned.stderr[-2000:]
        assert f"masters restart one at a time, the leader last: {standby}, {leader} (the leader)" in (
            planned.stdout + planned.stderr
        )
        samples: list[tuple[float, int]] = []
        runs: dict[str, Run] = {}
        thread = threading.Thread(
            target=lambda: runs.setdefault("run", converge(lab, tarball, *change, inventory=inventory))
        )
        thread.start()
        while thread.is_alive():
            samples.append((time.monotonic(), len(leaders(lab))))
            time.sleep(0.2)
        thread.join()
        run = runs["run"].ok()
        assert sorted(run.changed()["8. Masters restart one at a time, the leader last"]) == sorted(MASTERS)
        assert max(n for _, n in samples) <= 1  # never two serving
        leaderless, longest = None, 0.0
        for when, n in samples:
            if n == 0 and leaderless is None:
                leaderless = when
            elif n and leaderless is not None:
                longest, leaderless = max(longest, when - leaderless), None
        assert leaderless is None and 0 < longest <= TICK_MS * 20 / 1000 + 6, longest  # one election
        print(f"roll: no leader for {longest:.1f} s at most (one election: session {TICK_MS * 20} ms)")

        # the leader went last: its new JVM started after the standby's, and the standby leads now
        def restarted_at(name: str) -> str:
            log = ssh(lab, name, f"grep 'Starting standby master' {HOME}/logs/master.log | tail -n 1")
            return log[:23]

        assert restarted_at(standby) < restarted_at(leader)
        assert leaders(lab) == [standby]
        wait_until(lambda: live_on(lab, standby) == everyone, "every worker live after the roll", 30)
        code, report, _ = drift(lab, tarball, *change, inventory=inventory)
        assert code == 0 and not not_in_sync(report), report

        # the leader retired as a master (it stays a worker): its master stops, the other leads
        retiring = inventory_variant(
            tmp_path / "retiring",
            alluxio_master=group({leader: hosts[leader]}),
            alluxio_workers=group({w: hosts[w] for w in POST_WORKERS}),
        )
        run = converge(lab, tarball, *change, inventory=retiring).ok()
        assert run.changed()["8. Hosts run no daemon they are not declared for"] == [standby]
        assert not master_pid(lab, standby) and leaders(lab) == [leader]
        # it stays a worker: live on the new leader (restarted only if 1.2.0 left it unlisted)
        assert ssh(lab, standby, "pgrep -f 'java.*alluxio.worker.AlluxioWorke[r]'").strip()
        wait_until(lambda: live_on(lab, leader) == everyone, "every worker live on the one master left", 30)
        code, report, _ = drift(lab, tarball, *change, inventory=retiring)
        assert code == 0 and not not_in_sync(report), report

        # and added again: its master starts as a standby, the leader stays
        run = converge(lab, tarball, *change, inventory=inventory).ok()
        assert run.changed()["8. The master runs and serves"] == [standby]
        assert leaders(lab) == [leader] and master_pid(lab, standby)
        code, report, _ = drift(lab, tarball, *change, inventory=inventory)
        assert code == 0 and not not_in_sync(report), report
        assert report["masters"] == {"serving": [leader], "standby": [standby], "down": [], "unreachable": []}
    finally:
        lab.stop_zookeeper("server03")


def test_an_upgrade_and_a_rollback_of_fault_tolerant_masters_keep_the_shared_journal_in_place(
    lab: Lab, tmp_path: Path
) -> None:
    releases = {v: build(tmp_path / v, version=v) for v in ("1.2.0", "1.3.0")}
    lab.reset()
    zookeeper = lab.start_zookeeper("server03", tick_ms=TICK_MS)
    hosts = lab.hosts()
    inventory = inventory_variant(
        tmp_path / "ft",
        alluxio_master=group({m: hosts[m] for m in MASTERS}),
        alluxio_workers=group({w: hosts[w] for w in POST_WORKERS}),
    )
    data = ft_data(zookeeper)
    try:
        converge(lab, releases["1.2.0"], *data, inventory=inventory).ok()
        ssh(lab, MASTERS[0], f"echo namespace > {JOURNAL}FileSystemMaster/log.out")
        for version, leaving in (("1.3.0", "1.2.0"), ("1.2.0", "1.3.0")):
            run = converge(lab, releases[version], *data, inventory=inventory).ok()
            assert sorted(run.changed()["8. The master runs and serves"]) == sorted(MASTERS)
            journal_step = "8. The journal is in the release that runs: formatted once, carried over"
            assert run.changed()[journal_step] == [MASTERS[0]]
            for m in MASTERS:  # every master from the new release
                args = ssh(lab, m, f"ps -eo args | grep '[{MASTER_CLASS[0]}]{MASTER_CLASS[1:]}'")
                assert f"-Dalluxio.home=/opt/alluxio-{version} " in args, args
            (leader,) = wait_until(lambda: leaders(lab), f"a leader on {version}", 30)
            wait_until(lambda m=leader: live_on(lab, m) == sorted(POST_WORKERS), f"all live on {version}")
            # the journal where it was, with what it held, and the folder the new leader uses
            assert ssh(lab, leader, f"cat {JOURNAL}FileSystemMaster/log.out").strip() == "namespace"
            conf = json.loads(fetch(lab, f"http://{leader}:19999{REST}/configuration"))
            assert conf["alluxio.master.journal.folder"] == JOURNAL
            assert fetch(lab, f"http://{leader}:19999{REST}/version").strip() == json.dumps(version)
            # backed up first, on the first master
            backups = "/var/backups/alluxio-reconcile"
            backup = ssh(lab, MASTERS[0], f"ls {backups} | grep -- '-alluxio-{leaving}-journal'").split()[-1]
            listing = ssh(lab, MASTERS[0], f"tar -tzf {backups}/{backup}")
            assert "journal/FileSystemMaster/log.out" in listing.split()
            code, report, _ = drift(lab, releases[version], *data, inventory=inventory)
            assert code == 0 and not not_in_sync(report), report
    finally:
        lab.stop_zookeeper("server03")
