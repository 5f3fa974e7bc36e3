"""The ssh trust: the master's key pair, its key on every node, every node's host keys on the master."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cluster import Cluster
from facts.node import NodeSnapshot
from facts.ssh import SSH_DIR, PublicKey, is_chain_key
from layout import (
    AUTHORIZED_KEYS_MODE,
    KNOWN_HOSTS_MODE,
    PRIVATE_KEY_MODE,
    ROOT,
    SSH_DIR_MODE,
)
from resources.verdict import (
    DRIFTED,
    IN_SYNC,
    MISSING_STATUS,
    Details,
    Verdict,
    digest,
    text_verdict,
)


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
    verdict = text_verdict(
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
    verdict = text_verdict(
        "known_hosts",
        f"{SSH_DIR}/known_hosts",
        file,
        desired,
        f"host keys of {', '.join(wanted)}",
        declared=digest("\n".join(declared)),
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
