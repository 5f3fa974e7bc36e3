"""Self-heal (issue 22): it repairs corrective drift only, and says why it does nothing
otherwise; decided on recorded node states here, proven on real hosts in test_heal_in_the_lab."""

from __future__ import annotations

from dataclasses import replace

import pytest

import heal
from refusal import RefusedError
from resources import node_verdicts
from tests.recorded import cluster, snapshots, with_file

C = cluster()
CONVERGED = snapshots("converged")


def with_workers_file(name: str, text: str) -> dict:
    return {**CONVERGED, name: with_file(CONVERGED[name], "workers_file", text)}


def test_a_converged_cluster_needs_nothing() -> None:
    assert heal.decide(C, CONVERGED).code == heal.NOTHING_TO_DO


def test_corrective_drift_is_repaired_and_the_converge_checks_it_is_the_same() -> None:
    edited = with_workers_file("server07", C.workers_file + "server09\n")
    decision = heal.decide(C, edited)
    assert decision.code == heal.REPAIRED and decision.expect
    assert decision.why == ("server07 workers_file: server06 server07 server08 server09 -> "
                            "server06 server07 server08, mode 644 root:root",)  # fmt: skip
    heal.guard(C.model_copy(update={"heal_expect": decision.expect}), edited)  # the same drift: goes on
    with pytest.raises(RefusedError, match="the drift changed since it was read"):
        heal.guard(C.model_copy(update={"heal_expect": decision.expect}), CONVERGED)
    heal.guard(C, CONVERGED)  # a person's converge: no expectation, no check


def test_an_intentional_change_pending_is_left_to_a_person() -> None:
    declared = C.model_copy(update={"env": (("ALLUXIO_WORKER_MEMORY_SIZE", "2GB"),)})
    edited = with_workers_file("server07", C.workers_file + "server09\n")
    decision = heal.decide(declared, edited)  # a corrective edit too: still nothing
    assert decision.code == heal.REFUSED
    assert any(
        line.startswith("server06 alluxio_env: ") and line.endswith("(intentional: a person runs that)")
        for line in decision.why
    ), decision.why


def test_no_record_or_a_host_that_does_not_answer_cannot_be_decided() -> None:
    unrecorded = {
        **CONVERGED,
        "server07": replace(with_file(CONVERGED["server07"], "workers_file", ""), applied={}),
    }
    decision = heal.decide(C, unrecorded)
    assert decision.code == heal.UNDECIDED and "no converge recorded it here" in decision.why[0]
    down = heal.decide(C, {**CONVERGED, "server06": None})
    assert down.code == heal.UNDECIDED and down.why == ("server06 did not answer: nothing is known of it",)


def test_a_repair_that_restarts_the_master_needs_the_operators_leave() -> None:
    master = CONVERGED["server08"]
    down = {
        **CONVERGED,
        "server08": replace(master, services=replace(master.services, master_pids=(), listed=None)),
    }
    assert node_verdicts(C, "server08", down)["services"].status != "in_sync"
    refused = heal.decide(C, down)
    assert refused.code == heal.REFUSED and "alluxio_heal_restarts_master=true allows that" in refused.why[0]
    allowed = heal.decide(C.model_copy(update={"heal_restarts_master": True}), down)
    assert allowed.code == heal.REPAIRED


def test_the_converge_gets_the_same_inventory_data_and_connection() -> None:
    argv = heal.pyinfra_argv(
        "inventory.py", ["alluxio_tarball=/t.tgz"], {"--ssh-user": "ops", "--sudo": True, "--ssh-port": None}
    )
    assert argv[1:] == ["-m", "pyinfra", "inventory.py", "deploy.py", "-y", "--data", "alluxio_tarball=/t.tgz",
                        "--ssh-user", "ops", "--sudo"]  # fmt: skip


