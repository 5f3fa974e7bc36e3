"""End to end in the lab, on every supported release: one run converges bare hosts, a second
changes nothing, and a running cluster can be changed, repaired and restarted (issues 3, 9)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from pathlib import Path

import pytest

from demo_release import VERSIONS, build
from lab import Lab
from tests.labutil import (
    MASTER,
    POST_WORKERS,
    PROJECT,
    Run,
    changed_pairs,
    converge,
    drift,
    host,
    not_in_sync,
    ssh,
    wait_until,
    wait_worker_count,
    worker_count,
)

NODES = ("server06", "server07", "server08")
ENTRIES = {"server08": "10.0.1.13", "server06": "10.0.1.11", "server07": "10.0.1.12", "server03": "10.0.1.8"}
RESTART = ("8. The master runs", "8. Workers restart one at a time", "9. The master counts")


def op(results: dict[str, list[str]], words: str) -> list[str]:
    """Hosts of the one operation whose name contains ``words``."""
    found = [hosts for name, hosts in results.items() if words in name]
    assert len(found) <= 1, words
    return found[0] if found else []


def install(tarball: Path) -> str:
    return f"/opt/{tarball.name.split('-bin')[0].removesuffix('-cdh5')}"


def master_starts(lab: Lab, tarball: Path) -> int:
    """How often the master has started (its log keeps every start)."""
    log = host(lab, MASTER).file(f"{install(tarball)}/logs/master.log")
    return log.content_string.count("Alluxio master version ") if log.exists else 0


@pytest.fixture(scope="module", params=VERSIONS)
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo release of each supported version, in turn."""
    return build(tmp_path_factory.mktemp(f"release-{request.param}"), version=request.param)


@pytest.fixture(scope="module")
def first_run(lab: Lab, release: Path) -> Run:
    lab.reset()
    return converge(lab, release)


def test_one_run_from_bare_hosts_makes_a_healthy_cluster(lab: Lab, release: Path, first_run: Run) -> None:
    tarball = release
    first_run.ok()
    assert not first_run.errors()
    assert worker_count(lab) == 3
    home = install(tarball)
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    for name in NODES:
        h = host(lab, name)
        hosts = h.file("/etc/hosts").content_string
        for entry, address in ENTRIES.items():
            assert any(line.split()[:2] == [address, entry] for line in hosts.splitlines()), (name, entry)
        assert h.run("getent hosts server03").stdout.split()[0] == "10.0.1.8"
        assert h.file("/root/.ssh").mode == 0o700
        assert h.file("/root/.ssh/authorized_keys").mode == 0o600
        folder = h.file(home)
        assert folder.is_directory and folder.user == "root" and folder.group == "root"
        assert h.run(f"find {home} ! -user root -o ! -group root").stdout == ""
        assert h.file(f"{home}/logs/README.md").content_string == "This directory contains Alluxio logs\n"
        assert h.check_output(f"sha256sum /opt/{tarball.name}").split()[0] == digest
        workers = h.file(f"{home}/conf/workers").content_string
        assert [line for line in workers.splitlines() if not line.startswith("#")] == list(POST_WORKERS)
        env = h.file(f"{home}/conf/alluxio-env.sh").content_string
        assert "ALLUXIO_MASTER_HOSTNAME=server08" in env
        assert "ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio" in env
        launcher = h.file(f"{home}/bin/alluxio-workers.sh")
        assert launcher.contains(r"-tt \${worker}") and not launcher.contains(r" -t \${worker}")
    master = host(lab, MASTER)
    assert master.file("/root/.ssh/id_rsa").mode == 0o600
    public = master.file("/root/.ssh/id_rsa.pub").content_string.split()[1]
    for name in NODES:
        assert public in host(lab, name).file("/root/.ssh/authorized_keys").content_string
    for name, address in ENTRIES.items():
        if name == "server03":
            continue
        for target in (name, address):
            check = master.run(f"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes {target} hostname")
            assert check.rc == 0 and check.stdout.strip() == name, check.stderr
    assert re.search(r"^_format_\d{13}$", master.run(f"ls {home}/journal").stdout, re.M)


