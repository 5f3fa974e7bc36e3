"""The operator's own setup, end to end in the lab (issue 11): a sudo user under requiretty with
no root login from the control side, with and without a sudo password; settings in
group_data/all.py; another shape of cluster; --limit."""

from __future__ import annotations

from pathlib import Path

from bench.inventories import cluster_of
from lab import Lab
from tests.labutil import (
    MASTER,
    PROJECT,
    PYINFRA,
    connections,
    converge,
    drift,
    fetch,
    host,
    host_state,
    ssh,
    wait_worker_count,
)

NODES = ("server06", "server07", "server08")
POST = {"server08": "10.0.1.13", "server06": "10.0.1.11", "server07": "10.0.1.12"}
AS_OPS = ("--ssh-user", "ops", "--sudo")


def test_a_sudo_user_under_requiretty_converges_and_reports(lab: Lab, tarball: Path) -> None:
    lab.reset()
    lab.add_operator("ops")
    root = lab.run(["ssh", "-o", "BatchMode=yes", "server06", "true"], capture_output=True, text=True)
    assert root.returncode != 0  # root may not log in from the control side any more
    converge(lab, tarball, *AS_OPS).ok()
    assert wait_worker_count(lab, 3) == 3
    # the cluster's trust stays root's, as in the post: the master's root reaches every worker
    master = host(lab, MASTER)
    assert master.file("/root/.ssh/id_rsa").user == "root"
    for name in NODES:
        check = master.run(f"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes {name} hostname")
        assert check.rc == 0 and check.stdout.strip() == name, check.stderr
        assert host(lab, name).file("/root/.ssh/authorized_keys").contains("alluxio@server08")
    assert converge(lab, tarball, *AS_OPS).ok().changed() == {}
    code, _, stderr = drift(lab, tarball, *AS_OPS)
    assert code == 0, stderr[-2000:]


def test_a_sudo_password_given_or_refused_before_anything_changes(lab: Lab, tarball: Path) -> None:
    lab.reset()
    lab.add_operator("ops", password="s3cret")
    before = host_state(lab)
    refused = converge(lab, tarball, *AS_OPS)
    assert refused.returncode != 0
    for name in NODES:  # a clear line for every host (pyinfra repeats the last one at its end)
        assert (
            f"{name}: sudo needs a password for ops and none was given (--use-sudo-password)"
            in refused.stderr
        )
    assert host_state(lab) == before  # nothing changed anywhere
    # the password, typed at pyinfra's prompt (one per host)
    run = converge(lab, tarball, *AS_OPS, "--use-sudo-password", stdin="s3cret\n" * 10)
    run.ok()
    assert wait_worker_count(lab, 3) == 3


def test_settings_only_in_group_data(lab: Lab, tarball: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    inventory = cluster_of(site, POST, MASTER)
    (site / "group_data").mkdir()
    settings = f'alluxio_tarball = "{tarball}"\nalluxio_env = {{"ALLUXIO_WORKER_MEMORY_SIZE": "512MB"}}\n'
    (site / "group_data" / "all.py").write_text(settings)
    lab.reset()
    converge(lab, None, inventory=inventory).ok()  # no --data at all
    env = host(lab, "server06").file("/opt/alluxio-1.2.0/conf/alluxio-env.sh").content_string
    assert "ALLUXIO_WORKER_MEMORY_SIZE=512MB" in env
    assert drift(lab, None, inventory=inventory)[0] == 0
    # a bad value there is refused naming the file and the key, before any host is contacted
    (site / "group_data" / "all.py").write_text(settings.replace("ALLUXIO_WORKER_MEMORY_SIZE", "BAD-NAME"))
    seen = connections(lab)
    done = lab.run([PYINFRA, str(inventory), "deploy.py", "-y"], capture_output=True, text=True, cwd=PROJECT)
    assert done.returncode != 0
    assert "group_data/all.py alluxio_env['BAD-NAME']: not a shell variable name" in done.stderr
    assert connections(lab) == seen


def test_another_cluster_a_master_that_is_no_worker_and_limit(
    lab: Lab, tarball: Path, tmp_path: Path
) -> None:
    hosts = {
        "head01": "10.0.1.40",
        "node01": "10.0.1.41",
        "node02": "10.0.1.42",
        "node03": "10.0.1.43",
        "node04": "10.0.1.44",
    }
    workers = ["node01", "node02", "node03", "node04"]
    for name, address in hosts.items():
        lab.add(name, address)
    try:
        inventory = cluster_of(tmp_path / "five", hosts, "head01", workers=workers)
        converge(lab, tarball, inventory=inventory).ok()
        infos = fetch(lab, "http://head01:19999/v1/api/master/worker_info_list")
        assert sorted(h for h in workers if f'"host":"{h}"' in infos) == workers
        assert "alluxio.worker" not in ssh(lab, "head01", "ps -eo args")  # the master is no worker
        for name in hosts:
            lines = host(lab, name).file("/opt/alluxio-1.2.0/conf/workers").content_string.splitlines()
            assert lines[1:] == workers
        assert converge(lab, tarball, inventory=inventory).ok().changed() == {}
        assert drift(lab, tarball, inventory=inventory)[0] == 0

        # --limit alluxio_workers: only the workers change; the run says what it left
        change = ("--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "600MB"}')
        limited = converge(lab, tarball, *change, "--limit", "alluxio_workers", inventory=inventory).ok()
        assert {h for hs in limited.changed().values() for h in hs} <= set(workers)
        assert "--limit leaves head01 as it is: alluxio_env" in limited.stderr
        assert (
            "600MB" not in host(lab, "head01").file("/opt/alluxio-1.2.0/conf/alluxio-env.sh").content_string
        )
        for name in workers:
            assert "600MB" in host(lab, name).file("/opt/alluxio-1.2.0/conf/alluxio-env.sh").content_string
        code, document, _ = drift(lab, tarball, *change, inventory=inventory)
        assert code == 2 and {
            h for h, e in document["hosts"].items() if e["resources"]["alluxio_env"]["status"] != "in_sync"
        } == {"head01"}
        finish = converge(lab, tarball, *change, inventory=inventory).ok()
        assert set(finish.changed()) <= {
            "6. conf/alluxio-env.sh is as declared",
            "11. Record what this converge applied (for the drift report)",
        }
        assert drift(lab, tarball, *change, inventory=inventory)[0] == 0
    finally:
        for name in hosts:
            lab.remove(name)
