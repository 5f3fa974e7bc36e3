"""Every operation's generated commands (or its no-op reason), on recorded node states."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest
from pyinfra.api import (
    Config,
    FileUploadCommand,
    FunctionCommand,
    Inventory,
    OperationError,
    State,
    StringCommand,
)
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_host, ctx_state

from cluster import Cluster
from facts.services import WorkerList
from operations import conf, hosts, journal, preflight, release, services, ssh
from runtime import declaration
from runtime.run import run_of
from tests.recorded import cluster, snapshots, with_file

C = cluster()
BARE = snapshots("bare")
CONVERGED = snapshots("converged")


@contextmanager
def pyinfra_run(snaps: dict, executing: bool = False, model: Cluster = C) -> Iterator[State]:
    """A pyinfra state whose nodes' snapshots are ``snaps`` (no host is contacted)."""
    state = State(Inventory((list(snaps), {})), Config())
    if executing:
        state.current_stage = StateStage.Execute
        state.is_executing = True
    run_of(state).snapshots.update(snaps)
    previous, declaration._CURRENT = declaration._CURRENT, model
    try:
        yield state
    finally:
        declaration._CURRENT = previous


def run(
    op, on: str, snaps: dict, executing: bool = False, model: Cluster = C, **kwargs
) -> tuple[list[str], list[str]]:
    """The commands ``op`` yields on host ``on`` (as text) and its no-op reasons."""
    with pyinfra_run(snaps, executing, model) as state:
        host = state.inventory.get_host(on)
        noops: list[str] = []
        host.noop = noops.append  # type: ignore[method-assign]
        with ctx_state.use(state), ctx_host.use(host):
            commands = list(op._inner(**kwargs))
    return [_text(c) for c in commands], noops


def _text(command: object) -> str:
    if isinstance(command, StringCommand):
        return command.get_raw_value()
    if isinstance(command, FileUploadCommand):
        return f"upload {command.src} -> {command.dest}"
    if isinstance(command, FunctionCommand):
        return f"call {command.function.__name__}{command.args}"
    return str(command)


def decoded(command: str) -> str:
    """The content a write_file command carries (base64 in the command line)."""
    encoded = command.split("printf %s ", 1)[1].split(" ", 1)[0]
    return base64.b64decode(encoded).decode()


# ----- converged: every operation does nothing, and says why ------------------------------------
@pytest.mark.parametrize(
    "op",
    [hosts.etc_hosts, ssh.key_pair, ssh.authorized_keys, ssh.known_hosts, release.tarball_uploaded,
     release.tarball_distributed, release.extracted, release.launcher_patched, conf.workers_file,
     conf.alluxio_env, journal.in_place, preflight.node_ready, release.pruned],
)  # fmt: skip
@pytest.mark.parametrize("on", ["server08", "server06"])
def test_converged_nodes_get_no_command(op, on: str) -> None:
    commands, noops = run(op, on, CONVERGED)
    assert commands == [] and len(noops) == 1 and noops[0]


def test_services_do_nothing_when_converged() -> None:
    for on in ("server08", "server07"):
        assert run(services.stopped, on, CONVERGED, when=False)[0] == []
        assert run(services.master_started, on, CONVERGED, when=False)[0] == []
        assert run(services.workers_started, on, CONVERGED, together=())[0] == []
        assert run(services.restarted, on, CONVERGED, rolling=())[0] == []
        assert run(services.retired, on, CONVERGED)[0] == []


# ----- bare hosts ---------------------------------------------------------------------------
def test_etc_hosts_writes_atomically_and_only_over_what_was_read() -> None:
    (command,), _ = run(hosts.etc_hosts, "server07", BARE)
    content = decoded(command)
    assert content.startswith(BARE["server07"].etc_hosts.file.text)
    assert content.endswith("10.0.1.12\tserver07\n10.0.1.8\tserver03\n")
    assert command.index("sha256sum < /etc/hosts") < command.index(
        "base64 -d > /etc/.hosts.alluxio-reconcile.tmp"
    )
    assert command.endswith("mv -f /etc/.hosts.alluxio-reconcile.tmp /etc/hosts")


