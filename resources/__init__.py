"""Desired against actual, per resource: the one comparison deploy, dry run and drift share.

Each function takes the :class:`~cluster.Cluster` (desired) and node snapshots (actual, from
``facts.node``) and returns a :class:`Verdict`: a status, one-line desired and actual, and for
text resources the full desired content and a unified diff. Operations act on verdicts; the
drift report prints them. Nothing here touches a host: the snapshots are read by ``runtime/run.py``.

One module per family, as in ``facts/`` and ``operations/``; this one says which resources
each node has and decides one of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from cluster import Cluster
from facts.node import NodeSnapshot
from resources.conf import alluxio_env, alluxio_site, workers_file
from resources.hosts import etc_hosts
from resources.journal import journal
from resources.release import install_dir, launcher, old_releases, tarball
from resources.services import services
from resources.ssh import authorized_keys, known_hosts, master_public_key, ssh_keypair
from resources.tiers import tier_dirs
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    MISSING_STATUS,
    UNREACHABLE,
    Details,
    FileChange,
    Verdict,
    unified,
)

__all__ = [
    "DRIFTED",
    "IN_SYNC",
    "MISSING_STATUS",
    "UNREACHABLE",
    "Details",
    "FileChange",
    "Verdict",
    "alluxio_env",
    "alluxio_site",
    "authorized_keys",
    "cause",
    "etc_hosts",
    "install_dir",
    "journal",
    "known_hosts",
    "launcher",
    "node_verdicts",
    "old_releases",
    "resources_of",
    "services",
    "ssh_keypair",
    "tarball",
    "tier_dirs",
    "unified",
    "verdict_of",
    "workers_file",
]  # fmt: skip

NODE_RESOURCES = (
    "etc_hosts",
    "authorized_keys",
    "tarball",
    "install_dir",
    "alluxio_env",
    "alluxio_site",
    "workers_file",
    "launcher",
    "services",
    "old_releases",
)
MASTER_RESOURCES = ("ssh_keypair", "known_hosts", "journal")
WORKER_RESOURCES = ("tier_dirs",)  # when the workers have disk tiers


def verdict_of(
    cluster: Cluster, name: str, resource: str, nodes: Mapping[str, NodeSnapshot | None]
) -> Verdict:
    """Node ``name``'s verdict on one ``resource``; ``nodes`` holds the snapshots it needs
    (the node's, the master's, and for ``known_hosts`` every node's)."""
    snap = nodes.get(name)
    if snap is None:
        return Verdict(resource, UNREACHABLE, "-", "unreachable")
    master_snap = nodes.get(cluster.master)
    match resource:
        case "etc_hosts":
            return etc_hosts(cluster, snap)
        case "authorized_keys":
            return authorized_keys(cluster, snap, master_public_key(master_snap))
        case "tarball":
            return tarball(cluster, snap)
        case "install_dir":
            return install_dir(cluster, snap)
        case "alluxio_env":
            return alluxio_env(cluster, name, snap)
        case "alluxio_site":
            return alluxio_site(cluster, snap)
        case "tier_dirs" if name in cluster.workers and cluster.tier_dirs:
            return tier_dirs(cluster, snap)
        case "workers_file":
            return workers_file(cluster, snap)
        case "launcher":
            return launcher(cluster, snap)
        case "services":
            return services(cluster, name, snap, nodes)
        case "old_releases":
            return old_releases(cluster, snap)
        case "journal" if name == cluster.master:
            return journal(cluster, snap)
        case "ssh_keypair" if name == cluster.master:
            return ssh_keypair(cluster, snap)
        case "known_hosts" if name == cluster.master:
            return known_hosts(cluster, snap, nodes)
    raise KeyError(f"{resource} is not a resource of {name}")


def resources_of(cluster: Cluster, name: str) -> tuple[str, ...]:
    worker = WORKER_RESOURCES if name in cluster.workers and cluster.tier_dirs else ()
    return NODE_RESOURCES + worker + (MASTER_RESOURCES if name == cluster.master else ())


def cause(verdict: Verdict, snap: NodeSnapshot | None) -> str | None:
    """Why a resource differs: ``corrective`` (changed on the host since a converge applied
    this very declaration), ``intentional`` (the declaration changed since the last converge)
    or ``unknown`` (no converge recorded it here)."""
    if verdict.status in (IN_SYNC, UNREACHABLE) or snap is None:
        return None
    applied = snap.applied.get(verdict.resource)
    if applied is None:
        return "unknown"
    return "corrective" if applied == verdict.fingerprint else "intentional"


def node_verdicts(
    cluster: Cluster, name: str, nodes: Mapping[str, NodeSnapshot | None]
) -> dict[str, Verdict]:
    """Every resource of node ``name``; ``nodes`` holds the snapshots of all nodes."""
    return {r: verdict_of(cluster, name, r, nodes) for r in resources_of(cluster, name)}
