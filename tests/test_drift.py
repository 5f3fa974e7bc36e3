"""See before you touch: the dry run and the drift report predict the next converge exactly,
and change nothing anywhere (issue 4)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demo_release import VERSIONS, build
from lab import Lab
from tests.labutil import (
    MASTER,
    changed_pairs,
    converge,
    drift,
    dry_run,
    host_state,
    not_in_sync,
    wait_worker_count,
)

NODES = ("server06", "server07", "server08")
STOP, START, HEALTH = "1. Stop Alluxio", "8. The master runs", "9. The master counts"
ROLLING = "8. Workers restart one at a time"
STARTED = "8. Workers run, started once the master serves"  # a worker that is down: no restart
REPAIR = {
    "etc_hosts": "2. Every cluster name resolves",
    "authorized_keys": "3. The master's key is authorized",
    "known_hosts": "3. The master knows every node's host key",
    "install_dir": "4. The release is extracted",
    "tarball": "4. The tarball is on every other node",
    "workers_file": "5. conf/workers",
    "alluxio_env": "6. conf/alluxio-env.sh",
    "launcher": "7. The launcher",
    "services": STARTED,
}
# What the daemons read when they start: a worker's own alluxio-env.sh (conf/workers and the
# launcher are read by the scripts on the master only: repairing them restarts nothing).
RESTART = {"alluxio_env", "services"}
# The kinds of drift where the release matters (its files, its launcher, its restarts), on every
# release; more kinds, on the post's release, in tests/test_drift_kinds.py.
INJECTIONS = {
    "a file deleted inside the install dir": ("server06", "rm {home}/bin/alluxio-mount.sh", "install_dir"),
    "conf/alluxio-env.sh edited on a worker": ("server07", "echo ALLUXIO_WORKER_MEMORY_SIZE=2GB >> {home}/conf/alluxio-env.sh", "alluxio_env"),
    "-t put back into a launcher": ("server06", r"sed -i 's/ -tt \${{worker}}/ -t ${{worker}}/' {home}/bin/alluxio-workers.sh", "launcher"),
    "a worker's daemon killed": ("server07", "kill $(pgrep -o -f alluxio.worker.AlluxioWorker)", "services"),
    "the tarball deleted on a worker": ("server06", "rm /opt/{tarball}", "tarball"),
}  # fmt: skip


def expected_changes(host: str, resource: str) -> set[tuple[str, str]]:
    """The operations that repair ``resource`` on ``host``: its own, plus, where a worker reads
    what changed (its alluxio-env.sh, its daemon), that worker's restart alone and the health
    check."""
    ops = {(REPAIR[resource], host)}
    if resource in RESTART:
        ops |= {(ROLLING if resource == "alluxio_env" else STARTED, host), (HEALTH, MASTER)}
    return ops


def matching(pairs: set[tuple[str, str]], expected: set[tuple[str, str]]) -> bool:
    """Operation names in ``expected`` are prefixes of the real ones."""
    real = {(next((p for p, _ in expected if name.startswith(p)), name), h) for name, h in pairs}
    return real == expected


@pytest.fixture(scope="module", params=VERSIONS)
def release(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo release of each supported version, in turn."""
    return build(tmp_path_factory.mktemp(f"release-{request.param}"), version=request.param)


@pytest.fixture(scope="module")
def converged(lab: Lab, release: Path) -> Lab:
    lab.reset()
    converge(lab, release).ok()
    return lab


def home_of(tarball: Path) -> str:
    return f"/opt/{tarball.name.split('-bin')[0].removesuffix('-cdh5')}"


def test_in_sync_exits_0_with_one_json_document(converged: Lab, release: Path) -> None:
    tarball = release
    code, document, _ = drift(converged, tarball)
    assert code == 0
    assert set(document) == {"hosts", "summary"}
    assert document["summary"] == {"in_sync": 33, "drifted": 0, "missing": 0, "unreachable": 0}
    master = document["hosts"][MASTER]
    assert master["reachable"] is True
    assert set(master["resources"]) == {
        "etc_hosts", "ssh_keypair", "authorized_keys", "known_hosts", "tarball", "install_dir",
        "alluxio_env", "alluxio_site", "workers_file", "launcher", "services", "journal", "old_releases",
    }  # fmt: skip
    assert set(document["hosts"]["server06"]["resources"]) == set(master["resources"]) - {
        "ssh_keypair",
        "known_hosts",
        "journal",
    }
    entry = master["resources"]["etc_hosts"]
    assert set(entry) == {"status", "desired", "actual", "diff", "cause"} and entry["diff"] is None


