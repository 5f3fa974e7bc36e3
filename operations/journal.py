"""The master's journal: the file system's metadata (every file, folder and mount). In 1.2.0 and
1.3.0 it lives in ``<release folder>/journal``; a release folder freshly extracted has none, and
its master refuses to start until the journal is formatted (empty) or carried in."""

from __future__ import annotations

import shlex

from pyinfra import host
from pyinfra.api import operation

from cluster import Cluster
from layout import BACKUPS
from operations.util import changes, cluster, only_on_master, refuse, verdict
from runtime.schedule import schedule

KEEP_BACKUPS = 5


def backup_command(c: Cluster, release: str) -> str:
    """Shell: a tar.gz of ``release``'s journal (and local under storage) in BACKUPS, named
    ``<UTC time>-<release>-journal.tar.gz`` so that names sort by age; the oldest beyond
    KEEP_BACKUPS go."""
    b, folder = shlex.quote(BACKUPS), shlex.quote(f"{c.install_root}/{release}")
    name = f"$(date -u +%Y%m%dT%H%M%SZ)-{release}-journal.tar.gz"
    parts = "journal $([ -d " + folder + "/underFSStorage ] && echo underFSStorage)"
    return (
        f"mkdir -p {b} && chmod 700 {b} && f={b}/{name} && tar -czf $f.part -C {folder} {parts} "
        f'&& mv -f $f.part $f && echo "journal backed up to $f" '
        f"&& ls -1 {b} | grep -- '-journal.tar.gz$' | sort | head -n -{KEEP_BACKUPS} "
        f"| while read -r old; do rm -f {b}/$old; done"
    )


def shared_backup_command(c: Cluster, leaving: str) -> str:
    """Shell: a tar.gz of the shared journal folder in BACKUPS, before the masters leave
    release ``leaving`` (named and pruned as :func:`backup_command`'s)."""
    b = shlex.quote(BACKUPS)
    folder = c.journal_folder.rstrip("/")
    parent, name = shlex.quote(folder.rpartition("/")[0] or "/"), shlex.quote(folder.rpartition("/")[2])
    backup = f"$(date -u +%Y%m%dT%H%M%SZ)-{leaving}-journal.tar.gz"
    return (
        f"mkdir -p {b} && chmod 700 {b} && f={b}/{backup} && tar -czf $f.part -C {parent} {name} "
        f'&& mv -f $f.part $f && echo "journal backed up to $f" '
        f"&& ls -1 {b} | grep -- '-journal.tar.gz$' | sort | head -n -{KEEP_BACKUPS} "
        f"| while read -r old; do rm -f {b}/$old; done"
    )


def carry_command(c: Cluster, source: str) -> str:
    """Shell: move the journal (and a local under storage) from release folder ``source`` into
    the declared one, by rename: at every moment the journal is whole in one of the two."""
    src, dst = shlex.quote(f"{c.install_root}/{source}"), shlex.quote(c.install_dir)
    return (
        "set -e; "
        # an unformatted journal folder in the target (a master started there on its own) is
        # set aside, not merged
        f"if [ -e {dst}/journal ]; then mv {dst}/journal {dst}/journal.unused-$(date -u +%s); fi; "
        f"mv {src}/journal {dst}/journal; "
        f"if [ -d {src}/underFSStorage ] && [ ! -e {dst}/underFSStorage ]; then "
        f"mv {src}/underFSStorage {dst}/underFSStorage; fi"
    )


@operation()
def in_place():
    """
    Put the journal in the release that runs, on the master.

    Behaviour:
        No journal in any release folder (a new cluster): ``alluxio format``, once. A journal
        in another release folder (a version change, up or down): a backup of it first (kept
        in BACKUPS, the five newest), then it is moved into the declared release by rename,
        never formatted; the daemons were stopped by the step before. Several journals: the
        tool will not choose, and says so. (``alluxio format -s`` is no guard: it does nothing
        at all whenever the under storage is remote, as HDFS is here.) Fault-tolerant masters
        share ``alluxio_journal_folder``: formatted when it is missing or empty, never over
        anything else, and never moved by a version change.

    **Example:**

    .. code:: python

        journal.in_place(name="The journal is in the release that runs")
    """
    if not only_on_master():
        return
    c = cluster()
    v = verdict("journal")
    if v.in_sync and c.fault_tolerant and (leaving := schedule().leaving):
        # the shared journal stays where it is through a version change: backed up first
        why = f"a version change ({leaving} -> {c.release}): the shared journal stays, backed up first"
        yield from changes([shared_backup_command(c, leaving)], why=why)
        return
    if v.in_sync:
        host.noop(f"the journal is {v.desired}; it is never formatted again")
        return
    if v.details.refuse_journal:  # fault tolerance: the shared folder holds what may be a journal
        yield from refuse(f"{c.master}: {v.details.refuse_journal}")
        return
    if v.details.several:
        yield from refuse(
            f"{v.actual}: keep one (move the others out of {c.install_root}/alluxio-*/), then run again"
        )
        return
    if v.details.format:
        yield from changes([f"{shlex.quote(c.install_dir)}/bin/alluxio format"], why=v)
        return
    source = v.details.carry_from
    yield from changes([backup_command(c, source), carry_command(c, source)], why=v)
