"""End to end in the lab: one run converges bare hosts, a second changes nothing (issue 3)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from lab import Lab
from tests.labutil import MASTER, POST_WORKERS, PROJECT, converge, host, ssh, wait_worker_count, worker_count

NODES = ("server06", "server07", "server08")
ENTRIES = {"server08": "10.0.1.13", "server06": "10.0.1.11", "server07": "10.0.1.12", "server03": "10.0.1.8"}
INSTALL = "/opt/alluxio-1.2.0"


def op(results: dict[str, list[str]], words: str) -> list[str]:
    """Hosts of the one operation whose name contains ``words``."""
    found = [hosts for name, hosts in results.items() if words in name]
    assert len(found) <= 1, words
    return found[0] if found else []


@pytest.fixture(scope="module")
def first_run(lab: Lab, tarball: Path):
    lab.reset()
    return converge(lab, tarball)


def test_one_run_from_bare_hosts_makes_a_healthy_cluster(lab: Lab, tarball: Path, first_run) -> None:
    assert first_run.returncode == 0, first_run.stderr[-3000:]
    assert not first_run.errors()
    assert worker_count(lab) == 3
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    for name in NODES:
        h = host(lab, name)
        hosts = h.file("/etc/hosts").content_string
        for entry, address in ENTRIES.items():
            assert any(line.split()[:2] == [address, entry] for line in hosts.splitlines()), (name, entry)
        assert h.run("getent hosts server03").stdout.split()[0] == "10.0.1.8"
        assert h.file("/root/.ssh").mode == 0o700
        assert h.file("/root/.ssh/authorized_keys").mode == 0o600
        install = h.file(INSTALL)
        assert install.is_directory and install.user == "root" and install.group == "root"
        assert h.run(f"find {INSTALL} ! -user root -o ! -group root").stdout == ""
        assert h.check_output("sha256sum /opt/alluxio-1.2.0-cdh5-bin.tar.gz").split()[0] == digest
        workers = h.file(f"{INSTALL}/conf/workers").content_string
        assert [line for line in workers.splitlines() if not line.startswith("#")] == list(POST_WORKERS)
        env = h.file(f"{INSTALL}/conf/alluxio-env.sh").content_string
        assert "ALLUXIO_MASTER_HOSTNAME=server08" in env
        assert "ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio" in env
        launcher = h.file(f"{INSTALL}/bin/alluxio-workers.sh")
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
    assert master.run(f"ls {INSTALL}/journal").stdout.startswith("_format_")


def test_second_run_changes_nothing(lab: Lab, tarball: Path, first_run) -> None:
    assert first_run.returncode == 0
    second = converge(lab, tarball)
    assert second.returncode == 0, second.stderr[-3000:]
    assert second.results, "no machine-readable results"
    assert second.changed() == {} and second.errors() == {}
    assert all(r["no_change"] and not r["success"] for r in second.results.values())
    assert set().union(*(r["no_change"] for r in second.results.values())) == set(NODES)


def test_changing_one_input_changes_only_the_conf_and_restarts_once(
    lab: Lab, tarball: Path, first_run
) -> None:
    assert first_run.returncode == 0
    master = host(lab, MASTER)
    pid_before = master.check_output("pgrep -f -o alluxio.master.AlluxioMaster")
    starts_before = master.file(f"{INSTALL}/logs/master.out").content_string.count("master started")
    extra = json.dumps({"ALLUXIO_WORKER_MEMORY_SIZE": "512MB"})
    run = converge(lab, tarball, "--data", f"alluxio_env={extra}")
    try:
        assert run.returncode == 0, run.stderr[-3000:]
        changed = run.changed()
        assert sorted(op(changed, "alluxio-env.sh")) == sorted(NODES)
        assert op(changed, "Stop Alluxio") == sorted(NODES)  # all were running
        assert op(changed, "Alluxio runs") == [MASTER]  # one `alluxio-start.sh all`
        assert op(changed, "counts every worker") == [MASTER]
        assert sorted(op(changed, "Record what")) == sorted(NODES)  # a new declaration applied
        assert set(changed) == {
            n
            for n in changed
            if any(w in n for w in ("alluxio-env.sh", "Stop", "Alluxio runs", "counts", "Record"))
        }
        for name in NODES:
            assert (
                "ALLUXIO_WORKER_MEMORY_SIZE=512MB"
                in host(lab, name).file(f"{INSTALL}/conf/alluxio-env.sh").content_string
            )
        starts_after = master.file(f"{INSTALL}/logs/master.out").content_string.count("master started")
        assert starts_after == starts_before + 1
        assert master.check_output("pgrep -f -o alluxio.master.AlluxioMaster") != pid_before
        assert wait_worker_count(lab, 3) == 3
    finally:
        back = converge(lab, tarball)
        assert back.returncode == 0, back.stderr[-3000:]


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

    run = converge(lab, tarball)
    assert run.returncode == 0, run.stderr[-3000:]
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
    assert worker_count(lab) == 3


def test_without_the_launcher_patch_no_worker_comes_up(lab: Lab, tarball: Path, tmp_path: Path) -> None:
    # The real deploy with the one step of the launcher patch taken out.
    deploy = (PROJECT / "deploy.py").read_text()
    assert "release.launcher_patched(" in deploy
    unpatched = PROJECT / "tests" / ".deploy_without_launcher_patch.py"
    unpatched.write_text(
        "\n".join(line for line in deploy.splitlines() if "release.launcher_patched(" not in line)
    )
    try:
        lab.reset()
        run = converge(lab, tarball, deploy=str(unpatched.relative_to(PROJECT)))
    finally:
        unpatched.unlink()
    assert run.returncode != 0
    assert op(run.errors(), "counts every worker") == [MASTER]
    assert "workers not live on the master after" in run.stderr
    assert "sudo: sorry, you must have a tty to run sudo" in run.stderr
    assert worker_count(lab) == 0
    # and the real deploy repairs it: only the launcher and the restart change
    fixed = converge(lab, tarball)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert sorted(op(fixed.changed(), "ssh -tt")) == sorted(NODES)
    assert wait_worker_count(lab, 3) == 3