def test_key_pair_is_generated_only_where_none_exists() -> None:
    commands, _ = run(ssh.key_pair, "server08", BARE)
    assert commands[-1] == (
        "[ ! -e /root/.ssh/id_rsa ] && "
        "ssh-keygen -q -t rsa -b 3072 -N '' -C root@server08 -f /root/.ssh/id_rsa"
    )
    assert run(ssh.key_pair, "server06", BARE) == ([], ["only on the master (server08)"])


def test_authorized_keys_waits_for_the_master_key_in_a_dry_run_and_fails_without() -> None:
    commands, _ = run(ssh.authorized_keys, "server06", BARE)
    assert commands == ["# append server08's public key (generated in this run)"]
    with pytest.raises(OperationError, match="server08 has no usable key pair"):
        run(ssh.authorized_keys, "server06", BARE, executing=True)


def test_authorized_keys_appends_the_master_key_read_in_this_run() -> None:
    snaps = {**BARE, "server08": replace(BARE["server08"], key_pairs=CONVERGED["server08"].key_pairs)}
    (command, stale), _ = run(ssh.authorized_keys, "server06", snaps, executing=True)
    assert stale == "call _stale_after()"  # the node is read again after the write
    public = CONVERGED["server08"].key_pairs.usable.public.line
    assert decoded(command).endswith(f"{public} alluxio@server08\n")
    assert "/root/.ssh/authorized_keys" in command and "chmod 600" in command


def test_authorized_keys_closes_a_chain_link_a_killed_run_left() -> None:
    socket = "/tmp/.alluxio-chain-0f1e2d3c4b5a6978"
    snaps = {**CONVERGED, "server07": replace(CONVERGED["server07"], chain_sockets=(socket,))}
    commands, _ = run(ssh.authorized_keys, "server07", snaps)
    assert commands == [
        f"ssh -o ControlPath={socket} -O exit left-over < /dev/null > /dev/null 2>&1; rm -f {socket}"
    ]


def test_known_hosts_refuses_a_changed_host_key() -> None:
    real = CONVERGED["server07"].host_keys[0]
    text = CONVERGED["server08"].known_hosts.file.text.replace(real.blob, base64.b64encode(b"old").decode())
    snaps = {**CONVERGED, "server08": with_file(CONVERGED["server08"], "known_hosts", text)}
    (command,), _ = run(ssh.known_hosts, "server08", snaps)
    assert re.fullmatch(
        r"echo 'host key changed for .*server07.*alluxio_accept_new_host_keys=true' >&2; exit 1", command
    )


def test_tarball_goes_from_here_to_the_master_and_spreads_from_there() -> None:
    # one call: the upload into the master, which passes it on along the chain as it arrives
    up, _ = run(release.tarball_uploaded, "server08", BARE)
    assert len(up) == 1 and up[0].startswith("call _upload_along_the_chain(")
    # where sudo needs a pseudo-terminal (which would mangle a stream): by SFTP, then the chain
    with pyinfra_run(BARE) as state:
        host = state.inventory.get_host("server08")
        host.data._get_pty = True
        with ctx_state.use(state), ctx_host.use(host):
            sftp = [_text(c) for c in release.tarball_uploaded._inner()]
    assert sftp[1] == f"upload {C.tarball.local_path} -> /opt/.alluxio-1.2.0-cdh5-bin.tar.gz.part"
    assert C.tarball.sha256 in sftp[2] and "mv -f /opt/.alluxio-1.2.0-cdh5-bin.tar.gz.part" in sftp[2]
    assert run(release.tarball_uploaded, "server06", BARE)[0] == []
    down, _ = run(release.tarball_distributed, "server06", BARE)
    # one call: the chain (run once for all nodes) or, failing that, a copy from a holder, each
    # verified on arrival and renamed (runtime/fanout.py)
    assert len(down) == 1 and down[0].startswith("call _receive(")
    assert run(release.tarball_distributed, "server08", BARE)[0] == []


