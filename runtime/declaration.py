"""The declaration as pyinfra gives it: the :class:`~cluster.Cluster` built from pyinfra's
inventory and data (with pyinfra's precedence, and where each value was set), once per process,
validated right after pyinfra loaded the inventory and before its first connection."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

import tarball
from cluster import DATA_KEYS, MASTER_GROUP, WORKERS_GROUP, Cluster, InventoryError, declare
from runtime import limits, pyinfra_patches

_UNSET: Any = object()
# Why a data key cannot differ per host, where the reason is not obvious
_SAME = {
    "alluxio_tiers": (
        " (one alluxio-site.properties serves every node, as in 1.x; give workers with other disks "
        "the same tier folders, as mount points or links)"
    ),
    "alluxio_site": " (one alluxio-site.properties serves every node, as in 1.x)",
}
_CURRENT: Cluster | None = None


def current() -> Cluster:
    """The cluster of this process: built (once) from pyinfra's inventory, see :func:`build`."""
    global _CURRENT
    if _CURRENT is None:
        from pyinfra.context import ctx_state

        inventory = getattr(ctx_state.get(), "inventory", None) if ctx_state.isset() else None
        if inventory is None:
            raise InventoryError("no cluster declared: use the project's inventory.py")
        _CURRENT = build(inventory)
    return _CURRENT


def known_data_keys() -> set[str]:
    from pyinfra.api.arguments import all_global_arguments
    from pyinfra.connectors.ssh import connector_data_meta

    return set(DATA_KEYS) | set(connector_data_meta) | {n for n, _ in all_global_arguments()}


# Hosts every node must resolve without being managed, as inventory.py declares them.
_RESOLVE_ONLY: dict[str, str] = {}


def resolve_also(hosts: Mapping[str, str]) -> None:
    """Called by inventory.py: names (-> addresses) every node resolves, not managed."""
    _RESOLVE_ONLY.clear()
    _RESOLVE_ONLY.update(hosts)


def validate_before_connecting() -> None:
    """Called by inventory.py: build the cluster from pyinfra's inventory (its groups and its
    merged data, with pyinfra's precedence) once pyinfra has loaded it, and refuse a bad one
    before any host is contacted. pyinfra offers no hook between loading the inventory and
    connecting, so its state's ``init`` (which comes in between) is wrapped, on this run's
    state only."""
    from pyinfra.context import ctx_state

    from refusal import RefusedError

    if not ctx_state.isset():
        return

    def validate() -> None:
        try:
            current()
        except InventoryError as error:
            raise RefusedError(f"inventory: {error}") from None
        if why := limits.open_files(len(ctx_state.get().inventory)):
            raise RefusedError(f"inventory: {why}")

    pyinfra_patches.after_init(ctx_state.get(), validate)


def data_source(inventory: Any, host: Any, key: str) -> str | None:
    """Where ``host``'s value of ``key`` comes from, in pyinfra's order of precedence."""
    if key in inventory.get_override_data():
        return "--data"
    if key in inventory.get_host_data(host.name):
        return f"host {host.name}'s data in the inventory"
    for group in reversed(host.groups):
        if key in inventory.get_group_data(group):
            return f"group_data/{group}.py"
    if key in inventory.get_data():
        return "group_data/all.py"
    return None


def build(inventory: Any) -> Cluster:
    """The :class:`Cluster` of a pyinfra inventory: the master is the one host of the group
    ``alluxio_master``, the workers the hosts of ``alluxio_workers`` (a host may be in both),
    other hosts (``alluxio_retired``) are managed but run no daemon. The tool's data keys are
    read as pyinfra reads any data (``--data``, host data, group data, ``group_data/all.py``)
    and must be the same for every host. Raises :class:`InventoryError` naming what is wrong
    and where it was set."""
    hosts = list(inventory)
    known = known_data_keys()
    layers = [("--data", inventory.get_override_data())]
    layers += [(f"host {h.name}'s data in the inventory", inventory.get_host_data(h.name)) for h in hosts]
    layers += [(f"group_data/{g}.py", inventory.get_group_data(g)) for g in inventory.groups]
    layers += [("group_data/all.py", inventory.get_data())]
    for where, data in layers:
        for key in data:
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
            if key not in known and close:
                raise InventoryError(f"{where}: unknown data key {key!r} (did you mean {close[0]!r}?)")
    masters = [h.name for h in inventory.get_group(MASTER_GROUP, [])]  # the first one first
    # by name: pyinfra keeps a group's hosts in the inventory's order, not the group's own
    workers = sorted(h.name for h in inventory.get_group(WORKERS_GROUP, []))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key in DATA_KEYS:
        seen = {h.name: (h.data.get(key, _UNSET), data_source(inventory, h, key)) for h in hosts}
        distinct = {repr(v) for v, _ in seen.values()}
        if len(distinct) > 1:
            shown = "; ".join(
                f"{n}: {'unset' if v is _UNSET else repr(v)} ({src or 'default'})"
                for n, (v, src) in seen.items()
            )
            raise InventoryError(f"{key}: must be the same for every host, but {shown}{_SAME.get(key, '')}")
        value, source = next(iter(seen.values()), (_UNSET, None))
        if value is not _UNSET:
            values[key], sources[key] = value, source or "--data"
    global _CURRENT
    _CURRENT = declare(
        [(h.name, {"ssh_hostname": h.data.get("ssh_hostname", h.name)}) for h in hosts],
        masters,
        workers,
        dict(_RESOLVE_ONLY),
        values,
        sources,
        tarball.read,
    )
    return _CURRENT
