"""The release on a node: the tarball, the extracted folder, its launcher, and the releases around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cluster import Cluster, Member
from facts.node import NodeSnapshot
from facts.release import Entry
from layout import (
    LAUNCHER_PATH,
    MANAGED_FILES,
    MANAGED_MODES,
    MISSING,
    ROOT,
    UNKNOWN,
)
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    MISSING_STATUS,
    Details,
    Verdict,
    text_verdict,
    unified,
)

# More damaged members than this: extracted afresh (a command line restoring them has limits).
RESTORE_LIMIT = 500


def tarball(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    want = cluster.tarball
    have = snap.tarball
    desired = f"sha256 {want.sha256[:12]}…, {want.size} bytes"
    if not have.present:
        status, actual = MISSING_STATUS, "absent"
    else:
        status = IN_SYNC if have.sha256 == want.sha256 else DRIFTED
        actual = f"sha256 {(have.sha256 or '')[:12]}…, {have.size} bytes"
    return Verdict("tarball", status, desired, actual, path=cluster.remote_tarball, declared=want.sha256)


def _member_damage(member: Member, entry: Entry | None, digests: Mapping[str, str]) -> str | None:
    """What is wrong with one shipped member on the node, or None."""
    if entry is None:
        return "missing"
    if entry.kind != member.kind:
        return f"a {entry.kind}, not a {member.kind}"
    if member.mode and entry.mode != member.mode:
        return f"mode {entry.mode}, not {member.mode}"
    if member.kind == "f" and entry.size != member.size:
        return f"{entry.size} bytes, not {member.size}"
    if member.kind == "f" and member.path in digests and digests[member.path] != member.sha256:
        return "content differs"
    return None


def install_dir(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """The release is extracted completely: every member of the tarball, wherever it lies, with
    its type, mode, size and content (the files other resources manage excepted), owned
    root:root, with the completion marker of this tarball and a record of verified digests.
    Content is checked by the digests the node computed for files changed since the record;
    the run-time files of the daemons are not the release's. An interrupted extraction is
    redone from scratch; damaged members are restored; wrong owners are changed back."""
    want = cluster.tarball
    have = snap.install
    marker = f"{want.sha256} {cluster.release}"
    desired = f"{cluster.release} complete, root:root"
    path = cluster.install_dir
    if not have.present:
        return Verdict(
            "install_dir",
            MISSING_STATUS,
            desired,
            "absent",
            path=path,
            declared=marker,
            details=Details(fresh=True, partial=have.partial),
        )
    if have.marker != marker:
        why = (
            "no completion marker (interrupted?)"
            if have.marker is None
            else f"other release ({have.marker[:12]}…)"
        )
        return Verdict(
            "install_dir",
            DRIFTED,
            desired,
            why,
            path=path,
            declared=marker,
            details=Details(fresh=True, partial=have.partial),
        )
    entries = have.entries or {}
    damage = {
        m.path: harm
        for m in want.members
        if m.path not in MANAGED_FILES and (harm := _member_damage(m, entries.get(m.path), have.digests))
    }
    members = {m.path for m in want.members} - set(MANAGED_FILES)
    owners = sorted(p for p, e in entries.items() if p in members and (e.owner, e.group) != ROOT)
    problems = []
    if damage:
        shown = ", ".join(f"{p} ({why})" for p, why in sorted(damage.items())[:3])
        problems.append(f"{len(damage)} missing or damaged: {shown}{' …' if len(damage) > 3 else ''}")
    if owners:
        problems.append(
            f"{len(owners)} not root:root: {', '.join(owners[:3])}{' …' if len(owners) > 3 else ''}"
        )
    if have.partial:
        problems.append("an interrupted extraction's folder is left over")
    unrecorded = not damage and not have.recorded
    if unrecorded:
        problems.append("no record of verified digests")
    return Verdict(
        "install_dir",
        DRIFTED if problems else IN_SYNC,
        desired,
        "; ".join(problems) or desired,
        path=path,
        declared=marker,
        details=Details(
            fresh=len(damage) > RESTORE_LIMIT,
            restore=tuple(sorted(damage)),
            chown=bool(owners),
            partial=have.partial,
            record=bool(damage or owners or unrecorded),
        ),
    )


def launcher(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """``bin/alluxio-workers.sh`` is the release's, patched ``-t`` to ``-tt`` where the release
    needs it. One of unknown shape (neither line) is reported, never rewritten. Whatever the
    node's shape, the declaration (and so the fingerprint) is the same."""
    path = f"{cluster.install_dir}/{LAUNCHER_PATH}"
    shape = snap.launcher.shape
    summary = "patched (ssh -tt)" if cluster.launcher_needs_patch else "as shipped (ssh -tt)"
    verdict = text_verdict(
        "launcher",
        path,
        snap.launcher.file,
        cluster.launcher,
        summary,
        write_mode=MANAGED_MODES[LAUNCHER_PATH],
    )
    if shape == UNKNOWN:
        return replace(
            verdict,
            status=DRIFTED,
            desired=summary,
            actual="unknown shape: neither the `ssh -t ${worker}` nor the `-tt` line; left alone",
            details=Details(unknown_shape=True),
        )
    actual = (
        "absent"
        if shape == MISSING
        else f"{shape}" + ("" if verdict.in_sync or shape != "patched" else ", edited")
    )
    diff = verdict.diff
    if shape == MISSING:  # extracted as shipped first: its patch is the diff, not 50 new lines a host
        diff = unified(path, cluster.tarball.launcher, cluster.launcher, "as shipped")
    return replace(verdict, desired=summary, actual=actual, diff=diff)


KEEP_PREVIOUS = 1  # release folders kept beside the declared one, for a rollback


def old_releases(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """Beside the declared release, only the previous one stays (the most recently extracted
    other folder, so that declaring it again rolls back without sending it again); older ones
    go with their tarballs, never a folder that holds a journal."""
    folders = snap.releases.folders
    others = sorted((f for f in folders if f != cluster.release), key=lambda f: folders[f], reverse=True)
    kept = others[:KEEP_PREVIOUS]
    remove = tuple(f for f in others[KEEP_PREVIOUS:] if f not in snap.releases.journals)
    desired = f"{cluster.release}, and at most {KEEP_PREVIOUS} previous release"
    actual = ", ".join([cluster.release, *others]) if folders else "none"
    return Verdict(
        "old_releases",
        DRIFTED if remove else IN_SYNC,
        desired,
        actual + (f"; to remove: {', '.join(remove)}" if remove else ""),
        declared=desired,
        details=Details(remove=remove, kept=tuple(kept)),
    )
