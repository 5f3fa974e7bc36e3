"""Desired against actual, per resource: the one comparison deploy, dry run and drift share.

Each function takes the :class:`~cluster.Cluster` (desired) and node snapshots (actual, from
``facts.node``) and returns a :class:`Verdict`: a status, one-line desired and actual, and for
text resources the full desired content and a unified diff. Operations act on verdicts; the
drift report prints them. Nothing here touches a host.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cluster import Cluster, Member
from facts.hosts import parse_hosts
from facts.node import NodeSnapshot
from facts.probe import FileState
from facts.release import Entry
from facts.services import LIVE_WITHIN_SECONDS
from facts.ssh import SSH_DIR, PublicKey, is_chain_key
from layout import (
    AUTHORIZED_KEYS_MODE,
    ENV_PATH,
    ETC_HOSTS_MODE,
    KNOWN_HOSTS_MODE,
    LAUNCHER_PATH,
    MANAGED_FILES,
    MANAGED_MODES,
    MISSING,
    PRIVATE_KEY_MODE,
    ROOT,
    SSH_DIR_MODE,
    UNKNOWN,
    WORKERS_PATH,
)

IN_SYNC, DRIFTED, MISSING_STATUS, UNREACHABLE = "in_sync", "drifted", "missing", "unreachable"
NODE_RESOURCES = (
    "etc_hosts",
    "authorized_keys",
    "tarball",
    "install_dir",
    "alluxio_env",
    "workers_file",
    "launcher",
    "services",
    "old_releases",
)
MASTER_RESOURCES = ("ssh_keypair", "known_hosts", "journal")


@dataclass(frozen=True)
class FileChange:
    """A managed text file, decided: its whole content written (atomically, refused if the file
    no longer holds ``expected``, what was read), or only its mode and owner set."""

    content: str
    mode: str
    expected: bytes | None  # None: the file was absent
    write: bool  # the content differs
    fix_mode: bool  # the mode or owner differs
    owner: str = "root:root"


@dataclass(frozen=True)
class Details:
    """What a verdict decided, for the operations and the restart schedule: typed, so that a
    mistyped name fails where it is written instead of reading as None. Each field belongs to
    the resource named in its comment; the others leave it at its default."""

    file: FileChange | None = None  # every text file resource, /etc/hosts
    # ssh_keypair
    identity: str = ""
    generate: bool = False
    fix_key_mode: bool = False
    fix_public: bool = False
    # authorized_keys
    pending: bool = False  # the master's key is made in this run
    fix_dir: bool = False
    close: tuple[str, ...] = ()  # chain sockets a killed run left open
    # known_hosts
    refused_keys: tuple[str, ...] = ()  # changed host keys, not trusted
    # install_dir
    fresh: bool = False  # extracted anew (absent, or another release's)
    partial: bool = False  # an interrupted extraction's folder is left over
    restore: tuple[str, ...] = ()  # members missing or damaged
    chown: bool = False
    record: bool = False  # the verified digests are (re)recorded
    # launcher
    unknown_shape: bool = False
    # journal
    format: bool = False
    carry_from: str = ""  # the release folder the journal moves from
    several: tuple[str, ...] = ()  # several release folders hold a journal: refused
    # old_releases
    remove: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    # services
    down: tuple[str, ...] = ()  # "master", "worker": not running as declared, or not live
    retire: bool = False
    forget: tuple[str, ...] = ()  # retired workers the master still lists
    unknown_workers: tuple[str, ...] = ()  # listed, not in the inventory
    silent: bool = False  # the worker runs from here, unheard by the master

    @property
    def left_alone(self) -> bool:
        """The tool names this drift and does not act on it."""
        return bool(self.unknown_shape or self.unknown_workers or self.refused_keys or self.several)


@dataclass(frozen=True)
class Verdict:
    resource: str
    status: str
    desired: str
    actual: str
    diff: str | None = None
    path: str | None = None
    content: str | None = None  # the complete desired content of a text resource
    details: Details = field(default_factory=Details)
    declared: str = ""  # everything the declaration says about this resource (default: desired)

    @property
    def in_sync(self) -> bool:
        return self.status == IN_SYNC

    @property
    def fingerprint(self) -> str:
        """Identifies the declaration: recorded by a converge, compared by the drift report."""
        return _digest(f"{self.resource}\0{self.declared or self.desired}")[:16]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "desired": self.desired,
            "actual": self.actual,
            "diff": self.diff,
        }


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def unified(path: str, actual: str | None, desired: str) -> str | None:
    if actual == desired:
        return None
    lines = difflib.unified_diff(
        (actual or "").splitlines(keepends=True),
        desired.splitlines(keepends=True),
        fromfile=f"{path} (actual)" if actual is not None else "/dev/null",
        tofile=f"{path} (desired)",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def _file_status(file: FileState, content_ok: bool, mode_ok: bool = True) -> str:
    if not file.exists:
        return MISSING_STATUS
    return IN_SYNC if content_ok and mode_ok else DRIFTED


def _text_verdict(
    resource: str,
    path: str,
    file: FileState,
    desired: str,
    summary: str,
    mode: str | None = None,
    declared: str | None = None,
    write_mode: str | None = None,
) -> Verdict:
    """A managed text file: exact content, and mode/owner when ``mode`` is given (written with
    ``mode``, or ``write_mode`` when its mode is not checked)."""
    actual = file.text
    mode_ok = mode is None or (file.mode, file.owner, file.group) == (mode, *ROOT)
    status = _file_status(file, actual == desired, mode_ok)
    notes = [] if mode_ok or not file.exists else [f"mode {file.mode} {file.owner}:{file.group}"]
    return Verdict(
        resource,
        status,
        desired=summary + (f", mode {mode} root:root" if mode else ""),
        actual=("absent" if not file.exists else "as desired" if actual == desired else "differs")
        + "".join(f", {n}" for n in notes),
        diff=unified(path, actual, desired),
        path=path,
        content=desired,
        details=Details(
            file=FileChange(desired, mode or write_mode or "", file.content, actual != desired, not mode_ok)
        ),
        declared=f"{summary} {mode} " + (declared if declared is not None else _digest(desired)),
    )


# ----- /etc/hosts -------------------------------------------------------------------------
def etc_hosts(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """Every cluster name resolves to its address; every other line stays as it is. A managed
    name on a line with another address is taken off that line (the line goes if it empties)."""
    entries = cluster.host_entries
    text = snap.etc_hosts.file.text or ""
    kept: list[str] = []
    for line in parse_hosts(text):
        wrong = [n for n in line.names if n in entries and entries[n] != line.address]
        if not wrong:
            kept.append(line.raw)
            continue
        remaining = [n for n in line.names if n not in wrong]
        if remaining:
            eol = line.raw[len(line.raw.rstrip("\r\n")) :]
            comment = line.raw.rstrip("\r\n").partition("#")[2]
            kept.append(f"{line.address}\t{' '.join(remaining)}" + (f"\t#{comment}" if comment else "") + eol)
    desired = "".join(kept)
    present = {n for line in parse_hosts(desired) for n in line.names}
    missing = [(n, a) for n, a in entries.items() if n not in present]
    if missing and desired and not desired.endswith("\n"):
        desired += "\n"
    desired += "".join(f"{address}\t{name}\n" for name, address in missing)
    resolved = {n: snap.etc_hosts.resolves(n) for n in entries}
    return Verdict(
        "etc_hosts",
        _file_status(snap.etc_hosts.file, desired == text),
        desired=" ".join(f"{n}={a}" for n, a in entries.items()),
        actual=" ".join(f"{n}={resolved[n] or '-'}" for n in entries),
        diff=unified("/etc/hosts", snap.etc_hosts.file.text, desired),
        path="/etc/hosts",
        content=desired,
        # the operator's file: its mode stays as it is
        details=Details(
            file=FileChange(
                desired, snap.etc_hosts.file.mode or ETC_HOSTS_MODE, snap.etc_hosts.file.content, True, False
            )
        ),
    )


# ----- ssh trust -----------------------------------------------------------------------------
def master_public_key(snap: NodeSnapshot | None) -> PublicKey | None:
    if snap is None or snap.key_pairs is None or snap.key_pairs.usable is None:
        return None
    return snap.key_pairs.usable.public


def ssh_keypair(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """The master has one key pair, private key 600 root:root, public half in NAME.pub. An
    existing pair is kept whatever its type; none is generated as id_rsa."""
    pairs = snap.key_pairs
    usable = pairs.usable if pairs else None
    desired = f"a key pair in {SSH_DIR} (private 600 root:root, public in .pub)"
    if usable is None:
        return Verdict(
            "ssh_keypair",
            MISSING_STATUS,
            desired,
            "no usable key pair",
            path=f"{SSH_DIR}/id_rsa",
            details=Details(identity="id_rsa", generate=True),
        )
    private = usable.private
    problems = []
    if (private.mode, private.owner, private.group) != (PRIVATE_KEY_MODE, *ROOT):
        problems.append(f"private key mode {private.mode} {private.owner}:{private.group}")
    if usable.derived and usable.public_file != usable.derived:
        problems.append(f"{usable.name}.pub does not match the private key")
    return Verdict(
        "ssh_keypair",
        DRIFTED if problems else IN_SYNC,
        desired,
        f"{usable.name} ({usable.public.type if usable.public else '?'})"
        + "".join(f", {p}" for p in problems),
        path=f"{SSH_DIR}/{usable.name}",
        details=Details(
            identity=usable.name,
            fix_key_mode=(private.mode, private.owner, private.group) != (PRIVATE_KEY_MODE, *ROOT),
            fix_public=bool(usable.derived and usable.public_file != usable.derived),
        ),
    )


def _ssh_dir_ok(snap: NodeSnapshot) -> bool:
    d = snap.authorized_keys.ssh_dir
    return (d.kind, d.mode, d.owner, d.group) == ("directory", SSH_DIR_MODE, *ROOT)


def authorized_keys(cluster: Cluster, snap: NodeSnapshot, master_key: PublicKey | None) -> Verdict:
    """The master's public key is authorized; every other line (options, comments) stays, but
    a hop key of the tarball's chain (runtime/fanout.py), which only a killed run leaves, and
    that run's open links go."""
    path = f"{SSH_DIR}/authorized_keys"
    file = snap.authorized_keys.file
    dir_ok = _ssh_dir_ok(snap)
    text = file.text or ""
    lines = text.splitlines(keepends=True)
    chain_keys = [line for line in lines if is_chain_key(line)]
    sockets = snap.chain_sockets
    if master_key is None:
        return Verdict(
            "authorized_keys",
            MISSING_STATUS,
            f"the key of {cluster.master} (not generated yet), mode 600 root:root",
            "absent" if not file.exists else f"{len(snap.authorized_keys.keys)} keys",
            path=path,
            details=Details(pending=True),
        )
    desired = "".join(line for line in lines if not is_chain_key(line))
    if master_key not in snap.authorized_keys.keys:
        desired += (
            "\n" if desired and not desired.endswith("\n") else ""
        ) + f"{master_key.line} alluxio@{cluster.master}\n"
    verdict = _text_verdict(
        "authorized_keys",
        path,
        file,
        desired,
        f"{cluster.master}'s {master_key.type} key, no chain key",
        AUTHORIZED_KEYS_MODE,
        declared=master_key.line,
    )
    leftovers = [f"{len(chain_keys)} chain key(s) of a killed run"] if chain_keys else []
    if sockets:
        leftovers.append(f"{len(sockets)} chain link(s) open: {' '.join(sockets)}")
        verdict = replace(verdict, status=DRIFTED, details=replace(verdict.details, close=tuple(sockets)))
    if leftovers:
        verdict = replace(verdict, actual=f"{verdict.actual}, {', '.join(leftovers)}")
    if not dir_ok:
        d = snap.authorized_keys.ssh_dir
        return replace(
            verdict,
            status=DRIFTED if file.exists else MISSING_STATUS,
            desired=verdict.desired + f", {SSH_DIR} 700",
            actual=verdict.actual + f", {SSH_DIR} {d.kind} {d.mode or ''}".rstrip(),
            details=replace(verdict.details, fix_dir=True),
        )
    return verdict