def test_fresh_extraction_swaps_a_verified_folder_in_and_keeps_the_journal() -> None:
    (sums, script), _ = run(release.extracted, "server06", BARE)
    expected = decoded(sums)
    assert sums.endswith("| base64 -d > /opt/.alluxio-1.2.0.sha256sums")
    shipped = {m.path for m in C.tarball.members if m.kind == "f"}
    listed = {line.split("  ", 1)[1] for line in expected.splitlines()}
    assert listed == shipped - {"conf/workers", "bin/alluxio-workers.sh"}  # managed files aside
    assert "logs/README.md" in listed  # wherever a shipped file lies
    assert script.startswith(
        "set -e; if [ ! -e /opt/alluxio-1.2.0 ] && [ -d /opt/.alluxio-1.2.0.partial/old ]"
    )
    assert "tar -xzf /opt/alluxio-1.2.0-cdh5-bin.tar.gz -C /opt/.alluxio-1.2.0.partial" in script
    assert "for x in journal underFSStorage bin/alluxio-workers.sh conf/workers conf/alluxio-env.sh" in script
    assert "cp -a -n /opt/alluxio-1.2.0/logs/. /opt/.alluxio-1.2.0.partial/alluxio-1.2.0/logs/" in script
    verify = script.index("sha256sum --quiet --strict -c /opt/.alluxio-1.2.0.sha256sums")
    marker = script.index("mv -f /opt/.alluxio-1.2.0.partial/alluxio-1.2.0/.alluxio-reconcile.tmp")
    assert script.index("chown -R root:root") < verify < marker
    assert marker < script.index("mv /opt/alluxio-1.2.0 /opt/.alluxio-1.2.0.partial/old")


def test_damaged_release_restores_just_the_damaged_members_and_records_again() -> None:
    snap = CONVERGED["server07"]
    entries = {k: v for k, v in (snap.install.entries or {}).items() if k != "bin/alluxio-stop.sh"}
    snaps = {**CONVERGED, "server07": replace(snap, install=replace(snap.install, entries=entries))}
    commands, _ = run(release.extracted, "server07", snaps)
    assert commands[:2] == [
        "tar -xzf /opt/alluxio-1.2.0-cdh5-bin.tar.gz -C /opt --no-recursion "
        "alluxio-1.2.0/bin/alluxio-stop.sh",
        "chown -R root:root /opt/alluxio-1.2.0",
    ]
    assert commands[2].endswith("| base64 -d > /opt/.alluxio-1.2.0.sha256sums")
    assert commands[3].startswith(
        f"(cd /opt/alluxio-1.2.0 && {release._check_sums('/opt/.alluxio-1.2.0.sha256sums')})"
    )
    assert commands[3].endswith("rm -f /opt/.alluxio-1.2.0.sha256sums")


def test_launcher_is_patched_and_an_unknown_one_left_alone() -> None:
    unpatched = with_file(CONVERGED["server06"], "launcher", C.tarball.launcher)
    (command,), _ = run(release.launcher_patched, "server06", {**CONVERGED, "server06": unpatched})
    assert decoded(command) == C.launcher and "chmod 755" in command
    unknown = with_file(CONVERGED["server06"], "launcher", "ssh ${worker} x\n")
    commands, noops = run(release.launcher_patched, "server06", {**CONVERGED, "server06": unknown})
    assert commands == [] and noops == [
        "/opt/alluxio-1.2.0/bin/alluxio-workers.sh: unknown shape, left alone"
    ]


def test_conf_files_are_rendered_from_the_model() -> None:
    (workers,), _ = run(conf.workers_file, "server07", BARE)
    assert decoded(workers).splitlines()[1:] == ["server06", "server07", "server08"]
    env_cluster = C.model_copy(update={"env": (("JAVA", "/opt/jdk/bin/java"), ("OPTS", "$(touch /tmp/x)"))})
    (env,), _ = run(conf.alluxio_env, "server07", BARE, model=env_cluster)
    text = decoded(env)
    assert "ALLUXIO_MASTER_HOSTNAME=server08\n" in text
    assert "JAVA=/opt/jdk/bin/java\n" in text and "OPTS='$(touch /tmp/x)'\n" in text