# ----- on real hosts ----------------------------------------------------------------------------
def test_heal_in_the_lab(lab, tarball) -> None:  # type: ignore[no-untyped-def]
    """Bare hosts converged, then ``drift.py --heal`` as a timer runs it: nothing to do; a
    reverted launcher and a killed worker repaired; an intentional change pending, a host
    down, two at once: refused or undecided, changing nothing."""
    import json
    import subprocess
    import sys

    from tests.labutil import PROJECT, converge, live_workers, release_data, ssh, wait_until

    lab.reset()
    converge(lab, tarball).ok()
    launcher = "/opt/alluxio-1.2.0/bin/alluxio-workers.sh"

    def argv(*extra: str) -> list[str]:
        return lab.run_argv(
            [sys.executable, "drift.py", "inventory.py", "--heal", "--json", *release_data(tarball), *extra]
        )

    def run_heal(*extra: str) -> tuple[int, dict]:
        done = subprocess.run(argv(*extra), capture_output=True, text=True, cwd=PROJECT)
        return done.returncode, json.loads(done.stdout)["heal"] if done.stdout.strip() else {
            "stderr": done.stderr
        }

    assert run_heal() == (
        0,
        {"result": "nothing to do", "exit": 0, "why": ["every resource of every host is as declared"]},
    )

    # corrective: a reverted launcher, a killed worker
    def revert() -> None:
        ssh(lab, "server06", f"sed -i 's/ -tt ${{worker}}/ -t ${{worker}}/' {launcher}")

    revert()
    ssh(lab, "server07", "pkill -9 -f '[.]AlluxioWorker'")
    code, result = run_heal()
    assert (code, result["result"]) == (2, "repaired"), result
    assert any(
        line.startswith("server06 launcher: edited") or line.startswith("server06 launcher: unpatched")
        for line in result["why"]
    ), result
    assert " -tt ${worker} " in ssh(lab, "server06", f"cat {launcher}")
    assert wait_until(lambda: "server07" in live_workers(lab), "server07's worker live again")

    # intentional: a new value declared, and a corrective edit too: nothing changes anywhere
    revert()
    before = files_of(lab, ("server06", "server07", "server08"), launcher)
    code, result = run_heal("--data", 'alluxio_env={"ALLUXIO_WORKER_MEMORY_SIZE": "512MB"}')
    assert (code, result["result"]) == (3, "refused to act"), result
    assert any(
        "alluxio_env" in line and "(intentional: a person runs that)" in line for line in result["why"]
    )
    assert files_of(lab, ("server06", "server07", "server08"), launcher) == before

    # a host down: undecided, nothing changed
    lab.stop("server07")
    try:
        code, result = run_heal()
        assert (code, result["result"]) == (1, "could not decide"), result
        assert result["why"] == ["server07 did not answer: nothing is known of it"]
        assert files_of(lab, ("server06", "server08"), launcher) == {
            n: before[n] for n in ("server06", "server08")
        }
    finally:
        lab.start("server07")

    # two at once: one repairs, the other finds the lock held (or the drift changed) and does nothing
    runs = [
        subprocess.Popen(argv(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT)
        for _ in range(2)
    ]
    said = [p.communicate(timeout=600)[0] for p in runs]
    outcomes = sorted(
        (p.returncode, json.loads(out)["heal"]["result"]) for p, out in zip(runs, said, strict=True)
    )
    assert outcomes == [(2, "repaired"), (3, "refused to act")], outcomes
    assert " -tt ${worker} " in ssh(lab, "server06", f"cat {launcher}")
    assert run_heal()[0] == 0


def files_of(lab, names, launcher) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Each node's conf files and launcher, by their sums: what a run that changes nothing keeps."""
    from tests.labutil import ssh

    return {n: ssh(lab, n, f"sha256sum /opt/alluxio-1.2.0/conf/* {launcher}") for n in names}


def test_progress_is_for_a_terminal_only_and_says_what_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime import progress

    said: list[str] = []
    monkeypatch.setattr(progress.logger, "info", said.append)
    monkeypatch.setattr(progress, "enabled", lambda: True)
    waiting = progress.Waiting("every worker live on the master", 30)
    waiting.seen("live 1 of 3")
    waiting.seen("live 1 of 3")  # the same, within EVERY_SECONDS: nothing new
    waiting.seen("live 2 of 3")
    assert said == [
        "--> progress: every worker live on the master: live 1 of 3 (0 s of 30)",
        "--> progress: every worker live on the master: live 2 of 3 (0 s of 30)",
    ]
    monkeypatch.undo()
    monkeypatch.setenv("CI", "true")
    assert not progress.enabled()  # in CI: never