def known_hosts(cluster: Cluster, snap: NodeSnapshot, nodes: Mapping[str, NodeSnapshot | None]) -> Verdict:
    """The master knows every node's real host keys under its name and address. A known key
    that differs from the node's real one is a changed host key: refused unless the cluster
    accepts new host keys, and then its old lines go."""
    assert snap.known_hosts is not None
    file = snap.known_hosts.file
    text = file.text or ""
    wanted = [n for n in cluster.names if n == cluster.master or n in cluster.workers]
    changed: list[str] = []
    add: list[str] = []
    unknown: list[str] = []
    stale: set[str] = set()
    for name in wanted:
        node = nodes.get(name)
        if node is None or not node.host_keys:
            unknown.append(name)
            continue
        address = cluster.node(name).address
        for key in node.host_keys:
            for alias in (name, address):
                known = snap.known_hosts.keys_for(alias)
                others = [k for k in known if k.type == key.type and k != key]
                if others:
                    changed.append(f"{alias} ({key.type})")
                    stale.update(
                        e.raw for e in snap.known_hosts.entries if e.matches(alias) and e.key in others
                    )
            if key not in snap.known_hosts.keys_for(name) or key not in snap.known_hosts.keys_for(address):
                add.append(f"{name},{address} {key.line}\n")
    refuse = bool(changed) and not cluster.accept_new_host_keys
    kept = text if refuse else "".join(line for line in text.splitlines(keepends=True) if line not in stale)
    desired = (
        kept + ("\n" if kept and add and not kept.endswith("\n") else "") + ("" if refuse else "".join(add))
    )
    declared = sorted(
        f"{n},{cluster.node(n).address} {k.line}"
        for n in wanted
        for k in getattr(nodes.get(n), "host_keys", ())
    )
    verdict = _text_verdict(
        "known_hosts",
        f"{SSH_DIR}/known_hosts",
        file,
        desired,
        f"host keys of {', '.join(wanted)}",
        declared=_digest("\n".join(declared)),
        write_mode=KNOWN_HOSTS_MODE,
    )
    notes = []
    if changed:
        notes.append(
            f"host key changed: {', '.join(sorted(set(changed)))}"
            + (
                ""
                if cluster.accept_new_host_keys
                else " (not trusted; alluxio_accept_new_host_keys=true accepts)"
            )
        )
    if unknown:
        notes.append(f"could not read host keys of {', '.join(unknown)}")
    return replace(
        verdict,
        status=DRIFTED if refuse else verdict.status,
        actual=verdict.actual + "".join(f"; {n}" for n in notes),
        details=replace(verdict.details, refused_keys=tuple(sorted(set(changed))) if refuse else ()),
    )


