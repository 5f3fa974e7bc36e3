"""Alluxio's daemons: the master and the workers run as declared, every worker live on the master."""

from __future__ import annotations

from collections.abc import Mapping

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


def serving(cluster: Cluster, nodes: Mapping[str, NodeSnapshot | None]) -> tuple[str, ...]:
    """The masters whose REST API answers: the leader (a 1.2.0 standby serves nothing,
    section 12), the declared masters first; with fault tolerance any node's (a master retired
    there leads until it stops); one master's cluster: the master, if it serves."""
    names = (*cluster.all_masters, *(n for n in cluster.names if not cluster.is_master(n)))
    if not cluster.fault_tolerant:
        names = (cluster.master,)
    return tuple(n for n in names if (s := nodes.get(n)) is not None and s.services.listed is not None)


def lister(cluster: Cluster, nodes: Mapping[str, NodeSnapshot | None]) -> NodeSnapshot | None:
    """The snapshot whose list of workers counts: the master's, or with fault tolerance the
    leader's (none when no master, or more than one, serves)."""
    if not cluster.fault_tolerant:
        return nodes.get(cluster.master)
    leaders = serving(cluster, nodes)
    return nodes.get(leaders[0]) if len(leaders) == 1 else None


def services(
    cluster: Cluster, name: str, snap: NodeSnapshot, nodes: Mapping[str, NodeSnapshot | None]
) -> Verdict:
    """The master runs on the master and a worker on each worker, from the declared release
    folder, and the master counts every worker as live: listed, with a heartbeat within the
    last LIVE_WITHIN_SECONDS (a 1.x master keeps listing a dead worker for five minutes). A
    managed host that is no worker (retired) runs no worker and has no RAM folder mounted, and
    the master does not list it. The master listing a worker the inventory does not know is
    drift too (named, not acted on: the tool cannot reach it). With fault tolerance every
    master runs, exactly one of them leads (serves), and the workers are live on it."""
    master_snap = lister(cluster, nodes)
    leaders = serving(cluster, nodes) if cluster.fault_tolerant else ()
    want, have, problems = [], [], []
    forget: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    silent = retire = False
    s = snap.services
    home = cluster.install_dir

    def elsewhere(pids: tuple[int, ...]) -> str:
        others = sorted(h for h in s.homes_of(pids) if h != home)
        return f" from {', '.join(others) or 'an unknown folder'}" if others else ""

    if cluster.is_master(name):
        ft = cluster.fault_tolerant
        many = f", leading or standby (one of {len(cluster.all_masters)} leads)" if ft else ""
        want.append(f"master from {home}{many}")
        if not s.master_pids:
            have.append("master down")
            problems.append("master")
        else:
            role = (" (leads)" if name in leaders else " (standby)") if ft else ""
            have.append(f"master{elsewhere(s.master_pids)}{role}")
            if elsewhere(s.master_pids):
                problems.append("master")
        if len(leaders) > 1 and name in leaders:
            have.append(f"ERROR: {len(leaders)} masters serve at once ({', '.join(leaders)})")
        if ft and not leaders and name == cluster.master:
            have.append("no master leads (none serves)")
    if name == (leaders[0] if len(leaders) == 1 else cluster.master):
        # listed names as the inventory knows them: a worker registers under its address's name
        declared = s.listed.declared({n.name: n.address for n in cluster.nodes}) if s.listed else {}
        forget = tuple(sorted({h for h in declared.values() if h and h not in cluster.workers}))
        unknown = tuple(sorted(n for n, h in declared.items() if h is None))
        if forget:
            have.append(f"lists retired worker(s) {' '.join(forget)}")
        if unknown:
            have.append(f"lists worker(s) not in the inventory: {' '.join(unknown)}")
    # a retired master still running would still take part in the election (and might lead)
    retire_master = not cluster.is_master(name) and bool(s.master_pids)
    if retire_master:
        have.append("a master runs here, on no master of the inventory")
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
        retire_master=retire_master,
        forget=forget,
        unknown_workers=unknown,
        silent=silent,
        master_state=have[0] if cluster.is_master(name) else "",
        serving=leaders if cluster.is_master(name) else (),
        worker_state=have[-1] if name in cluster.workers else "",
    )
    split = len(leaders) > 1 and name in leaders
    headless = cluster.fault_tolerant and not leaders and name == cluster.master
    drifted = bool(problems or retire or retire_master or forget or unknown or split or headless)
    status = (
        IN_SYNC
        if not drifted
        else MISSING_STATUS
        if problems and not (s.master_pids or s.worker_pids)
        else DRIFTED
    )
    return Verdict("services", status, ", ".join(want), ", ".join(have), details=details)
