"""Refuse bad input, survive faults, lose nothing, let no one in (issue 5), in the lab."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bench.inventories import inventory_variant
from demo_release import build
from lab import Lab
from operations.util import write_file
from tests.labutil import (
    MASTER,
    PROJECT,
    PYINFRA,
    Run,
    changed_pairs,
    connections,
    converge,
    drift,
    host,
    host_state,
    not_in_sync,
    release_data,
    ssh,
    wait_until,
    wait_worker_count,
    worker_count,
)

NODES = ("server06", "server07", "server08")
INSTALL = "/opt/alluxio-1.2.0"


MASTER_GROUP = '[("server08", {"ssh_hostname": "10.0.1.13"})]'
WORKERS_GROUP = '[("server06", {"ssh_hostname": "10.0.1.11"}), ("server07", {"ssh_hostname": "10.0.1.12"}), ("server08", {"ssh_hostname": "10.0.1.13"})]'
BAD_INVENTORIES = {
    "two hosts with one IP": ({"alluxio_workers": WORKERS_GROUP.replace("10.0.1.12", "10.0.1.11")}, "host server07: address 10.0.1.11 is already host server06's"),
    "malformed IP": ({"alluxio_workers": WORKERS_GROUP.replace("10.0.1.12", "10.0.1.312")}, "host server07: ssh_hostname='10.0.1.312': not an IPv4 address"),
    "hostname not a DNS label": ({"alluxio_workers": WORKERS_GROUP.replace('"server07"', '"server_07"')}, "host 'server_07': not a valid DNS label"),
    "no master": ({"alluxio_master": "[]"}, "group alluxio_master: no master declared"),
    "two masters": ({"alluxio_master": MASTER_GROUP[:-1] + ', ("server06", {"ssh_hostname": "10.0.1.11"})]'}, "group alluxio_master: 2 masters (server08, server06) elect their leader through ZooKeeper: declare alluxio_zookeeper"),
    "master also resolve-only": ({"RESOLVE_ONLY": '{"server08": "10.0.1.8"}'}, "host server08: declared twice (managed and resolve-only)"),
    "no workers": ({"alluxio_workers": "[]"}, "group alluxio_workers: no workers declared"),
}  # fmt: skip
BAD_DATA = {
    "tarball missing": ("alluxio_tarball=/nonexistent.tar.gz", "alluxio_tarball='/nonexistent.tar.gz': no such file"),
    "tarball not a gzip tar": ("alluxio_tarball={text}", "not a gzip tar archive"),
    "tarball of another release": ("alluxio_tarball={other}", "top directory is alluxio-1.3.0, not the declared release alluxio-1.2.0"),
    "env name not a shell identifier": ('alluxio_env={{"BAD-NAME": "x"}}', "--data alluxio_env['BAD-NAME']: not a shell variable name"),
    "env value with a newline": ('alluxio_env={{"OPTS": "a\\nb"}}', "--data alluxio_env['OPTS']: the value has a newline or NUL"),
    "env value with a NUL": ('alluxio_env={{"OPTS": "a\\u0000b"}}', "--data alluxio_env['OPTS']: the value has a newline or NUL"),
    "typo of a data key": ("alluxio_evn={{}}", "--data: unknown data key 'alluxio_evn' (did you mean 'alluxio_env'?)"),
}  # fmt: skip


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "text.tar.gz").write_text("not a tarball")
    release = folder / "alluxio-1.3.0"
    (release / "bin").mkdir(parents=True)
    (release / "bin" / "alluxio-workers.sh").write_text("nohup ssh -tt ${worker}\n")
    subprocess.run(
        ["tar", "-czf", str(folder / "other.tar.gz"), "-C", str(folder), "alluxio-1.3.0"], check=True
    )
    return {"text": str(folder / "text.tar.gz"), "other": str(folder / "other.tar.gz")}


def refused(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    before = connections(lab)
    done = lab.run(argv, capture_output=True, text=True, cwd=PROJECT)
    assert connections(lab) == before, "a host was contacted"
    return done


def assert_refusal(returncode: int, stderr: str, message: str) -> None:
    """A refusal reads as one: exit 1, one line ``--> refused: ...`` holding ``message``, no
    traceback, no file or line of ours (as a crash inside the tool would show)."""
    assert returncode == 1, (returncode, stderr[-2000:])
    lines = [line for line in stderr.splitlines() if line.startswith("--> refused: ")]
    assert len(lines) == 1 and message in lines[0], stderr[-2000:]
    for crash in ("pyinfra error", "Traceback", ".py line ", 'File "'):
        assert crash not in stderr, stderr[-2000:]


@pytest.mark.parametrize("case", list(BAD_INVENTORIES))
def test_bad_inventory_is_refused_before_any_host_is_contacted(
    case: str, lab: Lab, tarball: Path, tmp_path: Path
) -> None:
    topology, message = BAD_INVENTORIES[case]
    inventory = inventory_variant(tmp_path, **topology)
    for mode in ("-y", "--dry"):  # the converge and the dry run
        done = refused(
            lab, [PYINFRA, str(inventory), "deploy.py", mode, "--data", f"alluxio_tarball={tarball}"]
        )
        assert_refusal(done.returncode, done.stderr, message)


@pytest.mark.parametrize("case", list(BAD_DATA))
def test_bad_data_is_refused_before_any_host_is_contacted(
    case: str, lab: Lab, tarball: Path, bad_files: dict[str, str]
) -> None:
    data, message = BAD_DATA[case]
    data = data.format(**bad_files)
    argv = [
        PYINFRA,
        "inventory.py",
        "deploy.py",
        "-y",
        "--data",
        f"alluxio_tarball={tarball}",
        "--data",
        data,
    ]
    done = refused(lab, argv)
    assert_refusal(done.returncode, done.stderr, message)
    # the drift report refuses it the same way, exit 1
    drift_argv = [
        sys.executable,
        "drift.py",
        "inventory.py",
        "--data",
        f"alluxio_tarball={tarball}",
        "--data",
        data,
    ]
    done = refused(lab, drift_argv)
    assert_refusal(done.returncode, done.stderr, message)


# ----- faults ---------------------------------------------------------------------------------
def test_a_worker_down_the_others_converge_and_the_next_run_finishes_the_job(lab: Lab, tarball: Path) -> None:
    lab.reset()
    lab.stop("server07")
    try:
        first = converge(lab, tarball)
    finally:
        lab.start("server07")
    assert first.returncode != 0
    assert "[server07] Could not connect" in first.stderr
    assert not first.errors(), first.errors()  # nobody else failed
    assert wait_worker_count(lab, 2) == 2  # server06 and server08
    second = converge(lab, tarball)
    assert second.returncode == 0, second.stderr[-3000:]
    restart = ("1. Stop", "8. The master runs", "8. Workers restart", "9. The master counts")
    others = {(op, h) for op, h in changed_pairs(second) if h != "server07" and not op.startswith(restart)}
    assert others == {
        ("3. The master knows every node's host key", MASTER),  # server07's keys, read at last
        ("11. Record what this converge applied (for the drift report)", MASTER),
    }
    assert wait_worker_count(lab, 3) == 3


def test_interrupted_upload_extraction_and_swap_are_redone_and_the_journal_kept(
    lab: Lab, tarball: Path
) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    lab.exec("server06", ["truncate", "-s", "1000", "/opt/alluxio-1.2.0-cdh5-bin.tar.gz"])
    lab.exec(
        "server07",
        [
            "sh",
            "-c",
            f"rm {INSTALL}/.alluxio-reconcile; mkdir -p /opt/.alluxio-1.2.0.partial/alluxio-1.2.0/bin",
        ],
    )
    # the master's swap interrupted between its two renames: the install path is gone
    lab.exec(
        MASTER,
        [
            "sh",
            "-c",
            f"echo metadata > {INSTALL}/journal/keep && mkdir -p /opt/.alluxio-1.2.0.partial && mv {INSTALL} /opt/.alluxio-1.2.0.partial/old",
        ],
    )
    code, document, _ = drift(lab, tarball)
    assert code == 2
    assert {("server06", "tarball"), ("server07", "install_dir"), (MASTER, "install_dir")} <= not_in_sync(
        document
    )
    run = converge(lab, tarball)
    assert run.returncode == 0, run.stderr[-3000:]
    assert ("4. The tarball is on every other node, sent from the master", "server06") in changed_pairs(run)
    code, document, _ = drift(lab, tarball)
    assert code == 0, not_in_sync(document)
    master = host(lab, MASTER)
    assert master.file(f"{INSTALL}/journal/keep").content_string == "metadata\n"
    assert not master.file("/opt/.alluxio-1.2.0.partial").exists
    assert not host(lab, "server07").file("/opt/.alluxio-1.2.0.partial").exists
    assert wait_worker_count(lab, 3) == 3


def test_a_file_changed_since_it_was_read_is_not_overwritten(lab: Lab, tarball: Path) -> None:
    """The guard of every write, run for real on a host: the file is replaced only if it still
    holds what the reading saw."""
    lab.reset()
    h = host(lab, "server06")
    read = h.file("/etc/hosts").content  # what a reading saw
    (write,) = write_file("/etc/hosts", read.decode() + "10.0.1.13\tserver08\n", "644", read)
    lab.exec("server06", ["sh", "-c", "echo '10.9.9.9 edited-meanwhile' >> /etc/hosts"], check=True)
    done = lab.exec("server06", ["sh", "-c", write])
    assert done.returncode == 1
    assert "/etc/hosts changed since it was read; not overwritten (run again)" in done.stderr
    assert "edited-meanwhile" in h.file("/etc/hosts").content_string
    assert "server08" not in h.file("/etc/hosts").content_string
    assert not h.file("/etc/.hosts.alluxio-reconcile.tmp").exists
    # with what it holds now, the same write goes through, atomically (a rename)
    (write,) = write_file("/etc/hosts", "127.0.0.1\tlocalhost\n", "644", h.file("/etc/hosts").content)
    inode = h.check_output("stat -c %i /etc/hosts")
    assert lab.exec("server06", ["sh", "-c", write]).returncode == 0
    assert h.file("/etc/hosts").content_string == "127.0.0.1\tlocalhost\n"
    assert h.check_output("stat -c %i /etc/hosts") != inode


def test_a_tarball_corrupted_after_upload_is_detected_and_replaced(lab: Lab, tarball: Path) -> None:
    lab.reset()
    converge(lab, tarball).ok()
    remote = f"/opt/{tarball.name}"
    size = host(lab, "server06").file(remote).size
    # one byte flipped, size kept; and a stale half upload beside it
    lab.exec("server06", ["sh", "-c", f"printf 'X' | dd of={remote} bs=1 seek=1000 conv=notrunc status=none; "
                          f"echo junk > /opt/.{tarball.name}.part"], check=True)  # fmt: skip
    assert host(lab, "server06").file(remote).size == size
    code, document, _ = drift(lab, tarball)
    assert code == 2 and not_in_sync(document) == {("server06", "tarball")}
    run = converge(lab, tarball).ok()
    assert ("4. The tarball is on every other node, sent from the master", "server06") in changed_pairs(run)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert host(lab, "server06").check_output(f"sha256sum {remote}").split()[0] == digest
    assert not host(lab, "server06").file(f"/opt/.{tarball.name}.part").exists
    assert drift(lab, tarball)[0] == 0


# tar as usual, but one extraction into the hidden folder hangs once extracted, until killed (its
# PID is that of the sleep it becomes): the extraction step's from the tarball (-xzf; the
# unpacking of the stream fails at once, so that the step has to extract) or the unpacking of the
# stream as it arrives (-xf -)
TAR_THAT_HANGS = """#!/bin/sh
case "$*" in
  HANGS) /tmp/real-tar "$@"; echo $$ > /tmp/tar-started; exec sleep 600 ;;
  FAILS) exit 2 ;;
  *) exec /tmp/real-tar "$@" ;;