def test_second_run_changes_nothing(lab: Lab, release: Path, first_run: Run) -> None:
    tarball = release
    first_run.ok()
    second = converge(lab, tarball).ok()
    assert second.changed() == {} and second.errors() == {}
    assert all(r["no_change"] and not r["success"] for r in (second.results or {}).values())
    assert set().union(*(r["no_change"] for r in (second.results or {}).values())) == set(NODES)
    assert drift(lab, tarball)[0] == 0


def _changes_only(run: Run, own: str, hosts: set[str]) -> None:
    """``run`` changed the operation ``own`` on ``hosts``, restarted the master once (alone,
    then each worker, one at a time), checked health, and recorded the new state; nothing else."""
    changed = run.changed()
    assert set(op(changed, own)) == hosts
    assert op(changed, "The master runs") == [MASTER]
    assert sorted(op(changed, "Workers restart")) == sorted(NODES)
    assert op(changed, "counts every worker") == [MASTER]
    allowed = (own, *RESTART, "11. Record")
    assert [name for name in changed if not any(w in name for w in allowed)] == []


def test_changing_one_input_changes_only_the_conf_and_restarts_once(
    lab: Lab, release: Path, first_run: Run
) -> None:
    tarball = release
    first_run.ok()
    starts = master_starts(lab, tarball)
    pid_before = ssh(lab, MASTER, "pgrep -f -o alluxio.master.AlluxioMaster")
    # a setting every daemon reads (a worker-only one restarts the workers one at a time:
    # tests/test_day_two.py)
    extra = json.dumps({"ALLUXIO_JAVA_OPTS": "-Dreconcile.test=512"})
    run = converge(lab, tarball, "--data", f"alluxio_env={extra}").ok()
    _changes_only(run, "alluxio-env.sh", set(NODES))
    assert sorted(op(run.changed(), "Record what")) == sorted(NODES)  # a new declaration applied
    for name in NODES:
        env = host(lab, name).file(f"{install(tarball)}/conf/alluxio-env.sh").content_string
        assert "ALLUXIO_JAVA_OPTS=-Dreconcile.test=512" in env
    assert "-Dreconcile.test=512" in ssh(lab, "server06", "ps -eo args")  # read at the restart
    assert master_starts(lab, tarball) == starts + 1
    assert ssh(lab, MASTER, "pgrep -f -o alluxio.master.AlluxioMaster") != pid_before
    assert wait_worker_count(lab, 3) == 3
    code, document, _ = drift(lab, tarball, "--data", f"alluxio_env={extra}")
    assert code == 0, not_in_sync(document)
    assert converge(lab, tarball, "--data", f"alluxio_env={extra}").ok().changed() == {}
    # and back to the declaration of the other tests
    converge(lab, tarball).ok()


def test_a_reverted_launcher_is_repaired_without_a_restart(lab: Lab, release: Path, first_run: Run) -> None:
    tarball = release
    first_run.ok()
    launcher = f"{install(tarball)}/bin/alluxio-workers.sh"
    lab.exec("server07", ["sed", "-i", r"s/ -tt \${worker}/ -t ${worker}/", launcher], check=True)
    starts = master_starts(lab, tarball)
    run = converge(lab, tarball).ok()
    # only the scripts on the master read the launcher: the daemons keep running
    assert changed_pairs(run) == {("7. The launcher says ssh -tt", "server07")}
    assert master_starts(lab, tarball) == starts
    assert wait_worker_count(lab, 3) == 3
    assert drift(lab, tarball)[0] == 0
    assert converge(lab, tarball).ok().changed() == {}