@pytest.mark.parametrize("case", list(INJECTIONS))
def test_prediction_equals_reality(case: str, converged: Lab, release: Path) -> None:
    tarball = release
    host, command, resource = INJECTIONS[case]
    command = command.format(home=home_of(tarball), tarball=tarball.name)
    done = converged.exec(host, ["sh", "-c", command])
    assert done.returncode == 0, done.stderr

    code, document, _ = drift(converged, tarball)
    assert code == 2
    assert not_in_sync(document) == {(host, resource)}
    reported = document["hosts"][host]["resources"][resource]
    assert reported["cause"] == "corrective"
    assert reported["desired"] != reported["actual"]

    _, predicted, _ = dry_run(converged, tarball)
    assert matching(predicted, expected_changes(host, resource)), predicted

    run = converge(converged, tarball)
    assert run.returncode == 0, run.stderr[-3000:]
    assert changed_pairs(run) == predicted

    code, document, _ = drift(converged, tarball)
    assert code == 0, not_in_sync(document)
    assert wait_worker_count(converged, 3) == 3


def test_a_changed_declaration_is_reported_as_intentional(converged: Lab, release: Path) -> None:
    tarball = release
    code, document, _ = drift(
        converged, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "3GB"}'
    )
    assert code == 2
    assert not_in_sync(document) == {(n, "alluxio_env") for n in NODES}
    assert {document["hosts"][n]["resources"]["alluxio_env"]["cause"] for n in NODES} == {"intentional"}


def test_unreachable_host_exits_1_and_still_reports_the_others(converged: Lab, release: Path) -> None:
    tarball = release
    converged.stop("server07")
    try:
        code, document, _ = drift(converged, tarball)
    finally:
        converged.start("server07")
    assert code == 1
    assert document["hosts"]["server07"]["reachable"] is False
    assert {r["status"] for r in document["hosts"]["server07"]["resources"].values()} == {"unreachable"}
    assert document["hosts"]["server06"]["reachable"] is True
    assert document["summary"]["unreachable"] == 10  # each of its resources


def test_invalid_inventory_exits_1(converged: Lab, tmp_path: Path) -> None:
    code, document, stderr = drift(converged, tmp_path / "missing.tar.gz")
    assert code == 1 and document == {}
    assert "alluxio_tarball" in stderr and "no such file" in stderr


def test_dry_run_and_drift_report_write_nothing(converged: Lab, release: Path) -> None:
    tarball = release
    converged.exec("server06", ["sh", "-c", f"echo '# drift' >> {home_of(tarball)}/conf/workers"])
    before = host_state(converged)
    code, _, _ = drift(converged, tarball)
    assert code == 2
    dry, predicted, _ = dry_run(converged, tarball, "--diff")
    assert dry == 0 and predicted
    assert host_state(converged) == before
    assert converge(converged, tarball).returncode == 0


def test_dry_run_from_bare_hosts_shows_everything_pending_and_touches_nothing(
    lab: Lab, tarball: Path
) -> None:
    lab.reset()
    before = host_state(lab)
    code, predicted, stderr = dry_run(lab, tarball, "--diff")
    assert code == 0, stderr[-2000:]
    assert host_state(lab) == before
    ops = {name.split(".")[0] for name, _ in predicted}
    assert ops == {"2", "3", "4", "5", "6", "7", "8", "9", "11"}  # 10: no old release to remove
    assert "Error" not in stderr
    assert "+10.0.1.8\tserver03" in stderr  # the /etc/hosts diff
    # every text resource's unified diff: headers name the file, actual against desired
    home = "/opt/alluxio-1.2.0"
    for path, existing in (("/etc/hosts", True), ("/root/.ssh/known_hosts", False), (f"{home}/conf/workers", False),
                           (f"{home}/conf/alluxio-env.sh", False), (f"{home}/conf/alluxio-site.properties", False)):  # fmt: skip
        before = re.escape(f"--- {path} (actual)" if existing else "--- /dev/null")
        assert re.search(rf"{before}\n +{re.escape(f'+++ {path} (desired)')}\n", stderr), path
    # the launcher, extracted as shipped first: its patch, not its 50 lines, once per host
    launcher = f"{home}/bin/alluxio-workers.sh"
    assert stderr.count(f"--- {launcher} (as shipped)\n") == 3 and f"+++ {launcher} (desired)" in stderr
    assert "-  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -t ${worker}" in stderr
    assert "+  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no -tt ${worker}" in stderr
    # and each change's one-line reason
    assert (
        "[server06] workers_file: missing: absent -> server06 server07 server08, mode 644 root:root" in stderr
    )