# ----- the release -----------------------------------------------------------------------
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
    verdict = _text_verdict(
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
    return replace(verdict, desired=summary, actual=actual)


def workers_file(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{WORKERS_PATH}"
    verdict = _text_verdict(
        "workers_file",
        path,
        snap.workers_file.file,
        cluster.workers_file,
        " ".join(cluster.workers),
        MANAGED_MODES[WORKERS_PATH],
    )
    actual = " ".join(snap.workers_file.hosts) if snap.workers_file.file.exists else "absent"
    if snap.workers_file.file.exists and not verdict.in_sync and snap.workers_file.hosts == cluster.workers:
        actual += " (other text)"
    return replace(verdict, actual=actual)


def alluxio_env(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{ENV_PATH}"
    desired_settings = cluster.env_settings
    verdict = _text_verdict(
        "alluxio_env",
        path,
        snap.alluxio_env.file,
        cluster.alluxio_env,
        " ".join(f"{k}={v}" for k, v in desired_settings.items()),
        MANAGED_MODES[ENV_PATH],
    )
    have = snap.alluxio_env.settings
    actual = "absent" if not snap.alluxio_env.file.exists else " ".join(f"{k}={v}" for k, v in have.items())
    return replace(verdict, actual=actual or "(no settings)")


# ----- services --------------------------------------------------------------------------
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
        down=tuple(problems), retire=retire, forget=forget, unknown_workers=unknown, silent=silent
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


# ----- the journal and the releases around -----------------------------------------------------
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


# ----- everything, for one node ---------------------------------------------------------------
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
            return alluxio_env(cluster, snap)
        case "workers_file":
            return workers_file(cluster, snap)
        case "launcher":
            return launcher(cluster, snap)
        case "services":
            return services(cluster, name, snap, master_snap)
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
    return NODE_RESOURCES + (MASTER_RESOURCES if name == cluster.master else ())


def node_verdicts(
    cluster: Cluster, name: str, nodes: Mapping[str, NodeSnapshot | None]
) -> dict[str, Verdict]:
    """Every resource of node ``name``; ``nodes`` holds the snapshots of all nodes."""
    return {r: verdict_of(cluster, name, r, nodes) for r in resources_of(cluster, name)}