def test_a_host_whose_sshd_was_down_rejoins(lab: Lab, release: Path, first_run: Run) -> None:
    tarball = release
    first_run.ok()
    extra = json.dumps({"ALLUXIO_WORKER_MEMORY_SIZE": "768MB"})
    lab.stop("server06")
    try:
        partial = converge(lab, tarball, "--data", f"alluxio_env={extra}")
    finally:
        lab.start("server06")
    assert partial.returncode != 0 and "[server06] Could not connect" in partial.stderr
    assert sorted(op(partial.changed(), "alluxio-env.sh")) == ["server07", "server08"]
    run = converge(lab, tarball, "--data", f"alluxio_env={extra}").ok()
    assert op(run.changed(), "alluxio-env.sh") == ["server06"]
    assert op(run.changed(), "Workers restart") == ["server06"]  # its worker alone
    assert op(run.changed(), "The master runs") == []
    assert wait_worker_count(lab, 3) == 3
    assert drift(lab, tarball, "--data", f"alluxio_env={extra}")[0] == 0
    assert converge(lab, tarball, "--data", f"alluxio_env={extra}").ok().changed() == {}
    converge(lab, tarball).ok()


def test_a_one_character_edit_in_the_release_is_drift_and_repaired(
    lab: Lab, release: Path, first_run: Run
) -> None:
    tarball = release
    first_run.ok()
    script = f"{install(tarball)}/bin/alluxio-stop.sh"
    size = host(lab, "server07").file(script).size
    lab.exec("server07", ["sed", "-i", "s/Invalid component/Invalid c0mponent/", script], check=True)
    assert host(lab, "server07").file(script).size == size  # same size, other content
    code, document, _ = drift(lab, tarball)
    assert code == 2 and not_in_sync(document) == {("server07", "install_dir")}
    assert (
        "bin/alluxio-stop.sh (content differs)"
        in document["hosts"]["server07"]["resources"]["install_dir"]["actual"]
    )
    run = converge(lab, tarball).ok()
    assert changed_pairs(run) == {("4. The release is extracted, complete, root:root", "server07")}
    assert "Invalid component" in host(lab, "server07").file(script).content_string
    assert drift(lab, tarball)[0] == 0


def test_a_worker_that_cannot_start_fails_the_run_with_its_own_output(lab: Lab, tarball: Path) -> None:
    lab.reset()
    converge(lab, tarball).ok()
    # server07's RAM folder is gone (a reboot empties a ramfs), and its sudo refuses everything:
    # its worker cannot mount the folder again
    lab.exec("server07", ["umount", "/mnt/ramdisk"], check=True)
    broken = lab.host_dir("server07") / "tmp" / "sudo"  # the host's own /tmp
    broken.write_text("#!/bin/sh\necho 'sudo: refused for this test' >&2\nexit 1\n")
    broken.chmod(0o755)
    lab.exec("server07", ["mount", "--bind", "/tmp/sudo", "/usr/bin/sudo"], check=True)
    try:
        run = converge(
            lab,
            tarball,
            "--data",
            'alluxio_env={"ALLUXIO_JAVA_OPTS": "-Dreconcile.test=640"}',
            "--data",
            "alluxio_health_seconds=10",
        )
    finally:
        lab.exec("server07", ["umount", "/usr/bin/sudo"], check=True)
    assert run.returncode != 0
    # the rolling restart fails on server07 with what its start said; the other workers restart
    assert op(run.errors(), "Workers restart") == ["server07"]
    assert sorted(op(run.changed(), "Workers restart")) == ["server06", "server08"]
    assert (
        "its worker starts with an empty cache: /mnt/ramdisk is not mounted (SudoMount mounts it)"
        in run.stderr
    )
    assert "sudo: refused for this test" in run.stderr
    assert "Mount failed, not starting worker" in run.stderr
    # the health step counts the others: server07 has failed the run already
    assert op(run.changed(), "counts every worker") == [MASTER]
    assert ssh(lab, "server07", "ps -eo args | grep [A]lluxioWorker || echo none").strip() == "none"
    fixed = converge(lab, tarball).ok()
    assert op(fixed.changed(), "The master runs") == [MASTER]  # back to the declaration every daemon reads
    assert wait_worker_count(lab, 3) == 3