def test_services_stop_start_and_restart_follow_the_plan() -> None:
    (stop, noted), _ = run(services.stopped, "server06", CONVERGED, when=True)
    assert noted == "call _note_stopped()"  # when its worker was gone: its old entry is not the new JVM
    pid = CONVERGED["server06"].services.worker_pids[0]
    # 1.2.0 and 1.3.0 stop components, from the folder the daemon runs from: master, worker (no `local`)
    # a stopped (SIGSTOP) daemon is woken first: killAll would wait 30 s for it
    assert stop.startswith("sh -c ") and stop.endswith(
        f" stop_daemons.sh {pid} /opt/alluxio-1.2.0/bin/alluxio-stop.sh worker"
    )
    assert "kill -CONT $pids" in stop and 'grep -qa alluxio "/proc/$p/cmdline"' in stop
    assert "alluxio.worker.AlluxioWorker" not in stop  # killAll would count this command itself
    (master_stop, _), _ = run(services.stopped, "server08", CONVERGED, when=True)
    assert (
        " /opt/alluxio-1.2.0/bin/alluxio-stop.sh master /opt/alluxio-1.2.0/bin/alluxio-stop.sh worker"
        in master_stop
    )
    assert " local" not in master_stop
    assert run(services.stopped, "server06", BARE, when=True)[0] == []  # nothing runs
    # the master alone, then wait until it serves: no worker starts before it can register
    start, serving = run(services.master_started, "server08", BARE, when=True)[0]
    assert start == "/opt/alluxio-1.2.0/bin/alluxio-start.sh master" and serving == "call _leader_serves()"
    assert run(services.master_started, "server06", BARE, when=True)[0] == []
    stop, start, _ = run(services.master_started, "server08", CONVERGED, when=True)[0]
    assert stop.endswith("alluxio-stop.sh master") and "alluxio-stop.sh worker" not in stop
    # a worker of a cold start, once the master serves: its RAM folder is not mounted yet
    (start,) = run(services.workers_started, "server06", BARE, together=("server06",))[0]
    assert start == "/opt/alluxio-1.2.0/bin/alluxio-start.sh worker SudoMount"
    assert run(services.workers_started, "server07", BARE, together=("server06",))[0] == []
    # one worker at a time: stop it, start it through a pty keeping its mounted RAM folder (and
    # the blocks in it), wait for the master to count it
    stop, noted, start, wait = run(
        services.restarted, "server07", CONVERGED, rolling=("server06", "server07")
    )[0]
    assert (
        noted == "call _note_stopped()"
        and "alluxio-stop.sh worker" in stop
        and start == "ALLUXIO_RAM_FOLDER=/mnt/ramdisk /opt/alluxio-1.2.0/bin/alluxio-start.sh worker NoMount"
    )
    assert wait == "call _await_live_from_master(('server07',), '/v1/api/master/worker_info_list')"
    assert run(services.restarted, "server08", CONVERGED, rolling=("server06", "server07"))[0] == []
    # left running while the master restarts: decided once the master serves again
    commands, (noop,) = run(services.restarted, "server07", CONVERGED, rolling=(), rejoin=("server07",))
    assert commands == [] and "heard from within 10 s of the master serving again, or then restarted" in noop


def test_a_worker_keeps_its_cache_where_its_ram_folder_stays_in_memory() -> None:
    snap = CONVERGED["server06"]
    assert services._mount(C, snap, "/mnt/ramdisk") == (
        "NoMount", [], "keeps its cache: /mnt/ramdisk stays mounted, started with NoMount",
    )  # fmt: skip
    # not mounted (a reboot emptied it): NoMount would run the worker on /dev/shm
    bare = replace(snap, services=replace(snap.services, ram_mounts={"/dev/shm": "tmpfs"}))
    option, between, cache = services._mount(C, bare, "/mnt/ramdisk")
    assert option == "SudoMount" and between == [] and cache.startswith("starts with an empty cache")
    # a folder under a tmpfs is kept as it is (the release's is_ram_folder_mounted)
    under = C.model_copy(update={"env": (("ALLUXIO_RAM_FOLDER", "/dev/shm/alluxio"),)})
    moved = with_file(
        snap, "alluxio_env", (snap.alluxio_env.file.text or "") + "ALLUXIO_RAM_FOLDER=/dev/shm/alluxio\n"
    )
    assert services._mount(under, replace(moved, services=bare.services), "/dev/shm/alluxio")[0] == "NoMount"
    # a RAM folder that moves: the old one is unmounted after the stop, and the run says so
    option, between, cache = services._mount(under, snap, "/mnt/ramdisk")
    assert option == "NoMount"  # /dev/shm is a tmpfs on the recorded host
    assert between == ["umount /mnt/ramdisk; ! mountpoint -q /mnt/ramdisk"]
    assert cache == (
        "moves its RAM folder from /mnt/ramdisk to /dev/shm/alluxio: the cache starts empty there, "
        "and /mnt/ramdisk is unmounted"
    )


