"""Inventories for other cluster sizes: the project's inventory.py with its topology replaced."""

from __future__ import annotations

from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def inventory_variant(folder: Path, **topology: str) -> Path:
    """Write ``folder/inventory.py``: the project's inventory.py with the given topology lines
    (``hosts``, ``MASTER``, ``WORKERS``, ``RESOLVE_ONLY``) replaced by Python source text."""
    text = (PROJECT / "inventory.py").read_text()
    for name, value in topology.items():
        start = text.index(f"\n{name} = ") + 1
        line_end = text.index("\n", start)
        end = text.index("\n]\n", start) + 3 if text[line_end - 1] == "[" else line_end + 1
        text = text[:start] + f"{name} = {value}\n" + text[end:]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "inventory.py"
    path.write_text(text)
    return path


def cluster_of(folder: Path, hosts: dict[str, str], master: str) -> Path:
    """An inventory where every host of ``hosts`` (name -> address) is a worker and ``master``
    the master, as in the post (the master is a worker too)."""
    entries = ", ".join(f"({n!r}, {{'ssh_hostname': {a!r}}})" for n, a in hosts.items())
    return inventory_variant(folder, hosts=f"[{entries}]", MASTER=repr(master), WORKERS=repr(list(hosts)))