def test_what_the_operator_had_survives(lab: Lab, tarball: Path) -> None:
    lab.reset()
    own_hosts = "# the operator's own lines\r\n10.9.0.1\tbackup backup.local\r\n\n::1 only-v6 # v6\n"
    operator_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFakeOperatorKeyForTestsOnly0000000000000000 ops@desk"
    for name in NODES:
        encoded = base64.b64encode(own_hosts.encode()).decode()
        ssh(lab, name, f"echo {encoded} | base64 -d >> /etc/hosts")
        ssh(lab, name, f"echo 'from=\"10.9.0.0/16\",no-pty {operator_key}' >> /root/.ssh/authorized_keys")
    ssh(lab, MASTER, "ssh-keygen -q -t ed25519 -N '' -C existing -f /root/.ssh/id_ed25519")
    before = {name: host(lab, name).file("/etc/hosts").content for name in NODES}
    key_sum = host(lab, MASTER).check_output("sha256sum /root/.ssh/id_ed25519 /root/.ssh/id_ed25519.pub")
    existing_public = host(lab, MASTER).file("/root/.ssh/id_ed25519.pub").content_string.split()[1]

    converge(lab, tarball).ok()
    for name in NODES:
        h = host(lab, name)
        after = h.file("/etc/hosts").content
        assert after.startswith(before[name]), name  # every line kept, byte for byte, in order
        keys = h.file("/root/.ssh/authorized_keys").content_string
        assert f'from="10.9.0.0/16",no-pty {operator_key}' in keys
        assert existing_public in keys
    master = host(lab, MASTER)
    assert master.check_output("sha256sum /root/.ssh/id_ed25519 /root/.ssh/id_ed25519.pub") == key_sum
    assert not master.file("/root/.ssh/id_rsa").exists  # no second key pair
    assert wait_worker_count(lab, 3) == 3


def test_the_launcher_patch_is_what_the_releases_own_start_all_needs(
    lab: Lab, tarball: Path, tmp_path: Path
) -> None:
    """The tool starts each worker on its own node (through a pty, for sudo under requiretty),
    so its run does not need the patch; the post's step stays for the release's own `start all`
    and `stop all`, which reach the workers through the launcher (Alluxio #3891)."""
    deploy = (PROJECT / "deploy.py").read_text()
    assert "release.launcher_patched(" in deploy
    unpatched = tmp_path / "deploy_without_launcher_patch.py"
    unpatched.write_text(
        "\n".join(line for line in deploy.splitlines() if "release.launcher_patched(" not in line)
    )
    lab.reset()
    converge(lab, tarball, deploy=str(unpatched)).ok()  # its health step counts all three live
    home = install(tarball)
    ssh(lab, MASTER, f"{home}/bin/alluxio-start.sh all")  # the post's own start, by hand
    log = wait_until(
        lambda: (
            (t := ssh(lab, MASTER, f"cat {home}/logs/task.log")).count("sorry, you must have a tty") >= 3
            and t
        ),
        "every worker's sudo refusal in task.log",
        30,
    )
    assert "sudo: sorry, you must have a tty to run sudo" in log
    assert wait_until(lambda: worker_count(lab) == 0, "the master serving, with no worker")
    # the real deploy patches the launcher (and starts the workers again); then `start all` works
    fixed = converge(lab, tarball).ok()
    assert sorted(op(fixed.changed(), "ssh -tt")) == sorted(NODES)
    assert wait_worker_count(lab, 3) == 3
    ssh(lab, MASTER, f"{home}/bin/alluxio-start.sh all")
    assert wait_worker_count(lab, 3, seconds=40) == 3
