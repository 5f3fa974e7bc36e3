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
    never formatted again. Several journals: the tool will not choose."""
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