def test_the_journal_is_formatted_once_or_carried_over_never_both() -> None:
    assert run(journal.in_place, "server08", BARE)[0] == ["/opt/alluxio-1.2.0/bin/alluxio format"]
    assert run(journal.in_place, "server08", CONVERGED) == (
        [],
        ["the journal is in alluxio-1.2.0/journal; it is never formatted again"],
    )
    upgrade = C.model_copy(update={"version": "1.3.0"})
    backup, carry = run(journal.in_place, "server08", CONVERGED, model=upgrade)[0]
    assert (
        "tar -czf $f.part -C /opt/alluxio-1.2.0 journal" in backup
        and "-alluxio-1.2.0-journal.tar.gz" in backup
    )
    assert "head -n -5" in backup  # the five newest backups stay
    assert "mv /opt/alluxio-1.2.0/journal /opt/alluxio-1.3.0/journal" in carry
    assert "format" not in backup + carry
    two = replace(CONVERGED["server08"].releases, journals=("alluxio-1.2.0", "alluxio-1.3.0"))
    snaps = {**CONVERGED, "server08": replace(CONVERGED["server08"], releases=two)}
    (refusal,), _ = run(journal.in_place, "server08", snaps, model=upgrade)
    assert (
        "several journals: alluxio-1.2.0/journal, alluxio-1.3.0/journal; the tool will not choose" in refusal
    )
    assert refusal.endswith("exit 1")


def test_preflight_names_what_a_node_lacks() -> None:
    snap = BARE["server06"]
    lacking = replace(snap, tools=replace(snap.tools, missing=("sudo", "java=/nope")))
    assert run(preflight.node_ready, "server06", {**BARE, "server06": lacking})[0] == [
        "echo 'server06 lacks: sudo, java=/nope; install it, then run again' >&2; exit 1"
    ]
    no_rsync = replace(snap, tools=replace(snap.tools, missing=("rsync",)))
    (install,), _ = run(preflight.node_ready, "server06", {**BARE, "server06": no_rsync})
    assert "apt-get install -y rsync" in install
    full = replace(snap, tools=replace(snap.tools, free_kb=10))
    (refusal,), _ = run(preflight.node_ready, "server06", {**BARE, "server06": full})
    assert "server06: /opt has 0 MiB free, the release needs 1 MiB" in refusal and refusal.endswith("exit 1")


def test_preflight_refuses_a_kept_cache_that_no_longer_fits_its_worker() -> None:
    """A mounted RAM folder keeps its blocks across the restart, and 1.x fails to start a worker
    whose blocks exceed its size: refused before anything changes, never emptied."""
    from facts.tiers import TierDir

    snap = CONVERGED["server06"]
    assert snap.services.in_memory("/mnt/ramdisk")
    gb = 1 << 30
    cache = TierDir("/mnt/ramdisk", "dir", True, "ram", gb, gb, "", used=600 << 20)
    smaller = C.model_copy(update={"env": (("ALLUXIO_WORKER_MEMORY_SIZE", "512MB"),)})
    (refusal,), _ = run(
        preflight.node_ready,
        "server06",
        {**CONVERGED, "server06": replace(snap, tier_dirs=(cache,))},
        model=smaller,
    )
    assert (
        "its RAM folder /mnt/ramdisk holds 629145600 bytes of blocks, more than the declared ALLUXIO_WORKER_MEMORY_SIZE=512MB"
        in refusal
    )
    commands, _ = run(
        preflight.node_ready, "server06", {**CONVERGED, "server06": replace(snap, tier_dirs=(cache,))}
    )
    assert not any("exit 1" in c for c in commands)  # 1GB: it fits


def test_a_heartbeat_counts_for_a_restarted_worker_only_if_it_came_after_the_stop() -> None:
    # stopped at 100.0; the list asked for at 104.5
    assert services.heard_before(5, 104.5, 100.0)  # 5.0-5.99 s old: at 98.5-99.5, before
    assert services.heard_before(4, 104.5, 100.0)  # at 99.5-100.5: maybe before
    assert not services.heard_before(3, 104.5, 100.0)  # at 100.5-101.5: after the stop
    assert not services.heard_before(0, 104.5, 100.0)
    assert services.heard_before(0, 100.5, 100.0)  # asked too soon to tell


