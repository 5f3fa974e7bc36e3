"""The desired state of the cluster: one pydantic model, validated before any host is contacted.

``inventory.py`` declares the topology; ``runtime/declaration.py`` hands pyinfra's inventory and
data to :func:`declare`, and the deploy, the dry run and the drift report all read the same
:class:`Cluster` (``runtime.declaration.current``). The model only validates and derives: every
desired file content, path and list the facts are compared with comes from here.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

import alluxio_site
import tiers as tiering
from layout import (
    DATA_FOLDER,
    LAUNCHER_PATH,
    MANAGED_BY,
    MANAGED_MODES,
    PATCHED,
    REST_PREFIX,
    SECRET_SITE_MODE,
    SITE_PATH,
    SUPPORTED_VERSIONS,
    UNPATCHED,
    launcher_shape,
    patch_launcher,
    ram_folder,
)
from tiers import Tier

DATA_KEYS: dict[str, str] = {
    "alluxio_tarball": "local path of the release tarball (required)",
    "alluxio_env": "extra conf/alluxio-env.sh variables, a JSON object of NAME: value",
    "alluxio_underfs_address": "under storage address (default hdfs://server03:8020/alluxio)",
    "alluxio_version": f"release version, one of {', '.join(SUPPORTED_VERSIONS)} (default 1.2.0)",
    "alluxio_accept_new_host_keys": "true: trust a node's changed host key (default false)",
    "alluxio_restart": "how workers restart for a change that concerns them: rolling (default) or all",
    "alluxio_health_seconds": "how long a (re)started worker may take to be live on the master (default 30)",
    "alluxio_master_start_seconds": "how long a (re)started master may take to serve (default 600)",
    "alluxio_site": "conf/alluxio-site.properties, a JSON object of key: value (the release's keys)",
    "alluxio_site_deliberate": "keys of alluxio_site the release does not know, written anyway (a list)",
    "alluxio_tiers": "the workers' storage tiers, a list of {alias, dirs, quotas[, reserved_ratio]}",
    "alluxio_heal_restarts_master": "true: drift.py --heal may restart the master (default false)",
    "alluxio_heal_expect": "set by drift.py --heal for the converge it runs: the drift it decided on",
    "alluxio_zookeeper": "fault-tolerant masters: ZooKeeper's servers, host:port[,host:port...]",
    "alluxio_journal_folder": "fault-tolerant masters: the journal folder every master shares (a mount)",
}
# A worker that cannot reach a master for alluxio.worker.block.heartbeat.timeout.ms stops its
# heartbeat for good (10 s in 1.2.0, section 11.3), less than a failover takes (a session's
# timeout, up to 40 s with ZooKeeper's stock settings, and a journal's replay). With several
# masters the tool sets what Alluxio's own Vagrant deploy sets then, unless alluxio_site does.
FAILOVER_HEARTBEAT_TIMEOUT_MS = "1000000"
RESTART_MODES = ("rolling", "all")
# alluxio-env.sh variables that only workers read (a change restarts workers only), and those
# only the master reads; every other variable concerns both.
WORKER_ONLY_ENV = ("ALLUXIO_WORKER_MEMORY_SIZE", "ALLUXIO_RAM_FOLDER", "ALLUXIO_WORKER_JAVA_OPTS")
MASTER_ONLY_ENV = ("ALLUXIO_MASTER_JAVA_OPTS",)
DEFAULT_UNDERFS = "hdfs://server03:8020/alluxio"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$", re.I)
_SHELL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_ENV = ("ALLUXIO_MASTER_HOSTNAME", "ALLUXIO_UNDERFS_ADDRESS")


class InventoryError(ValueError):
    """The inventory or its data is wrong; the message names the field and the host."""


class Member(BaseModel):
    """One entry of the release tarball, relative to the release folder."""

    model_config = ConfigDict(frozen=True)
    path: str
    kind: str  # "f" file, "d" folder, "l" symlink
    size: int
    mode: str = ""  # octal permission bits, e.g. "755"
    sha256: str | None = None  # of a file's content


class Tarball(BaseModel):
    """The release tarball on the operator's machine, read once."""

    model_config = ConfigDict(frozen=True)
    local_path: str
    sha256: str
    size: int
    tar_size: int  # bytes of the tar inside the gzip
    top: str
    members: tuple[Member, ...]
    launcher: str  # bin/alluxio-workers.sh as shipped


