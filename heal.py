"""Self-heal: repair corrective drift only, for a timer (``python drift.py inventory.py --heal``).

A mode of the drift report: the report is where corrective drift (a host moved away from a
declaration a converge applied) is told from intentional drift (the declaration moved since),
so it decides there; the repair is the deploy's own converge (``pyinfra inventory.py
deploy.py -y``: the same lock as a person's run, the same restart rules), handed the set of
drift it was decided on (``alluxio_heal_expect``), which it checks again on its own reading
before it changes anything. It acts only when every difference is corrective and every host
answered, and leaves to a person what a person must decide:

- an intentional change pending (a person runs that), or drift where no converge recorded
  what it applied (the cause is unknown): nothing is changed;
- a repair that restarts the master, unless ``alluxio_heal_restarts_master`` allows it;
- drift the converge itself leaves alone (a launcher of unknown shape, a refused host key).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cluster import Cluster
from facts.node import NodeSnapshot
from refusal import RefusedError
from resources import IN_SYNC, Verdict, cause, node_verdicts
from resources.verdict import digest

# Exit codes, for an alert (documented in the README).
NOTHING_TO_DO, UNDECIDED, REPAIRED, REFUSED, FAILED = 0, 1, 2, 3, 4
RESULTS = {
    NOTHING_TO_DO: "nothing to do",
    UNDECIDED: "could not decide",
    REPAIRED: "repaired",
    REFUSED: "refused to act",
    FAILED: "the repair failed",
}


@dataclass(frozen=True)
class Decision:
    code: int  # REPAIRED here means: repair
    why: tuple[str, ...]
    expect: str = ""  # the drift decided on, for the converge to check again


def verdicts_of(cluster: Cluster, snaps: Mapping[str, NodeSnapshot | None]) -> dict[str, dict[str, Verdict]]:
    return {n: node_verdicts(cluster, n, snaps) for n in cluster.names}


def pending(
    cluster: Cluster,
    snaps: Mapping[str, NodeSnapshot | None],
    verdicts: Mapping[str, Mapping[str, Verdict]] | None = None,
) -> list[tuple[str, str, str, str]]:
    """Every difference as (host, resource, status, cause), in the cluster's order."""
    verdicts = verdicts or verdicts_of(cluster, snaps)
    found = []
    for name in cluster.names:
        for resource, v in verdicts[name].items():
            if v.status != IN_SYNC:
                found.append((name, resource, v.status, cause(v, snaps.get(name)) or "-"))
    return found


def fingerprint(differences: Sequence[tuple[str, str, str, str]]) -> str:
    return digest(repr(sorted(differences)))[:16]


def decide(cluster: Cluster, snaps: Mapping[str, NodeSnapshot | None]) -> Decision:
    from runtime.schedule import decide as schedule

    unreachable = [n for n in cluster.names if snaps.get(n) is None]
    if unreachable:
        return Decision(UNDECIDED, tuple(f"{n} did not answer: nothing is known of it" for n in unreachable))
    verdicts = verdicts_of(cluster, snaps)
    differences = pending(cluster, snaps, verdicts)
    if not differences:
        return Decision(NOTHING_TO_DO, ("every resource of every host is as declared",))
    unknown = [
        f"{n} {r}: {s}, and no converge recorded it here" for n, r, s, c in differences if c == "unknown"
    ]
    if unknown:
        return Decision(UNDECIDED, tuple(unknown))
    intended = [
        f"{n} {r}: {verdicts[n][r].actual} -> {verdicts[n][r].desired} (intentional: a person runs that)"
        for n, r, _, c in differences
        if c == "intentional"
    ]
    left = [f"{n} {r}: left to a person ({verdicts[n][r].actual})" for n, r, _, _ in differences
            if verdicts[n][r].details.left_alone]  # fmt: skip
    if intended or left:
        return Decision(REFUSED, tuple(intended + left))
    plan = schedule(cluster, dict(snaps))
    if plan.start_master and not cluster.heal_restarts_master:
        return Decision(
            REFUSED,
            (
                f"the repair restarts the master ({plan.why}); alluxio_heal_restarts_master=true "
                "allows that, or a person runs the converge",
            ),
        )
    repairs = tuple(
        f"{n} {r}: {verdicts[n][r].actual} -> {verdicts[n][r].desired}" for n, r, _, _ in differences
    )
    return Decision(REPAIRED, repairs, fingerprint(differences))


def guard(cluster: Cluster, snaps: Mapping[str, NodeSnapshot | None]) -> None:
    """In a converge started by the self-heal: refuse, before anything changes, if the drift
    this run reads is not the drift the self-heal decided on (a person's run came between)."""
    if cluster.heal_expect and fingerprint(pending(cluster, snaps)) != cluster.heal_expect:
        raise RefusedError(
            "self-heal: the drift changed since it was read (another run, or the hosts moved); "
            "nothing was changed"
        )


def repair(argv: Sequence[str], expect: str) -> tuple[int, str]:
    """Run the converge ``argv`` (pyinfra's command line) checked against ``expect``: the exit
    code (repaired, refused or failed) and the refusal's line if it was refused."""
    done = subprocess.run([*argv, "--data", f"alluxio_heal_expect={expect}"], capture_output=True, text=True)
    if done.returncode == 0:
        return REPAIRED, ""
    refusal = next((ln for ln in done.stderr.splitlines() if ln.startswith("--> refused:")), "")
    if refusal:
        return REFUSED, refusal.removeprefix("--> refused:").strip()
    return FAILED, "\n".join(done.stderr.strip().splitlines()[-15:])


def pyinfra_argv(inventory: str, data: Sequence[str], connection: Mapping[str, object]) -> list[str]:
    """The converge's command line: the same inventory, data and connection settings."""
    argv = [sys.executable, "-m", "pyinfra", inventory, "deploy.py", "-y"]
    for item in data:
        argv += ["--data", item]
    for option, value in connection.items():
        if value is True:
            argv.append(option)
        elif value:
            argv += [option, str(value)]
    return argv
