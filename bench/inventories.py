"""Inventories for other cluster sizes: the project's inventory.py with its topology replaced."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def inventory_variant(folder: Path, **topology: str) -> Path:
    """Write ``folder/inventory.py``: the project's inventory.py with the given topology lines
    (the groups ``alluxio_master``, ``alluxio_workers``, ``alluxio_retired``, and
    ``RESOLVE_ONLY``) replaced by Python source text."""
    text = (PROJECT / "inventory.py").read_text()
    for name, value in topology.items():
        start = min(i for i in (text.find(f"\n{name} = "), text.find(f"\n{name}: ")) if i >= 0) + 1
        line_end = text.index("\n", start)
        end = text.index("\n]\n", start) + 3 if text[line_end - 1] == "[" else line_end + 1
        text = text[:start] + f"{name} = {value}\n" + text[end:]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.py"
    path.write_text(text)
    return path


def group(hosts: dict[str, str]) -> str:
    """A pyinfra group's source text: (name, {"ssh_hostname": address}) entries."""
    return "[" + ", ".join(f"({n!r}, {{'ssh_hostname': {a!r}}})" for n, a in hosts.items()) + "]"


def cluster_of(
    folder: Path,
    hosts: dict[str, str],
    master: str,
    workers: list[str] | None = None,
    retired: Sequence[str] = (),
) -> Path:
    """An inventory of ``hosts`` (name -> address): ``master`` the master, ``workers`` the
    workers (every host by default, as in the post: the master is a worker too), ``retired``
    managed hosts that run no daemon."""
    chosen = list(hosts) if workers is None else workers
    return inventory_variant(
        folder,
        alluxio_master=group({master: hosts[master]}),
        alluxio_workers=group({w: hosts[w] for w in chosen}),
        alluxio_retired=group({r: hosts[r] for r in retired}),
    )


FAULT_TOLERANT_MASTERS = ("server08", "server07")  # the post's master first, then a second one


def fault_tolerant(folder: Path) -> Path:
    """The post's cluster with a second master (server07), for ZooKeeper's fault tolerance."""
    text = (PROJECT / "inventory.py").read_text()
    addresses = dict(re.findall(r'\("(server\d+)", \{"ssh_hostname": "([0-9.]+)"\}\)', text))
    return inventory_variant(folder, alluxio_master=group({m: addresses[m] for m in FAULT_TOLERANT_MASTERS}))


if __name__ == "__main__":  # python -m bench.inventories fault-tolerant FOLDER (demo.sh --fault-tolerant)
    if sys.argv[1:2] != ["fault-tolerant"] or len(sys.argv) != 3:
        sys.exit("usage: python -m bench.inventories fault-tolerant FOLDER")
    print(fault_tolerant(Path(sys.argv[2])))