class Node(BaseModel):
    """A managed host: its inventory name and the address every node resolves it to."""

    model_config = ConfigDict(frozen=True)
    name: str
    address: str


class Cluster(BaseModel):
    """The desired state. Built by :func:`declare`; everything else is derived."""

    model_config = ConfigDict(frozen=True)
    nodes: tuple[Node, ...]
    master: str  # the first master: the tarball's first stop, the keeper of the lock and the keys
    workers: tuple[str, ...]
    resolve_only: tuple[Node, ...]
    tarball: Tarball
    version: str
    env: tuple[tuple[str, str], ...]
    underfs_address: str
    accept_new_host_keys: bool = False
    restart: str = "rolling"
    health_seconds: int = 30
    master_start_seconds: int = 600
    install_root: str = "/opt"
    site: tuple[tuple[str, str], ...] = ()  # alluxio_site, checked
    tiers: tuple[Tier, ...] = ()  # alluxio_tiers, level 0 first
    heal_restarts_master: bool = False
    heal_expect: str = ""  # a converge the self-heal runs: the drift it may repair
    masters: tuple[str, ...] = ()  # every master, the first one first; () is (master,)
    zookeeper: str = ""  # fault tolerance: ZooKeeper's connect string
    journal_folder: str = ""  # fault tolerance: the folder every master shares

    @property
    def all_masters(self) -> tuple[str, ...]:
        return self.masters or (self.master,)

    @property
    def fault_tolerant(self) -> bool:
        """Masters elect a leader through ZooKeeper (one or more of them)."""
        return bool(self.zookeeper)

    @property
    def zookeeper_servers(self) -> tuple[str, ...]:
        return tuple(s for s in self.zookeeper.split(",") if s)

    def is_master(self, name: str) -> bool:
        return name in self.all_masters

    # ----- names and paths -------------------------------------------------------------
    @property
    def release(self) -> str:
        return f"alluxio-{self.version}"

    @property
    def install_dir(self) -> str:
        return f"{self.install_root}/{self.release}"

    @property
    def remote_tarball(self) -> str:
        return f"{self.install_root}/{Path(self.tarball.local_path).name}"

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Cluster:
        """A copy, its derived values (``cached_property``) derived again from its own fields:
        pydantic copies them as they were."""
        copied = super().model_copy(update=update, deep=deep)
        for name in [n for n, v in vars(type(self)).items() if isinstance(v, cached_property)]:
            copied.__dict__.pop(name, None)
        return copied

    def node(self, name: str) -> Node:
        return self._nodes_by_name[name]

    @cached_property  # asked per node and per resource: computed once for a model of many nodes
    def _nodes_by_name(self) -> dict[str, Node]:
        return {n.name: n for n in self.nodes}

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(n.name for n in self.nodes)

    # ----- desired contents ------------------------------------------------------------
    @cached_property
    def host_entries(self) -> dict[str, str]:
        """Every name that must resolve on every node -> its address."""
        return {n.name: n.address for n in (*self.nodes, *self.resolve_only)}

    @property
    def workers_file(self) -> str:
        return f"{MANAGED_BY}\n" + "".join(f"{w}\n" for w in self.workers)

    def alluxio_env_of(self, name: str) -> str:
        """Node ``name``'s conf/alluxio-env.sh."""
        lines = [f"{key}={shlex.quote(value)}" for key, value in self.env_settings_of(name).items()]
        return "#!/usr/bin/env bash\n" + MANAGED_BY + "\n" + "\n".join(lines) + "\n"

    @property
    def launcher_needs_patch(self) -> bool:
        """Releases before 1.3.0 ship ``ssh -t`` (Alluxio issue #3891, fixed by PR #3630)."""
        return _version_tuple(self.version) < (1, 3, 0)

    @cached_property
    def launcher(self) -> str:
        """The launcher every node must have: the shipped one, patched where needed."""
        if not self.launcher_needs_patch:
            return self.tarball.launcher
        return patch_launcher(self.tarball.launcher)

    @property
    def ram_folder(self) -> str:
        return ram_folder(self.env_settings)

    @property
    def env_settings(self) -> dict[str, str]:
        """What conf/alluxio-env.sh sets on every node alike (level 0 of the tiers stands for two)."""
        return {
            "ALLUXIO_UNDERFS_ADDRESS": self.underfs_address,
            **tiering.env_settings(self.tiers),
            **dict(self.env),
        }

    def env_settings_of(self, name: str) -> dict[str, str]:
        """Every variable node ``name``'s conf/alluxio-env.sh sets. ALLUXIO_MASTER_HOSTNAME: the
        master; with fault tolerance each master's own name, and none on a worker that is no
        master (workers ask ZooKeeper for the leader)."""
        if not self.fault_tolerant:
            hostname: str | None = self.master
        else:
            hostname = name if self.is_master(name) else None
        return {**({"ALLUXIO_MASTER_HOSTNAME": hostname} if hostname else {}), **self.env_settings}

    @property
    def site_properties(self) -> dict[str, str]:
        """Every key conf/alluxio-site.properties sets: the tiers', fault tolerance's, then
        alluxio_site's."""
        ft: dict[str, str] = {}
        if self.fault_tolerant:
            ft = {
                "alluxio.zookeeper.enabled": "true",
                "alluxio.zookeeper.address": self.zookeeper,
                "alluxio.master.journal.folder": self.journal_folder,
                "alluxio.worker.block.heartbeat.timeout.ms": FAILOVER_HEARTBEAT_TIMEOUT_MS,
            }
        return {**tiering.properties(self.tiers), **ft, **dict(self.site)}

    @property
    def alluxio_site(self) -> str:
        return alluxio_site.render(self.site_properties)

    @property
    def site_mode(self) -> str:
        """Not world-readable when it holds an under storage's credentials."""
        secret = any(alluxio_site.is_secret(self.version, k) for k in self.site_properties)
        return SECRET_SITE_MODE if secret else MANAGED_MODES[SITE_PATH]

    @property
    def data_folder(self) -> str:
        """The folder a worker keeps its blocks in, inside each tier folder."""
        return self.site_properties.get("alluxio.worker.data.folder", DATA_FOLDER)

    @property
    def tier_dirs(self) -> tuple[tuple[Tier, str, str], ...]:
        """Each disk tier's folders with their quotas (level 0 is the RAM folder)."""
        return tuple((t, d, q) for t in self.tiers[1:] for d, q in zip(t.dirs, t.quotas, strict=True))

    @property
    def worker_list_path(self) -> str:
        return f"{REST_PREFIX}/master/worker_info_list"