esac
"""
STREAM, STEP = "*'-xf - '*.partial/unpacked-*", "*-xzf*.partial*"  # (case patterns)
HANGS = {"the extraction step": (STEP, STREAM), "the unpacking of the stream": (STREAM, "not-this")}


@pytest.mark.parametrize("killed", list(HANGS))
def test_an_extraction_killed_midway_leaves_the_old_release_in_use(
    lab: Lab, tarball: Path, tmp_path: Path, killed: str
) -> None:
    """Killed midway, the extraction step fails on that node and the old release stays in use;
    the unpacking of the stream, killed, is not used, and the extraction step extracts from the
    verified tarball instead."""
    lab.reset()
    converge(lab, tarball).ok()
    old_marker = host(lab, "server06").file(f"{INSTALL}/.alluxio-reconcile").content_string.splitlines()[0]
    newer = build(tmp_path, pad_mb=1)  # the same release, rebuilt: another tarball, a fresh extraction
    (lab.host_dir("server06") / "tmp" / "tar").write_text(
        TAR_THAT_HANGS.replace("HANGS", HANGS[killed][0]).replace("FAILS", HANGS[killed][1])
    )
    lab.exec(
        "server06",
        [
            "sh",
            "-c",
            "cp /usr/bin/tar /tmp/real-tar && chmod 755 /tmp/tar && mount --bind /tmp/tar /usr/bin/tar",
        ],
        check=True,
    )
    runs: dict[str, Run] = {}
    thread = threading.Thread(target=lambda: runs.setdefault("run", converge(lab, newer)))
    thread.start()
    try:
        pid = wait_until(lambda: host(lab, "server06").file("/tmp/tar-started").content_string.strip(),
                         "the extraction on server06 to begin", 120)  # fmt: skip
        lab.exec("server06", ["kill", "-9", pid], check=True)  # killed midway: before the swap
    finally:
        thread.join()
        lab.exec("server06", ["umount", "/usr/bin/tar"], check=True)
    run = runs["run"]
    h = host(lab, "server06")
    if killed == "the unpacking of the stream":
        assert run.returncode == 0, run.stderr[-3000:]
        marker = h.file(f"{INSTALL}/.alluxio-reconcile").content_string.splitlines()[0]
        assert marker != old_marker and not h.file("/opt/.alluxio-1.2.0.partial").exists
        assert drift(lab, newer)[0] == 0
        return
    assert run.returncode != 0 and op_hosts(run.errors(), "4. The release is extracted") == ["server06"]
    assert h.file(f"{INSTALL}/.alluxio-reconcile").content_string.splitlines()[0] == old_marker
    assert (
        h.file(f"{INSTALL}/bin/alluxio-start.sh").exists and h.file(f"{INSTALL}/conf/alluxio-env.sh").exists
    )
    assert h.file("/opt/.alluxio-1.2.0.partial").exists  # the interrupted one, never used
    converge(lab, newer).ok()
    assert drift(lab, newer)[0] == 0
    assert not h.file("/opt/.alluxio-1.2.0.partial").exists


def op_hosts(results: dict[str, list[str]], prefix: str) -> list[str]:
    return next((hosts for name, hosts in results.items() if name.startswith(prefix)), [])


def _hide(lab: Lab, name: str, path: str) -> None:
    """Make ``path`` not executable inside one host only (a file bind-mounted over it)."""
    lab.exec(name, ["sh", "-c", f"echo hidden > /tmp/hidden && mount --bind /tmp/hidden {path}"], check=True)


def test_preflight_names_what_a_node_lacks_before_changing_anything_there(lab: Lab, tarball: Path) -> None:
    lab.reset()
    _hide(lab, "server06", "/usr/bin/java")
    _hide(lab, "server07", "/usr/bin/sudo")
    lab.exec(MASTER, ["mount", "-t", "tmpfs", "-o", "size=40k", "tmpfs", "/opt"], check=True)
    before = {n: host(lab, n).file("/etc/hosts").content for n in NODES}
    run = converge(lab, tarball)
    assert run.returncode != 0
    assert "server06 lacks: java" in run.stderr
    assert "server07 lacks: sudo" in run.stderr
    assert re.search(r"server08: /opt has 0 MiB free, the release needs \d+ MiB", run.stderr)
    assert {n: host(lab, n).file("/etc/hosts").content for n in NODES} == before  # nothing changed
    lab.reset()
    bad_java = converge(lab, tarball, "--data", 'alluxio_env={"JAVA": "/opt/jdk/bin/java"}')
    assert bad_java.returncode != 0 and "lacks: java=/opt/jdk/bin/java" in bad_java.stderr


def test_a_launcher_of_unknown_shape_is_reported_and_left_alone(lab: Lab, tarball: Path) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    launcher = f"{INSTALL}/bin/alluxio-workers.sh"
    lab.exec("server06", ["sed", "-i", r"s/ -tt \${worker}/ ${worker}/", launcher], check=True)
    digest = host(lab, "server06").check_output(f"sha256sum {launcher}")
    code, document, _ = drift(lab, tarball)
    assert code == 2 and not_in_sync(document) == {("server06", "launcher")}
    reported = document["hosts"]["server06"]["resources"]["launcher"]
    assert "unknown shape" in reported["actual"]
    assert reported["cause"] == "corrective"  # changed on the host, not a new declaration
    run = converge(lab, tarball)
    assert "unknown shape" in run.stderr
    assert host(lab, "server06").check_output(f"sha256sum {launcher}") == digest
    assert not changed_pairs(run)


LOCK = "/etc/alluxio-reconcile/lock"


def test_two_converges_at_once_one_refuses_and_nothing_is_corrupted(lab: Lab, tmp_path: Path) -> None:
    lab.reset()
    big = build(tmp_path, pad_mb=48)  # a cold converge that takes a while
    runs: dict[str, Run] = {}
    first = threading.Thread(target=lambda: runs.setdefault("first", converge(lab, big)))
    first.start()
    try:
        # rendezvous: the first run holds the lock (it is converging)
        wait_until(
            lambda: host(lab, MASTER).file(LOCK).is_directory, "the first converge to hold the lock", 60
        )
        runs["second"] = converge(lab, big)
    finally:
        first.join()
    runs["first"].ok()
    refused = runs["second"]
    assert refused.results is None
    assert_refusal(refused.returncode, refused.stderr, "another converge is running on this cluster")
    assert re.search(
        rf"another converge is running on this cluster \({MASTER}:{LOCK} held by root@\S+ pid \d+ since ",
        refused.stderr,
    )
    assert "nothing was changed" in refused.stderr and "--> Starting operation" not in refused.stderr
    code, document, _ = drift(lab, big)
    assert code == 0, not_in_sync(document)
    assert not host(lab, MASTER).file(LOCK).exists


def test_a_refused_converge_changes_nothing_on_any_host(lab: Lab, tarball: Path) -> None:
    lab.reset()
    holder = "ops@elsewhere pid 4242 since 2026-01-01T00:00:00+0000"
    lab.exec(MASTER, ["sh", "-c", f"mkdir -p {LOCK} && echo '{holder}' > {LOCK}/owner"], check=True)
    before = host_state(lab)
    run = converge(lab, tarball)
    assert run.results is None
    assert_refusal(run.returncode, run.stderr, f"held by {holder}); nothing was changed")
    assert host_state(lab) == before  # files, owners, modes, digests and processes, every host


def test_a_failed_run_gives_the_lock_back(lab: Lab, tarball: Path) -> None:
    lab.reset()
    # a JAVA that exists nowhere: the preflight fails on every host ("No hosts remaining!")
    failed = converge(lab, tarball, "--data", 'alluxio_env={"JAVA": "/nowhere/bin/java"}')
    assert failed.returncode != 0 and "lacks: java=/nowhere/bin/java" in failed.stderr
    assert not host(lab, MASTER).file(LOCK).exists
    converge(lab, tarball).ok()


def test_a_lock_left_by_a_dead_process_here_is_taken_over(lab: Lab, tarball: Path) -> None:
    lab.reset()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a PID of this machine that no longer runs
    holder = f"root@{socket.gethostname()} pid {gone.pid} since 2026-01-01T00:00:00+0000"
    lab.exec(MASTER, ["sh", "-c", f"mkdir -p {LOCK} && echo '{holder}' > {LOCK}/owner"], check=True)
    run = converge(lab, tarball).ok()
    assert f"took over {LOCK}: its holder ({holder}) is not running on this machine any more" in run.stderr
    assert not host(lab, MASTER).file(LOCK).exists


def test_a_lock_that_cannot_be_taken_says_why(lab: Lab, tarball: Path) -> None:
    lab.reset()
    lab.exec(MASTER, ["mount", "-o", "remount,ro", "/etc"], check=True)
    try:
        run = converge(lab, tarball)
    finally:
        lab.exec(MASTER, ["mount", "-o", "remount,rw", "/etc"], check=True)
    assert_refusal(run.returncode, run.stderr, f"cannot take the converge lock {MASTER}:{LOCK}")
    assert "Read-only file system" in run.stderr and "another converge" not in run.stderr


# ----- nothing is lost -----------------------------------------------------------------------
def test_a_formatted_journal_is_never_formatted_again(lab: Lab, tarball: Path) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    master = host(lab, MASTER)
    marker = master.check_output(f"ls {INSTALL}/journal | grep _format_")
    master.run(f"echo 'the file system metadata' > {INSTALL}/journal/log.1")
    run = converge(lab, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "256MB"}')
    assert run.returncode == 0 and run.changed()
    assert not [op for op in run.changed() if op.startswith("8. The journal")]
    assert master.file(f"{INSTALL}/journal/log.1").content_string == "the file system metadata\n"
    assert master.check_output(f"ls {INSTALL}/journal | grep _format_") == marker


# ----- no one gets in ------------------------------------------------------------------------
def test_modes_and_owners_are_repaired_as_drift(lab: Lab, tarball: Path) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    lab.exec("server06", ["chmod", "755", "/root/.ssh"], check=True)
    lab.exec("server07", ["chmod", "644", "/root/.ssh/authorized_keys"], check=True)
    lab.exec(MASTER, ["chmod", "644", "/root/.ssh/id_rsa"], check=True)
    code, document, _ = drift(lab, tarball)
    assert code == 2
    assert not_in_sync(document) == {
        ("server06", "authorized_keys"),
        ("server07", "authorized_keys"),
        (MASTER, "ssh_keypair"),
    }
    assert converge(lab, tarball).returncode == 0
    assert host(lab, "server06").file("/root/.ssh").mode == 0o700
    assert host(lab, "server07").file("/root/.ssh/authorized_keys").mode == 0o600
    assert host(lab, MASTER).file("/root/.ssh/id_rsa").mode == 0o600
    assert drift(lab, tarball)[0] == 0


def _decoded_tokens(text: str) -> list[bytes]:
    """Every long base64 token of ``text``, decoded (a file the tool read would travel as one:
    the base64 of a tar holding it, or of the file itself)."""
    decoded = []
    for token in re.findall(r"[A-Za-z0-9+/]{48,}={0,2}", text):
        try:
            decoded.append(base64.b64decode(token + "=" * (-len(token) % 4)))
        except (binascii.Error, ValueError):
            continue
    return decoded


def test_the_private_key_never_reaches_the_control_side(lab: Lab, tarball: Path) -> None:
    lab.reset()
    run = converge(lab, tarball, "-vvv").ok()
    key = host(lab, MASTER).file("/root/.ssh/id_rsa").content_string
    secret = [line for line in key.splitlines() if line and not line.startswith("-----")]
    assert len(secret) > 10
    blob = base64.b64decode("".join(secret))  # the key itself, as bytes
    again = converge(lab, tarball, "-vvv").ok()
    drifted = lab.run([sys.executable, "drift.py", "inventory.py", *release_data(tarball), "-v"],
                      capture_output=True, text=True, cwd=PROJECT)  # fmt: skip
    _, document, _ = drift(lab, tarball, "-v")
    outputs = "".join([run.stdout, run.stderr, again.stdout, again.stderr, drifted.stdout, drifted.stderr,
                       json.dumps(document)])  # fmt: skip
    assert "Loaded fact" in again.stderr or "node.NodeState" in again.stderr  # it was verbose
    assert "@@alluxio-reconcile@@ files" in again.stderr  # the one reading's output was shown
    for line in secret:  # PEM lines
        assert line not in outputs
    assert base64.b64encode(key.encode()).decode()[:60] not in outputs  # the file as base64
    for data in _decoded_tokens(outputs):  # inside anything sent as base64 (a tar, a file)
        assert key.encode() not in data and blob not in data and secret[1].encode() not in data
    # the key file is on the master only: not on the workers, nowhere on the control side
    for name in ("server06", "server07"):
        assert not host(lab, name).file("/root/.ssh/id_rsa").exists
    places = [str(lab.root / "control"), str(PROJECT), "/tmp", "/root/.ssh"]
    found = subprocess.run(["grep", "-rlsF", "--", secret[1], *places], capture_output=True, text=True)
    assert found.stdout == "", found.stdout


def test_hostile_values_reach_no_shell(lab: Lab, tarball: Path) -> None:
    lab.reset()
    # Each payload leaves its own marker if any shell ever evaluates it. ALLUXIO_JAVA_OPTS is
    # word-split onto the java command line by the release, so its payload has no space.
    hostile = {
        "ALLUXIO_JAVA_OPTS": "-Dpwn=$(touch${IFS}/tmp/pwned1)",
        "EXTRA": "`touch /tmp/pwned2`; touch /tmp/pwned3 'x",
        "MORE": '"; touch /tmp/pwned4; echo "',
    }
    run = converge(lab, tarball, "--data", f"alluxio_env={json.dumps(hostile)}").ok()
    assert worker_count(lab) == 3  # every daemon started with that alluxio-env.sh sourced
    for name in (*NODES, "server03"):
        for marker in ("pwned1", "pwned2", "pwned3", "pwned4"):
            assert not host(lab, name).file(f"/tmp/{marker}").exists, (name, marker)
        if name in NODES:
            env = host(lab, name).file(f"{INSTALL}/conf/alluxio-env.sh").content_string
            assert "ALLUXIO_JAVA_OPTS='-Dpwn=$(touch${IFS}/tmp/pwned1)'" in env
    assert "-Dpwn=$(touch${IFS}/tmp/pwned1)" in ssh(lab, MASTER, "ps -eo args")  # as a literal value
    assert run.changed()


def test_a_changed_host_key_is_not_trusted_unless_accepted(lab: Lab, tarball: Path) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    lab.rekey("server06")  # reinstalled
    run = converge(lab, tarball)
    assert run.returncode != 0
    assert re.search(r"host key changed for .*server06.*alluxio_accept_new_host_keys=true", run.stderr)
    master = host(lab, MASTER)
    strict = "ssh -o BatchMode=yes -o StrictHostKeyChecking=yes server06 true"
    assert master.run(strict).rc != 0
    code, document, _ = drift(lab, tarball)
    assert code == 2 and "not trusted" in document["hosts"][MASTER]["resources"]["known_hosts"]["actual"]
    accepted = converge(lab, tarball, "--data", "alluxio_accept_new_host_keys=true")
    assert accepted.returncode == 0, accepted.stderr[-3000:]
    assert master.run(strict).rc == 0
