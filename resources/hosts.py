"""/etc/hosts: every cluster name resolves on every node."""

from __future__ import annotations

from cluster import Cluster
from facts.node import NodeSnapshot
from facts.probe import FileState
from layout import (
    ETC_HOSTS_MODE,
)
from resources.verdict import (
    Details,
    FileChange,
    Verdict,
    file_status,
    unified,
)

# The last verdicts, by file: every node's file lists every node, and converged they are alike,
# so a cluster of N nodes would otherwise weigh N lines N times over, each time it is asked.
_DECIDED: dict[tuple[int, FileState], tuple[Cluster, Verdict]] = {}


def etc_hosts(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    """Every cluster name resolves to its address; every other line stays as it is. A managed
    name on a line with another address is taken off that line (the line goes if it empties)."""
    key = (id(cluster), snap.etc_hosts.file)
    if (known := _DECIDED.get(key)) and known[0] is cluster:
        return known[1]
    verdict = _decide(cluster, snap)
    if len(_DECIDED) >= 16:
        _DECIDED.clear()
    _DECIDED[key] = (cluster, verdict)
    return verdict


def _decide(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    entries = cluster.host_entries
    text = snap.etc_hosts.file.text or ""
    kept: list[str] = []
    present: set[str] = set()  # names on the kept lines
    for line in snap.etc_hosts.lines:
        wrong = [n for n in line.names if n in entries and entries[n] != line.address]
        if not wrong:
            kept.append(line.raw)
            present.update(line.names)
            continue
        remaining = [n for n in line.names if n not in wrong]
        if remaining:
            eol = line.raw[len(line.raw.rstrip("\r\n")) :]
            comment = line.raw.rstrip("\r\n").partition("#")[2]
            kept.append(f"{line.address}\t{' '.join(remaining)}" + (f"\t#{comment}" if comment else "") + eol)
            present.update(remaining)
    desired = "".join(kept)
    missing = [(n, a) for n, a in entries.items() if n not in present]
    if missing and desired and not desired.endswith("\n"):
        desired += "\n"
    desired += "".join(f"{address}\t{name}\n" for name, address in missing)
    resolved = {n: snap.etc_hosts.resolves(n) for n in entries}
    return Verdict(
        "etc_hosts",
        file_status(snap.etc_hosts.file, desired == text),
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
