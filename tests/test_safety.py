"""Refuse bad input, survive faults, lose nothing, let no one in (issue 5), in the lab."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from bench.inventories import inventory_variant
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
    host,
    not_in_sync,
    wait_worker_count,
    worker_count,
)

NODES = ("server06", "server07", "server08")
INSTALL = "/opt/alluxio-1.2.0"


def connections(lab: Lab) -> int:
    """SSH connections the lab's hosts have accepted so far (sshd logs every one)."""
    return sum((lab.host_dir(n) / "sshd.log").read_text().count("Connection from") for n in lab.hosts())


HOSTS = '[("server08", {"ssh_hostname": "10.0.1.13"}), ("server06", {"ssh_hostname": "10.0.1.11"}), ("server07", {"ssh_hostname": "10.0.1.12"})]'
BAD_INVENTORIES = {
    "duplicate hostname": ({"hosts": HOSTS[:-1] + ', ("server06", {"ssh_hostname": "10.0.1.20"})]'}, "host server06: declared twice"),
    "two hosts with one IP": ({"hosts": HOSTS.replace("10.0.1.12", "10.0.1.11")}, "host server07: address 10.0.1.11 is already host server06's"),
    "malformed IP": ({"hosts": HOSTS.replace("10.0.1.12", "10.0.1.312")}, "host server07: ssh_hostname='10.0.1.312': not an IPv4 address"),
    "hostname not a DNS label": ({"hosts": HOSTS.replace('"server07"', '"server_07"'), "WORKERS": '["server06"]'}, "host 'server_07': not a valid DNS label"),
    "no master": ({"MASTER": '""'}, "master: no master declared"),
    "two masters": ({"MASTER": '["server08", "server06"]'}, "master: exactly one master"),
    "master not managed": ({"MASTER": '"server03"'}, "master: host server03 is resolve-only, not managed"),
    "no workers": ({"WORKERS": "[]"}, "workers: no workers declared"),
    "worker not in the inventory": ({"WORKERS": '["server06", "server09"]'}, "workers: host server09 is not in the inventory"),
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


@pytest.mark.parametrize("case", list(BAD_INVENTORIES))
def test_bad_inventory_is_refused_before_any_host_is_contacted(
    case: str, lab: Lab, tarball: Path, tmp_path: Path
) -> None:
    topology, message = BAD_INVENTORIES[case]
    inventory = inventory_variant(tmp_path, **topology)
    done = refused(lab, [PYINFRA, str(inventory), "deploy.py", "-y", "--data", f"alluxio_tarball={tarball}"])
    assert done.returncode != 0
    assert message in done.stderr


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
    assert done.returncode != 0
    assert message in done.stderr
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
    assert done.returncode == 1 and message in done.stderr


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
    restart = ("1. Stop", "8. Alluxio runs", "9. The master counts")
    others = {(op, h) for op, h in changed_pairs(second) if h != "server07" and not op.startswith(restart)}
    assert others == {
        ("3. The master knows every node's host key", MASTER),  # server07's keys, read at last
        ("10. Record what this converge applied (for the drift report)", MASTER),
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
    assert "unknown shape" in document["hosts"]["server06"]["resources"]["launcher"]["actual"]
    run = converge(lab, tarball)
    assert "unknown shape" in run.stderr
    assert host(lab, "server06").check_output(f"sha256sum {launcher}") == digest
    assert not changed_pairs(run)


def test_two_converges_at_once_one_refuses_and_nothing_is_corrupted(lab: Lab, tmp_path: Path) -> None:
    lab.reset()
    big = build(tmp_path, pad_mb=48)  # a cold converge that takes a while
    runs: dict[str, Run] = {}

    def start(label: str) -> None:
        runs[label] = converge(lab, big)

    first = threading.Thread(target=start, args=("first",))
    first.start()
    time.sleep(1.5)  # the first is reading or converging by now
    start("second")
    first.join()
    done = [r for r in runs.values() if r.returncode == 0]
    refused = [r for r in runs.values() if r.returncode != 0]
    assert len(done) == 1 and len(refused) == 1, [r.stderr[-2000:] for r in runs.values()]
    assert "another converge is running on this cluster" in refused[0].stderr
    assert "nothing was changed" in refused[0].stderr
    assert not changed_pairs(refused[0])
    code, document, _ = drift(lab, big)
    assert code == 0, not_in_sync(document)
    assert not host(lab, MASTER).file("/etc/alluxio-reconcile/lock").exists


# ----- nothing is lost -----------------------------------------------------------------------
def test_a_formatted_journal_is_never_formatted_again(lab: Lab, tarball: Path) -> None:
    lab.reset()
    assert converge(lab, tarball).returncode == 0
    master = host(lab, MASTER)
    marker = master.check_output(f"ls {INSTALL}/journal | grep _format_")
    master.run(f"echo 'the file system metadata' > {INSTALL}/journal/log.1")
    run = converge(lab, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "256MB"}')
    assert run.returncode == 0 and run.changed()
    assert "8. The journal is formatted, once" not in run.changed()
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


def test_the_private_key_never_reaches_the_control_side(lab: Lab, tarball: Path) -> None:
    lab.reset()
    run = converge(lab, tarball, "-vvv")
    assert run.returncode == 0, run.stderr[-3000:]
    key = host(lab, MASTER).file("/root/.ssh/id_rsa").content_string
    secret = [line for line in key.splitlines() if line and not line.startswith("-----")]
    assert len(secret) > 10
    again = converge(lab, tarball, "-vvv")
    _, document, _ = drift(lab, tarball, "-v")
    outputs = run.stdout + run.stderr + again.stdout + again.stderr + json.dumps(document)
    assert "Loaded fact" in again.stderr or "node.NodeState" in again.stderr  # it was verbose
    for line in secret:
        assert line not in outputs


def test_hostile_values_reach_no_shell(lab: Lab, tarball: Path) -> None:
    lab.reset()
    hostile = {
        "ALLUXIO_JAVA_OPTS": "$(touch /tmp/pwned)",
        "EXTRA": "`touch /tmp/pwned2`; touch /tmp/pwned3 'x",
    }
    run = converge(lab, tarball, "--data", f"alluxio_env={json.dumps(hostile)}")
    assert run.returncode == 0, run.stderr[-3000:]
    assert worker_count(lab) == 3  # every daemon started with that alluxio-env.sh sourced
    for name in NODES:
        assert host(lab, name).run("ls /tmp/pwned /tmp/pwned2 /tmp/pwned3").rc != 0, name
        env = host(lab, name).file(f"{INSTALL}/conf/alluxio-env.sh").content_string
        assert "ALLUXIO_JAVA_OPTS='$(touch /tmp/pwned)'" in env


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