# ----- building and validating -----------------------------------------------------------
MASTER_GROUP, WORKERS_GROUP = "alluxio_master", "alluxio_workers"  # any other host: managed, no daemon


def declare(
    hosts: Sequence[tuple[str, Mapping[str, Any]]],
    master: str | Sequence[str],
    workers: Sequence[str],
    resolve_only: Mapping[str, str],
    data: Mapping[str, Any],
    sources: Mapping[str, str] | None = None,
    read_tarball: Callable[[str, str, str], Tarball] | None = None,
) -> Cluster:
    """Validate the inventory and its data and build the :class:`Cluster`: nothing else (the
    tarball is read by ``read_tarball``, :func:`tarball.read` unless another is given).

    ``hosts`` are the managed hosts as pyinfra inventory entries (name, host data); ``master``
    the master, or the masters (the first one first); ``data`` the tool's data keys,
    ``sources`` where each was set (``--data`` by default). Raises
    :class:`InventoryError` naming the field, the host and the source.
    """
    all_data = dict(data)

    def where(key: str) -> str:
        return (sources or {}).get(key, "--data")

    nodes: list[Node] = []
    seen_addresses: dict[str, str] = {}
    for name, host_data in hosts:
        _check_label(name, f"host {name!r}")
        if any(n.name == name for n in nodes):
            raise InventoryError(f"host {name}: declared twice")
        address = host_data.get("ssh_hostname", name)
        nodes.append(Node(name=name, address=_check_ipv4(address, f"host {name}: ssh_hostname")))
    extra: list[Node] = []
    for name, address in resolve_only.items():
        _check_label(name, f"resolve-only host {name!r}")
        if any(n.name == name for n in nodes):
            raise InventoryError(f"host {name}: declared twice (managed and resolve-only)")
        extra.append(Node(name=name, address=_check_ipv4(address, f"resolve-only host {name}")))
    for n in (*nodes, *extra):
        if n.address in seen_addresses:
            raise InventoryError(
                f"host {n.name}: address {n.address} is already host {seen_addresses[n.address]}'s"
            )
        seen_addresses[n.address] = n.name

    managed = {n.name for n in nodes}
    masters = (master,) if isinstance(master, str) else tuple(master)
    if not masters or not all(masters):
        raise InventoryError(f"group {MASTER_GROUP}: no master declared")
    for m in masters:
        if m not in managed:
            why = "resolve-only, not managed" if m in resolve_only else "not in the inventory"
            raise InventoryError(f"group {MASTER_GROUP}: host {m} is {why}")
    if len(set(masters)) != len(masters):
        twice = sorted({m for m in masters if masters.count(m) > 1})
        raise InventoryError(f"group {MASTER_GROUP}: listed twice: {twice}")
    if not workers:
        raise InventoryError(f"group {WORKERS_GROUP}: no workers declared")
    for worker in workers:
        if worker not in managed:
            why = "resolve-only, not managed" if worker in resolve_only else "not in the inventory"
            raise InventoryError(f"group {WORKERS_GROUP}: host {worker} is {why}")
    if len(set(workers)) != len(workers):
        raise InventoryError(
            f"group {WORKERS_GROUP}: listed twice: {sorted({w for w in workers if workers.count(w) > 1})}"
        )

    version = str(all_data.get("alluxio_version", "1.2.0"))
    if version not in SUPPORTED_VERSIONS:
        raise InventoryError(
            f"{where('alluxio_version')} alluxio_version={version!r}: this tool supports Alluxio "
            f"{' and '.join(SUPPORTED_VERSIONS)} only"
        )
    tarball_path = all_data.get("alluxio_tarball")
    if not tarball_path or not isinstance(tarball_path, str):
        raise InventoryError(
            "alluxio_tarball: required (local path of the release tarball), in --data or group_data/all.py"
        )
    env = _check_env(all_data.get("alluxio_env", {}), where("alluxio_env"))
    underfs = all_data.get("alluxio_underfs_address", DEFAULT_UNDERFS)
    if not isinstance(underfs, str) or not underfs or any(c in underfs for c in "\n\0"):
        raise InventoryError(
            f"{where('alluxio_underfs_address')} alluxio_underfs_address={underfs!r}: one line of text"
        )
    accept = all_data.get("alluxio_accept_new_host_keys", False)
    if not isinstance(accept, bool):
        raise InventoryError(
            f"{where('alluxio_accept_new_host_keys')} alluxio_accept_new_host_keys={accept!r}: true or false"
        )
    restart = all_data.get("alluxio_restart", "rolling")
    if restart not in RESTART_MODES:
        raise InventoryError(
            f"{where('alluxio_restart')} alluxio_restart={restart!r}: one of {', '.join(RESTART_MODES)}"
        )
    health = all_data.get("alluxio_health_seconds", 30)
    if isinstance(health, bool) or not isinstance(health, int) or not 1 <= health <= 3600:
        raise InventoryError(
            f"{where('alluxio_health_seconds')} alluxio_health_seconds={health!r}: whole seconds, 1 to 3600"
        )
    master_start = all_data.get("alluxio_master_start_seconds", 600)
    if isinstance(master_start, bool) or not isinstance(master_start, int) or not 1 <= master_start <= 86400:
        raise InventoryError(
            f"{where('alluxio_master_start_seconds')} alluxio_master_start_seconds={master_start!r}: "
            "whole seconds, 1 to 86400"
        )

    heal_master = all_data.get("alluxio_heal_restarts_master", False)
    if not isinstance(heal_master, bool):
        raise InventoryError(
            f"{where('alluxio_heal_restarts_master')} alluxio_heal_restarts_master={heal_master!r}: "
            "true or false"
        )
    heal_expect = all_data.get("alluxio_heal_expect", "")
    if not isinstance(heal_expect, str) or not re.fullmatch(r"([0-9a-f]{16})?", heal_expect):
        raise InventoryError(
            f"{where('alluxio_heal_expect')} alluxio_heal_expect: set by drift.py --heal only"
        )
    try:
        tiers = tiering.parse(all_data.get("alluxio_tiers"), dict(env), where("alluxio_tiers"))
        site = _check_site(all_data, version, env, tiers, where)
    except ValueError as error:
        raise InventoryError(str(error)) from None
    zookeeper, journal_folder = _check_fault_tolerance(
        all_data, masters, {n.name for n in (*nodes, *extra)}, where
    )

    if read_tarball is None:
        from tarball import read  # it builds this module's Tarball

        read_tarball = read
    tarball = read_tarball(tarball_path, f"alluxio-{version}", where("alluxio_tarball"))
    _check_launcher(tarball, version)
    return Cluster(
        nodes=tuple(nodes),
        master=masters[0],
        workers=tuple(workers),
        resolve_only=tuple(extra),
        tarball=tarball,
        version=version,
        env=env,
        underfs_address=underfs,
        accept_new_host_keys=accept,
        restart=restart,
        health_seconds=health,
        master_start_seconds=master_start,
        site=site,
        tiers=tiers,
        heal_restarts_master=heal_master,
        heal_expect=heal_expect,
        masters=masters if len(masters) > 1 else (),
        zookeeper=zookeeper,
        journal_folder=journal_folder,
    )


