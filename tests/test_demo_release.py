"""The demo release: the real 1.2.0 layout and script behaviour, including Alluxio issue #3891."""

from __future__ import annotations

import hashlib
import subprocess
import tarfile
import time
from pathlib import Path

import pytest

from bench import baseline
from demo_release import RELEASE, build
from lab import Lab
from tests.labutil import MASTER, POST_WORKERS, fetch, ssh, wait_worker_count

UNPATCHED = "  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -t ${worker} ${LAUNCHER} \\"


def members(tarball: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(tarball) as tar:
        return {m.name: m for m in tar.getmembers()}


def read(tarball: Path, name: str) -> str:
    with tarfile.open(tarball) as tar:
        return tar.extractfile(f"{RELEASE}/{name}").read().decode()  # type: ignore[union-attr]


def test_layout_is_the_real_one(tarball: Path) -> None:
    names = members(tarball)
    for path in (
        "bin/alluxio",
        "bin/alluxio-start.sh",
        "bin/alluxio-stop.sh",
        "bin/alluxio-workers.sh",
        "bin/alluxio-mount.sh",
        "bin/alluxio-fuse.sh",
        "conf/alluxio-env.sh.template",
        "conf/alluxio-site.properties.template",
        "conf/core-site.xml.template",
        "conf/log4j.properties",
        "conf/metrics.properties.template",
        "conf/workers",
        "libexec/alluxio-config.sh",
        "logs",
    ):
        assert f"{RELEASE}/{path}" in names, path
    assert all(n == RELEASE or n.startswith(f"{RELEASE}/") for n in names)
    assert names[f"{RELEASE}/bin/alluxio-start.sh"].mode == 0o755
    assert {m.uid for m in names.values()} == {1000}  # hence the post's chown -R root:root


def test_launcher_holds_the_unpatched_line_inside_the_worker_loop(tarball: Path) -> None:
    lines = read(tarball, "bin/alluxio-workers.sh").splitlines()
    at = lines.index(UNPATCHED)
    assert lines[at - 2].startswith("for worker in $(echo ${HOSTLIST}); do")
    assert "task.log" in "".join(lines) and "ALLUXIO_TASK_LOG" in lines[at + 1]


def test_workers_file_as_shipped(tarball: Path) -> None:
    lines = read(tarball, "conf/workers").splitlines()
    assert len(lines) == 13
    assert all(line.startswith("#") for line in lines[:10])
    assert lines[10:] == [
        "",
        "# An Alluxio Worker will be started on each of the machines listed below.",
        "localhost",
    ]


def test_build_is_reproducible_and_padding_sets_the_size(tmp_path: Path) -> None:
    a = build(tmp_path / "a")
    b = build(tmp_path / "b")
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    padded = build(tmp_path / "p", pad_mb=3)
    assert 3 * 1024 * 1024 < padded.stat().st_size < 3.2 * 1024 * 1024


@pytest.fixture
def extracted(tarball: Path, tmp_path: Path) -> Path:
    with tarfile.open(tarball) as tar:
        tar.extractall(tmp_path, filter="tar")
    return tmp_path / RELEASE


def test_scripts_refuse_to_run_without_alluxio_env(extracted: Path) -> None:
    result = subprocess.run([str(extracted / "bin/alluxio"), "version"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "alluxio-env.sh" in result.stderr
    (extracted / "conf/alluxio-env.sh").write_text("ALLUXIO_MASTER_HOSTNAME=localhost\n")
    result = subprocess.run([str(extracted / "bin/alluxio"), "version"], capture_output=True, text=True)
    assert result.stdout.strip() == "Alluxio version: 1.2.0"


def test_master_refuses_an_unformatted_journal_and_java_must_run(extracted: Path) -> None:
    env = extracted / "conf/alluxio-env.sh"
    env.write_text("JAVA=/nonexistent/java\n")
    start = [str(extracted / "bin/alluxio-start.sh"), "master"]
    bad_java = subprocess.run(start, capture_output=True, text=True)
    assert bad_java.returncode == 1 and "/nonexistent/java" in bad_java.stderr

    env.write_text("")
    subprocess.run(start, check=True, capture_output=True)
    out = extracted / "logs/master.out"
    deadline = time.monotonic() + 10
    while "not formatted" not in (out.read_text() if out.exists() else ""):
        assert time.monotonic() < deadline, "the master did not refuse the unformatted journal"
        time.sleep(0.1)
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(extracted) not in ps


def post_by_hand(lab: Lab, tarball: Path, patch: bool) -> str:
    lab.reset()
    return baseline.post_by_hand(lab, tarball, MASTER, list(POST_WORKERS), patch=patch)


def test_unpatched_launcher_starts_the_master_but_no_worker(lab: Lab, tarball: Path) -> None:
    log = post_by_hand(lab, tarball, patch=False)
    assert "Pseudo-terminal will not be allocated because stdin is not a terminal." in log
    for worker in POST_WORKERS:
        assert f"[{worker}] sudo: sorry, you must have a tty to run sudo" in log
        assert f"[{worker}] Mount failed, not starting worker" in log
    assert "Running Workers: 0" in fetch(lab, "http://server08:19999/home")
    time.sleep(2)  # a worker would have registered within a heartbeat
    assert wait_worker_count(lab, 0, seconds=0) == 0
    for worker in POST_WORKERS:
        assert "AlluxioWorker" not in ssh(lab, worker, "ps -eo args")


def test_patched_launcher_brings_all_three_workers_up(lab: Lab, tarball: Path) -> None:
    log = post_by_hand(lab, tarball, patch=True)
    assert "must have a tty" not in log
    assert wait_worker_count(lab, 3) == 3
    home = fetch(lab, "http://server08:19999/home")
    assert all(f"<td>{w}</td>" in home for w in POST_WORKERS) and "Running Workers: 3" in home
    for worker in POST_WORKERS:
        assert "alluxio.worker.AlluxioWorker" in ssh(lab, worker, "ps -eo args")
    ssh(lab, MASTER, "/opt/alluxio-1.2.0/bin/alluxio-stop.sh all")
    for worker in POST_WORKERS:
        assert "AlluxioWorker" not in ssh(lab, worker, "ps -eo args")
