"""What one pyinfra run shares beyond pyinfra's own state: each node's snapshot (read once,
again only after an operation changed that node), the decisions taken once per run, why a
node could not be read, and which nodes' sudo was probed."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import gevent
import gevent.lock
from pyinfra.api import Host, State

from cluster import Cluster
from facts.node import NodeSnapshot, NodeState
from runtime import privilege


@dataclass
class Run:
    """What one pyinfra run (one ``State``) has read and changed so far."""

    snapshots: dict[str, NodeSnapshot | None] = field(default_factory=dict)
    reads: dict[str, int] = field(default_factory=dict)  # how often each node was read
    stale: set[str] = field(default_factory=set)
    locks: dict[str, gevent.lock.Semaphore] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # decisions taken once per run
    unreadable: dict[str, str] = field(default_factory=dict)  # host -> why its state cannot be read
    prepared: set[str] = field(default_factory=set)  # hosts whose sudo was probed


_runs: weakref.WeakKeyDictionary[Any, Run] = weakref.WeakKeyDictionary()


def run_of(state: State) -> Run:
    """The run ``state`` belongs to (pyinfra's context proxy stands for the real state)."""
    real = state._get_module() if hasattr(state, "_get_module") else state
    return _runs.setdefault(real, Run())


def snapshot(state: State, host: Host, **fact_kwargs: Any) -> NodeSnapshot | None:
    """``host``'s state for this run: read once, again only after an operation changed it.
    None when the host cannot be reached."""
    run = run_of(state)
    with run.locks.setdefault(host.name, gevent.lock.Semaphore()):
        if host.name not in run.snapshots or host.name in run.stale:
            run.stale.discard(host.name)
            if not host.connected and host in getattr(state, "failed_hosts", ()):
                run.snapshots[host.name] = None  # pyinfra failed to connect: not again per reader
                return None
            run.reads[host.name] = run.reads.get(host.name, 0) + 1
            try:
                if host.name not in run.prepared:
                    run.prepared.add(host.name)
                    if reason := privilege.prepare(state, host):
                        run.unreadable[host.name] = reason
                if host.name in run.unreadable:
                    run.snapshots[host.name] = None
                else:
                    run.snapshots[host.name] = host.get_fact(NodeState, **fact_kwargs, _ignore_errors=True)
            except Exception as error:  # connection errors of any kind mean "unreachable"
                run.unreadable.setdefault(host.name, f"{type(error).__name__}: {error}")
                run.snapshots[host.name] = None
        return run.snapshots[host.name]


def mark_changed(state: State, host: Host) -> None:
    """An operation is changing ``host``: the next :func:`snapshot` reads it again."""
    run = run_of(state)
    run.stale.add(host.name)


def read(state: State, host: Host, cluster: Cluster) -> NodeSnapshot | None:
    """The node's snapshot, read with the paths the cluster declares."""
    run = run_of(state)
    reading = run.locks.get(host.name)
    if host.name in run.snapshots and host.name not in run.stale and not (reading and reading.locked()):
        return run.snapshots[host.name]  # read already, not being read again: asked once per verdict
    master = host.name == cluster.master
    return snapshot(
        state,
        host,
        install_dir=cluster.install_dir,
        tarball=cluster.remote_tarball,
        master=master,
        # every master: whether it serves (a standby does not), and the workers it lists; with
        # fault tolerance every node (a master retired there may still lead)
        worker_list_path=cluster.worker_list_path
        if cluster.is_master(host.name) or cluster.fault_tolerant
        else "",
        journal_folder=cluster.journal_folder if cluster.is_master(host.name) else "",
        zookeeper=cluster.zookeeper_servers if cluster.is_master(host.name) else (),
        java=dict(cluster.env).get("JAVA", ""),
        # a worker's RAM folder (its blocks must fit its size) and disk tier folders
        tier_dirs=(cluster.ram_folder, *(d for _, d, _ in cluster.tier_dirs))
        if host.name in cluster.workers
        else (),
        data_folder=cluster.data_folder,
    )


def read_all(state: State, hosts: list[Host], cluster: Cluster) -> dict[str, NodeSnapshot | None]:
    """Every host's snapshot, all read at once (a greenlet a host)."""
    jobs = {h.name: gevent.spawn(read, state, h, cluster) for h in hosts}
    gevent.joinall(list(jobs.values()))
    return {name: job.value for name, job in jobs.items()}
