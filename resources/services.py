"""Alluxio's daemons: the master and the workers run as declared, every worker live on the master."""

from __future__ import annotations

from cluster import Cluster
from facts.node import NodeSnapshot
from facts.services import LIVE_WITHIN_SECONDS
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    MISSING_STATUS,
    Details,
    Verdict,
)


def services(cluster: Cluster, name: str, snap: NodeSnapshot, master_snap: NodeSnapshot | None) -> Verdict:
    """The master runs on the master and a worker on each worker, from the declared release
    folder, and the master counts every worker as live: listed, with a heartbeat within the
    last LIVE_WITHIN_SECONDS (a 1.x master keeps listing a dead worker for five minutes). A
    managed host that is no worker (retired) runs no worker and has no RAM folder mounted, and
    the master does not list it. The master listing a worker the inventory does not know is
    drift too (named, not acted on: the tool cannot reach it)."""
    want, have, problems = [], [], []
    forget: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    silent = retire = False
    s = snap.services
    home = cluster.install_dir

    def elsewhere(pids: tuple[int, ...]) -> str:
        others = sorted(h for h in s.homes_of(pids) if h != home)
        return f" from {', '.join(others) or 'an unknown folder'}" if others else ""

    if name == cluster.master:
        want.append(f"master from {home}")
        if not s.master_pids:
            have.append("master down")
            problems.append("master")
        else:
            have.append("master" + elsewhere(s.master_pids))
            if elsewhere(s.master_pids):
                problems.append("master")
        # listed names as the inventory knows them: a worker registers under its address's name
        declared = s.listed.declared({n.name: n.address for n in cluster.nodes}) if s.listed else {}
        forget = tuple(sorted({h for h in declared.values() if h and h not in cluster.workers}))
        unknown = tuple(sorted(n for n, h in declared.items() if h is None))
        if forget:
            have.append(f"lists retired worker(s) {' '.join(forget)}")
        if unknown:
            have.append(f"lists worker(s) not in the inventory: {' '.join(unknown)}")
    if name in cluster.workers:
        want.append(f"worker from {home} (live on the master: a heartbeat within {LIVE_WITHIN_SECONDS} s)")
        listed = master_snap.services.listed if master_snap else None
        address = cluster.node(name).address
        age = listed.age_of(name, address) if listed else None
        live = listed is not None and listed.is_live(name, address)
        state = "worker" + elsewhere(s.worker_pids) if s.worker_pids else "worker down"
        if s.worker_pids and age is None:
            state += " runs, but the master does not list it"
        elif age is not None and not live:
            state += f" runs, but the master has not heard from it for {age} s"
        # its JVM runs from here, unheard: its heartbeat gave up, or the master is away
        silent = bool(s.worker_pids) and not live and not elsewhere(s.worker_pids)
        have.append(state)
        if not s.worker_pids or not live or elsewhere(s.worker_pids):
            problems.append("worker")
    else:
        want.append("no worker, RAM folder unmounted")
        mounted = s.is_mount_point(cluster.ram_folder)
        if s.worker_pids or mounted:
            have.append(", ".join(["a worker runs"] * bool(s.worker_pids) + ["RAM folder mounted"] * mounted))
            retire = True
        else:
            have.append("no worker")
    details = Details(
        down=tuple(problems),
        retire=retire,
        forget=forget,
        unknown_workers=unknown,
        silent=silent,
        master_state=have[0] if name == cluster.master else "",
        worker_state=have[-1] if name in cluster.workers else "",
    )
    drifted = bool(problems or retire or forget or unknown)
    status = (
        IN_SYNC
        if not drifted
        else MISSING_STATUS
        if problems and not (s.master_pids or s.worker_pids)
        else DRIFTED
    )
    return Verdict("services", status, ", ".join(want), ", ".join(have), details=details)
