"""A worker's disk tier folders: there, writable, on a file system with the room their quotas
claim, and still the folders the last converge prepared (its marker in each)."""

from __future__ import annotations

from alluxio_site import size_bytes
from cluster import Cluster
from facts.node import NodeSnapshot
from facts.tiers import TierDir
from resources.verdict import DRIFTED, IN_SYNC, MISSING_STATUS, Details, Verdict


def tier_dirs(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """Each folder of ``alluxio_tiers`` past level 0 (the RAM folder is the services' concern).

    A folder whose marker is gone, or names another folder, was emptied or has had another
    file system mounted over it since the converge that marked it (a folder never marked is
    simply new to the tool): the worker's view of its blocks is stale, so it restarts."""
    seen = {d.path: d for d in snap.tier_dirs}
    desired = ", ".join(f"level{t.level} {t.alias} {f} ({q})" for t, f, q in cluster.tier_dirs)
    # a converge prepared these very folders before: what is gone or unmarked since was not new
    previously = snap.applied.get("tier_dirs") == Verdict("tier_dirs", IN_SYNC, desired, "").fingerprint
    make, mark, moved, unusable, states = [], [], [], [], []
    per_fs: dict[str, tuple[TierDir, list[tuple[str, str]]]] = {}
    for tier, folder, quota in cluster.tier_dirs:
        d = seen.get(folder)
        marker = tier.marker_text(folder)
        if d is None:
            unusable.append(f"{folder}: could not be read")
            states.append(f"{folder} unread")
            continue
        if d.kind == "other":
            unusable.append(f"{folder}: something other than a folder is there")
            states.append(f"{folder} not a folder")
            continue
        if d.used > size_bytes(quota):
            unusable.append(
                f"{folder}: its blocks take {d.used} bytes, more than its quota {quota}: the worker "
                "would not start (1.x adopts every block it finds); free them or raise the quota"
            )
        if not d.writable:
            where = folder if d.kind == "dir" else f"the folder above {folder}"
            unusable.append(f"{folder}: {where} is not writable (a read-only file system?)")
        if d.kind == "missing" and previously:
            unusable.append(
                f"{folder}: gone since the last converge prepared it (a disk not mounted?); not made "
                "again on what lies beneath: mount it, or make it by hand"
            )
            states.append(f"{folder} gone since the last converge")
        elif d.kind == "missing":
            make.append(folder)
            mark.append((folder, marker))
            states.append(f"{folder} missing")
        elif d.marked != marker.strip():
            mark.append((folder, marker))
            if previously and d.marked == "":
                moved.append(folder)
                states.append(f"{folder} lost its marker (emptied, or another file system mounted there)")
            elif d.marked:
                moved.append(folder)
                states.append(f"{folder} holds another folder's marker ({d.marked})")
            else:
                states.append(f"{folder} not yet prepared")
        else:
            states.append(f"{folder} ok")
        per_fs.setdefault(d.fs_id, (d, []))[1].append((folder, quota))
    for d, claims in per_fs.values():
        total = sum(size_bytes(q) for _, q in claims)
        if d.size and total > d.size:
            folders = ", ".join(f"{f} ({q})" for f, q in claims)
            unusable.append(
                f"{folders}: quotas of {total} bytes on a file system of {d.size} bytes; lower them"
            )
    status = DRIFTED if mark or unusable else IN_SYNC
    if make and len(make) == len(cluster.tier_dirs):
        status = MISSING_STATUS
    return Verdict(
        "tier_dirs",
        status,
        desired=desired,
        actual="; ".join(states),
        details=Details(make=tuple(make), mark=tuple(mark), moved=tuple(moved), unusable=tuple(unusable)),
    )