_ZK_SERVER = re.compile(r"^([A-Za-z0-9.-]+):([0-9]{1,5})$")


def _check_fault_tolerance(
    data: Mapping[str, Any], masters: tuple[str, ...], names: set[str], where: Callable[[str], str]
) -> tuple[str, str]:
    """``alluxio_zookeeper`` and ``alluxio_journal_folder``: both or neither, and both when
    there is more than one master. ZooKeeper's servers as Curator's connect string, each named
    by an address or a host every node resolves; the journal folder a path every master mounts
    (not in a release folder, which upgrades replace)."""
    raw_zk = data.get("alluxio_zookeeper", "")
    servers = raw_zk.split(",") if isinstance(raw_zk, str) else raw_zk
    if not isinstance(servers, list) or not all(isinstance(s, str) for s in servers):
        raise InventoryError(
            f"{where('alluxio_zookeeper')} alluxio_zookeeper={raw_zk!r}: host:port[,host:port...]"
        )
    servers = [s.strip() for s in servers if s.strip()]
    for server in servers:
        m = _ZK_SERVER.match(server)
        if not m or not 1 <= int(m.group(2)) <= 65535:
            raise InventoryError(
                f"{where('alluxio_zookeeper')} alluxio_zookeeper: {server!r} is not host:port"
            )
        name = m.group(1)
        if not re.fullmatch(r"[0-9.]+", name) and name not in names:
            raise InventoryError(
                f"{where('alluxio_zookeeper')} alluxio_zookeeper: {name} is no host of the inventory: "
                "the nodes resolve only its hosts (add it to RESOLVE_ONLY in inventory.py, or give "
                "its address)"
            )
        if re.fullmatch(r"[0-9.]+", name):
            _check_ipv4(name, f"{where('alluxio_zookeeper')} alluxio_zookeeper: {server!r}")
    folder = data.get("alluxio_journal_folder", "")
    if not isinstance(folder, str):
        raise InventoryError(f"{where('alluxio_journal_folder')} alluxio_journal_folder={folder!r}: a path")
    if len(masters) > 1 and not servers:
        raise InventoryError(
            f"group {MASTER_GROUP}: {len(masters)} masters ({', '.join(masters)}) elect their leader "
            "through ZooKeeper: declare alluxio_zookeeper (host:port[,host:port...])"
        )
    if servers and not folder:
        raise InventoryError(
            "alluxio_journal_folder: required with alluxio_zookeeper: the journal must be in a folder "
            "every master reads and writes (a shared mount), the same path on each"
        )
    if folder and not servers:
        raise InventoryError(
            f"{where('alluxio_journal_folder')} alluxio_journal_folder: for fault-tolerant masters, "
            "with alluxio_zookeeper; one master keeps its journal in its release folder"
        )
    if folder:
        if "://" in folder:
            raise InventoryError(
                f"{where('alluxio_journal_folder')} alluxio_journal_folder={folder!r}: the tool reads "
                "the journal's format marker on the masters, which needs a path there: mount the "
                "shared storage (NFS) and give its path"
            )
        if not folder.startswith("/") or not re.fullmatch(r"(/[A-Za-z0-9_.-]+)+/?", folder) or ".." in folder:
            raise InventoryError(
                f"{where('alluxio_journal_folder')} alluxio_journal_folder={folder!r}: an absolute "
                "path of letters, digits, '.', '_' and '-'"
            )
        root = Cluster.model_fields["install_root"].default.strip("/")
        parts = folder.strip("/").split("/")
        if parts[0] == root and len(parts) > 1 and parts[1].startswith("alluxio-"):
            raise InventoryError(
                f"{where('alluxio_journal_folder')} alluxio_journal_folder={folder!r}: inside a "
                "release folder, which an upgrade replaces; give a folder of its own"
            )
        folder = folder.rstrip("/") + "/"
    return ",".join(servers), folder