# ----- the health check's failure message --------------------------------------------------------
def test_the_diagnosis_names_why_each_worker_is_not_live_and_quotes_its_own_logs() -> None:
    evidence = (
        f"{services.EVIDENCE} logs server07\n== /opt/alluxio-1.2.0/logs/worker.log, last written 2026-11-27T19:40:04\n"
        "2026-11-27 19:40:04,789 INFO  AlluxioWorker - Registered with the master server08:19998 as worker 1\n"
    )
    listed = WorkerList({"server06": 0, "server08": 1})
    lines = services.diagnosis(("server07",), listed, evidence).splitlines()
    assert lines[:3] == [
        "workers not live on the master after 30s: server07",
        "--- server07: not listed by the master",
        "    its own logs on server07:",
    ]
    assert lines[-1] == (
        "      2026-11-27 19:40:04,789 INFO  AlluxioWorker - Registered with the master server08:19998 as worker 1"
    )
    silent = services.diagnosis(("server07",), WorkerList({"server07": 45}), evidence)
    assert "--- server07: listed by the master, last heartbeat 45 s ago" in silent
    assert services.diagnosis(("server06",), None, "").splitlines()[1:] == [
        "--- server06: the master's web port did not answer",
        "    its own logs on server06:",
        "      (none readable)",
    ]


@pytest.mark.parametrize("hasher", ["openssl", "sha256sum"])
@pytest.mark.parametrize("damage", [None, "changed", "missing"])
def test_the_release_check_passes_only_when_every_listed_file_has_its_digest(
    hasher: str, damage: str | None, tmp_path: Path
) -> None:
    """The check after an extraction, in a real shell, by OpenSSL and (on a node without it) by
    coreutils: the same verdict."""
    folder = tmp_path / "release"
    (folder / "bin").mkdir(parents=True)
    files = {"bin/alluxio": b"#!/bin/bash\n", "lib/a b.jar": bytes(range(256)) * 64, "LICENSE": b"x"}
    lines = []
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  {name}\n")
    sums = tmp_path / "sums"
    sums.write_text("".join(lines))
    if damage == "changed":
        (folder / "lib/a b.jar").write_bytes(b"other")
    elif damage == "missing":
        (folder / "LICENSE").unlink()
    path = os.environ["PATH"]
    if hasher == "sha256sum":  # a PATH on which openssl is not found
        shadow = tmp_path / "bin"
        shadow.mkdir()
        for tool in ("sha256sum", "cut", "xargs", "awk", "sh"):
            (shadow / tool).symlink_to(shutil.which(tool))  # type: ignore[arg-type]
        path = str(shadow)
    done = subprocess.run(
        ["sh", "-c", release._check_sums(shlex.quote(str(sums)))],
        cwd=folder,
        env={"PATH": path},
        capture_output=True,
        text=True,
    )
    assert (done.returncode == 0) is (damage is None), done
    if damage and hasher == "openssl":
        assert {"changed": "lib/a b.jar: FAILED", "missing": "LICENSE: FAILED"}[damage] in done.stdout


def test_a_lock_holder_that_is_gone_or_a_zombie_is_dead_and_one_that_runs_is_not() -> None:
    import socket
    import time

    from runtime.lock import dead_holder

    here = socket.gethostname()
    since = "since 2026-01-01T00:00:00+0000"
    assert not dead_holder(f"root@{here} pid {os.getpid()} {since}", here)  # this one runs
    assert not dead_holder(f"root@elsewhere pid 1 {since}", here)  # another machine's: not ours to judge
    # a zombie whose parent never reaps it: sh starts a short sleep, then becomes a long one
    parent = subprocess.Popen(
        ["sh", "-c", "sleep 0.2 & echo $!; exec sleep 60"], stdout=subprocess.PIPE, text=True
    )
    try:
        zombie = int(parent.stdout.readline())  # type: ignore[union-attr]
        deadline = time.monotonic() + 10
        while Path(f"/proc/{zombie}/stat").read_text().rpartition(")")[2].split()[0] != "Z":
            assert time.monotonic() < deadline, "the child did not become a zombie"
            time.sleep(0.01)
        os.kill(zombie, 0)  # a zombie still answers kill(0)
        assert dead_holder(f"root@{here} pid {zombie} {since}", here)
    finally:
        parent.kill()
        parent.wait()
