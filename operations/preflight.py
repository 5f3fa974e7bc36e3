"""Before anything changes on a node: what Alluxio's scripts need is there, or is installed."""

from __future__ import annotations

from pyinfra import host, state
from pyinfra.api import OperationError, operation

from alluxio_site import size_bytes
from facts.node import NodeSnapshot
from layout import SITE_PATH
from operations.util import changes, cluster, refuse, snapshots, verdict
from resources import resources_of
from runtime.run import run_of
from runtime.schedule import schedule
from tiers import DEFAULT_MEMORY_SIZE

INSTALL_RSYNC = (
    "{ if command -v apt-get >/dev/null; then DEBIAN_FRONTEND=noninteractive apt-get install -y rsync; "
    "elif command -v yum >/dev/null; then yum install -y rsync; else false; fi; } "
    "|| { echo 'rsync (for Alluxio copyDir) is missing and could not be installed' >&2; exit 1; }"
)


@operation()
def node_ready():
    """
    Refuse to touch a node that lacks what the release needs, naming what is missing, and
    install ``rsync`` (Alluxio's ``copyDir`` needs it) where it is missing.

    Behaviour:
        Checked from the run's snapshot: ``ssh`` (the launcher), ``sudo`` (``SudoMount``),
        ``bash``, ``tar``, ``base64``, ``sha256sum``, and a Java runtime on the PATH of a
        non-interactive ssh session, or the ``JAVA`` given in ``alluxio_env`` executable
        (Alluxio issues #4459, #12250); free space for the tarball and its extraction when they
        are still to come; no site file in ``/etc/alluxio/`` (it would hide ``conf/``'s);
        each disk tier folder there or makeable (not gone since a converge prepared it),
        writable, on a file system at least as big as the quotas it holds, its blocks within its
        quota; a kept RAM cache within the declared memory size.

    **Example:**

    .. code:: python

        preflight.node_ready(name="The node has what the release needs")
    """
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    if snap is None:
        why = run_of(state).unreadable.get(host.name, "its state could not be read")
        raise OperationError(f"{host.name}: {why}; nothing was changed here")
    if refusal := schedule().refusal:
        yield from refuse(f"the cluster: {refusal}; nothing was changed here")
        return
    if c.fault_tolerant and c.is_master(host.name) and not any(snap.zookeeper.values()):
        silent = ", ".join(snap.zookeeper) or c.zookeeper
        yield from refuse(
            f"{host.name}: no ZooKeeper server answers srvr from here ({silent}), while they do from "
            "the other masters: this master could not take part in the election; nothing was changed here"
        )
        return
    missing = [m for m in snap.tools.missing if m != "rsync"]
    if missing:
        yield from refuse(f"{host.name} lacks: {', '.join(missing)}; install it, then run again")
        return
    if snap.shadowing_site:
        yield from refuse(
            f"{host.name}: {', '.join(snap.shadowing_site)} would be loaded instead of "
            f"{c.install_dir}/{SITE_PATH} (1.x loads only the first site file of /etc/alluxio/ "
            "and conf/): fold its keys into alluxio_site and remove it; "
            "nothing was changed here"
        )
        return
    if "tier_dirs" in resources_of(c, host.name) and (unusable := verdict("tier_dirs").details.unusable):
        yield from refuse(f"{host.name}: storage tiers: {'; '.join(unusable)}; nothing was changed here")
        return
    if overfull := _cache_overfull(snap):
        yield from refuse(f"{host.name}: {overfull}; nothing was changed here")
        return
    needed = 0
    if not verdict("tarball").in_sync:
        needed += c.tarball.size
    if verdict("install_dir").details.fresh:
        needed += sum(m.size for m in c.tarball.members)
    if snap.tools.free_kb is not None and needed > snap.tools.free_kb * 1024:
        yield from refuse(
            f"{host.name}: {c.install_root} has {snap.tools.free_kb // 1024} MiB free, "
            f"the release needs {needed // (1024 * 1024) + 1} MiB"
        )
        return
    if "rsync" in snap.tools.missing:
        yield from changes([INSTALL_RSYNC], why="rsync is missing: installing it")
        return
    host.noop("has ssh, sudo, rsync, java and room for the release")


def _cache_overfull(snap: NodeSnapshot) -> str:
    """Why a worker whose RAM folder stays mounted would not start: its cached blocks exceed the
    declared memory size, and 1.x adopts every block it finds or fails (``StorageDir``:
    ``WorkerOutOfSpaceException``). Emptying the cache instead would lose data written only to
    Alluxio (the default write type, MUST_CACHE): a person decides."""
    c = cluster()
    if host.name not in c.workers or not snap.services.in_memory(c.ram_folder):
        return ""
    ram = next((d for d in snap.tier_dirs if d.path == c.ram_folder), None)
    size = c.env_settings.get("ALLUXIO_WORKER_MEMORY_SIZE", DEFAULT_MEMORY_SIZE)
    if ram is None or ram.used <= size_bytes(size):
        return ""
    return (
        f"its RAM folder {c.ram_folder} holds {ram.used} bytes of blocks, more than the declared "
        f"ALLUXIO_WORKER_MEMORY_SIZE={size}: its worker would not start on it (1.x adopts every "
        "block it finds); free blocks (alluxio fs free) or declare a size they fit"
    )