def _check_site(
    data: Mapping[str, Any],
    version: str,
    env: tuple[tuple[str, str], ...],
    tiers: tuple[Tier, ...],
    where: Callable[[str], str],
) -> tuple[tuple[str, str], ...]:
    raw = data.get("alluxio_site", {})
    if not isinstance(raw, Mapping):
        raise InventoryError(f"{where('alluxio_site')} alluxio_site={raw!r}: a JSON object of key: value")
    deliberate = data.get("alluxio_site_deliberate", [])
    if not isinstance(deliberate, list) or not all(isinstance(k, str) for k in deliberate):
        raise InventoryError(
            f"{where('alluxio_site_deliberate')} alluxio_site_deliberate={deliberate!r}: a JSON list of keys"
        )
    site: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", key):
            raise InventoryError(f"{where('alluxio_site')} alluxio_site[{key!r}]: not a property key")
        if isinstance(value, bool):
            value = "true" if value else "false"
        if not isinstance(value, (str, int, float)):
            raise InventoryError(
                f"{where('alluxio_site')} alluxio_site[{key!r}]={value!r}: a string or a number"
            )
        site[key] = str(value)
    options = alluxio_site.java_options(dict(env))
    alluxio_site.check_java_options(version, options, where("alluxio_env"))
    alluxio_site.check(version, site, deliberate, options, where("alluxio_site"))
    for key in tiering.properties(tiers):
        if key in options:
            raise InventoryError(
                f"{where('alluxio_env')} alluxio_env[{options[key]!r}]: -D{key} would win over "
                f"{where('alluxio_tiers')} alluxio_tiers; declare the tiers in one place"
            )
    folder = site.get("alluxio.worker.data.folder")
    if folder is not None and not re.fullmatch(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*/?", folder):
        raise InventoryError(
            f"{where('alluxio_site')} alluxio_site['alluxio.worker.data.folder']={folder!r}: a folder name "
            "inside each tier folder (letters, digits, '.', '_', '-')"
        )
    stale = [k for k in deliberate if k not in site]
    if stale:
        raise InventoryError(
            f"{where('alluxio_site_deliberate')} alluxio_site_deliberate: {stale[0]!r} is not in alluxio_site"
        )
    return tuple(site.items())


def _check_launcher(tarball: Tarball, version: str) -> None:
    """The tarball's launcher has the ssh line of its release: ``-t ${worker}`` before 1.3.0,
    ``-tt ${worker}`` from 1.3.0 (PR #3630). Anything else is not a release this tool knows."""
    shape = launcher_shape(tarball.launcher)
    wanted = UNPATCHED if _version_tuple(version) < (1, 3, 0) else PATCHED
    if shape != wanted:
        form = "ssh ... -t ${worker}" if wanted == UNPATCHED else "ssh ... -tt ${worker}"
        raise InventoryError(
            f"data alluxio_tarball={tarball.local_path!r}: its {LAUNCHER_PATH} has no `{form}` line "
            f"(the {version} launcher has one); not a release this tool knows, nothing to patch"
        )


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _check_label(name: str, where: str) -> None:
    if not isinstance(name, str) or not _LABEL.match(name):
        raise InventoryError(
            f"{where}: not a valid DNS label (letters, digits and '-', 1-63 characters, "
            "no leading or trailing '-')"
        )


def _check_ipv4(address: Any, where: str) -> str:
    try:
        return str(ipaddress.IPv4Address(address))
    except (ipaddress.AddressValueError, ValueError):
        raise InventoryError(f"{where}={address!r}: not an IPv4 address") from None


def _check_env(env: Any, source: str = "--data") -> tuple[tuple[str, str], ...]:
    if not isinstance(env, Mapping):
        raise InventoryError(f"{source} alluxio_env={env!r}: a JSON object of NAME: value")
    checked = []
    for name, value in env.items():
        where = f"{source} alluxio_env[{name!r}]"
        if not isinstance(name, str) or not _SHELL_NAME.match(name):
            raise InventoryError(f"{where}: not a shell variable name")
        if name in _RESERVED_ENV:
            raise InventoryError(f"{where}: set by the tool from the inventory; use the inventory")
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise InventoryError(f"{where}={value!r}: a string or a number")
        text = str(value)
        if "\n" in text or "\r" in text or "\0" in text:
            raise InventoryError(f"{where}: the value has a newline or NUL")
        if name == "ALLUXIO_WORKER_MEMORY_SIZE" and not alluxio_site.is_size(text):
            raise InventoryError(
                f"{where}={text!r}: a size such as 512MB or 1GB (B, KB, MB, GB, TB or PB, no blank: "
                "the worker fails on anything else)"
            )
        if name == "ALLUXIO_RAM_FOLDER" and (not text.startswith("/") or "," in text):
            raise InventoryError(
                f"{where}={text!r}: one absolute folder (alluxio-mount.sh mounts it as one ramfs; "
                "a comma would be part of its name, Alluxio #8687)"
            )
        checked.append((name, text))
    return tuple(checked)
