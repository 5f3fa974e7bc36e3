"""The master's journal: in the release that runs, formatted once, carried over on a version change."""

from __future__ import annotations

from cluster import Cluster
from facts.node import NodeSnapshot
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    MISSING_STATUS,
    Details,
    Verdict,
)


def journal(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """The master's journal (the file system's metadata) lives in the declared release folder,
    formatted once; on a version change it is carried over from the release the cluster ran,
    never formatted again. Several journals: the tool will not choose. With fault tolerance
    see :func:`shared_journal`."""
    if cluster.fault_tolerant:
        return shared_journal(cluster, snap)
    found = snap.releases.journals
    here = cluster.release
    desired = f"in {here}/journal"
    if found == (here,):
        return Verdict("journal", IN_SYNC, desired, desired, declared=here)
    if not found:
        return Verdict(
            "journal", MISSING_STATUS, desired, "no journal in any release folder: formatted once",
            declared=here, details=Details(format=True),
        )  # fmt: skip
    if len(found) == 1:
        old = found[0].removeprefix("alluxio-")
        return Verdict(
            "journal",
            DRIFTED,
            desired,
            f"in {found[0]}/journal: version change {old} -> {cluster.version}, to carry over",
            declared=here,
            details=Details(carry_from=found[0]),
        )
    return Verdict(
        "journal",
        DRIFTED,
        desired,
        f"several journals: {', '.join(f'{f}/journal' for f in found)}; the tool will not choose",
        declared=here,
        details=Details(several=tuple(found)),
    )


def shared_journal(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """Fault tolerance: the journal is the folder every master shares, formatted once (its
    ``_format_`` marker), read from the first master. Formatted only when the folder is missing
    or empty: anything else in it without a marker may be a journal some master wrote, and a
    journal in a release folder (the cluster ran with one master) must be moved there by a
    person first; the tool refuses both rather than format over them."""
    j = snap.shared_journal
    folder = cluster.journal_folder
    desired = f"in {folder}, formatted once"
    if j.kind == "dir" and j.formatted:
        return Verdict("journal", IN_SYNC, desired, f"in {folder}, formatted ({', '.join(j.markers)})")
    refuse = ""
    if j.kind == "other":
        refuse = f"{folder} is not a folder"
    elif j.kind == "dir" and j.others:
        shown = ", ".join(j.others[:5]) + (", ..." if len(j.others) > 5 else "")
        refuse = f"{folder} holds {shown} but no format marker: maybe a journal, not formatted over"
    elif snap.releases.journals:
        where = ", ".join(f"{cluster.install_root}/{r}/journal" for r in snap.releases.journals)
        refuse = (
            f"the journal is in {where} (one master's): move its contents into {folder} (the masters "
            "stopped), then run again"
        )
    if refuse:
        return Verdict("journal", DRIFTED, desired, refuse, details=Details(refuse_journal=refuse))
    actual = "empty" if j.kind == "dir" else "absent"
    return Verdict(
        "journal", MISSING_STATUS, desired, f"{folder} {actual}: formatted once", details=Details(format=True)
    )
