"""Everything one node's resources need to decide, read in one remote command.

pyinfra runs every fact as its own command and caches none of them, so a deploy reading ten
facts pays ten round trips per host per phase. :class:`NodeState` runs the commands of all the
resource facts in one shell, separated by markers, and hands each section to that fact's own
``process``: the facts stay small and testable, the host pays one round trip.

``runtime/run.py`` keeps each node's state for the run and reads it again only after an
operation changed that node, so dry run, converge and drift report all decide on the same
reading, and a no-op converge costs one command per host.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pyinfra.api import FactBase
from typing_extensions import override

from facts.applied import AppliedRecord
from facts.conf import (
    AlluxioEnv,
    EnvState,
    ShadowingSiteFiles,
    SiteProperties,
    SiteState,
    WorkersFile,
    WorkersState,
)
from facts.hosts import EtcHosts, HostsFile
from facts.journal import JournalFolder, SharedJournal
from facts.probe import lines_from_tar, tar_command, tar_members
from facts.release import (
    InstallDir,
    InstallState,
    Launcher,
    LauncherState,
    Releases,
    ReleasesState,
    TarballFile,
    TarballState,
)
from facts.services import Services, ServicesState
from facts.ssh import (
    AuthorizedKeys,
    AuthorizedKeysFile,
    ChainSockets,
    HostKeys,
    KeyPair,
    KeyPairs,
    KnownHosts,
    KnownHostsFile,
    PublicKey,
)
from facts.tiers import TierDir, TierDirs
from facts.tools import Tools, ToolsState
from facts.zookeeper import ZooKeeperAnswers

SEPARATOR = "@@alluxio-reconcile@@"
FILES = "files"
PATHS = "paths"


@dataclass(frozen=True)
class NodeSnapshot:
    etc_hosts: HostsFile
    authorized_keys: AuthorizedKeysFile
    host_keys: tuple[PublicKey, ...]
    tarball: TarballState
    install: InstallState
    launcher: LauncherState
    workers_file: WorkersState
    alluxio_env: EnvState
    services: ServicesState
    tools: ToolsState
    applied: dict[str, str]  # resource -> fingerprint the last converge applied
    releases: ReleasesState = field(default_factory=Releases.default)
    chain_sockets: tuple[str, ...] = ()  # the chain's links a killed run left open
    key_pairs: KeyPairs | None = None  # the master's only
    known_hosts: KnownHostsFile | None = None  # the master's only
    alluxio_site: SiteState = field(default_factory=SiteProperties.default)
    shadowing_site: tuple[str, ...] = ()  # site files 1.x would load instead of conf/'s
    tier_dirs: tuple[TierDir, ...] = ()  # a worker's disk tier folders
    shared_journal: JournalFolder = field(default_factory=SharedJournal.default)  # a master's, shared
    zookeeper: dict[str, str] = field(default_factory=dict)  # a master's view: server -> mode ("": silent)


def _parts(
    install_dir: str,
    tarball: str,
    master: bool,
    worker_list_path: str,
    java: str = "",
    tier_dirs: tuple[str, ...] = (),
    data_folder: str = "alluxioworker",
    journal_folder: str = "",
    zookeeper: tuple[str, ...] = (),
) -> list[tuple[str, FactBase, dict[str, Any]]]:
    root = install_dir.rpartition("/")[0] or "/"
    parts: list[tuple[str, FactBase, dict[str, Any]]] = [
        ("etc_hosts", EtcHosts(), {}),
        ("authorized_keys", AuthorizedKeys(), {}),
        ("host_keys", HostKeys(), {}),
        ("tarball", TarballFile(), {"path": tarball}),
        ("install", InstallDir(), {"install_dir": install_dir}),
        ("launcher", Launcher(), {"install_dir": install_dir}),
        ("workers_file", WorkersFile(), {"install_dir": install_dir}),
        ("alluxio_env", AlluxioEnv(), {"install_dir": install_dir}),
        ("alluxio_site", SiteProperties(), {"install_dir": install_dir}),
        ("shadowing_site", ShadowingSiteFiles(), {}),
        ("tier_dirs", TierDirs(), {"dirs": tier_dirs, "data_folder": data_folder}),
        (
            "services",
            Services(),
            {"worker_list_path": worker_list_path},  # a master's (each master's, fault-tolerant)
        ),
        ("tools", Tools(), {"folder": root, "java": java}),
        ("applied", AppliedRecord(), {}),
        ("releases", Releases(), {"install_root": root}),
        ("chain_sockets", ChainSockets(), {}),
    ]
    if master:
        parts += [("key_pairs", KeyPair(), {}), ("known_hosts", KnownHosts(), {})]
    if journal_folder:
        parts.append(("shared_journal", SharedJournal(), {"folder": journal_folder}))
    if zookeeper:
        parts.append(("zookeeper", ZooKeeperAnswers(), {"servers": zookeeper}))
    return parts


class NodeState(FactBase[NodeSnapshot | None]):
    """
    Returns a :class:`NodeSnapshot`: every resource fact of one node, from one command.

    + install_dir: where the release is extracted (``/opt/alluxio-1.2.0``)
    + tarball: where the release tarball lies on the node
    + master: also read the key pair, known_hosts and the live workers
    + worker_list_path: a master's REST path listing live workers
    + java: the JAVA set in alluxio-env.sh, if any (checked instead of the PATH's java)
    + tier_dirs: a worker's disk tier folders
    + data_folder: where in each its worker keeps its blocks (``alluxio.worker.data.folder``)
    + journal_folder: a fault-tolerant master's shared journal folder
    + zookeeper: the ZooKeeper servers a fault-tolerant master asks (``host:port``)
    """

    @override
    def command(
        self,
        install_dir: str,
        tarball: str,
        master: bool = False,
        worker_list_path: str = "",
        java: str = "",
        tier_dirs: tuple[str, ...] = (),
        data_folder: str = "alluxioworker",
        journal_folder: str = "",
        zookeeper: tuple[str, ...] = (),
    ) -> str:
        dirs, zk = tuple(tier_dirs), tuple(zookeeper)
        lists = worker_list_path
        parts = _parts(install_dir, tarball, master, lists, java, dirs, data_folder, journal_folder, zk)
        # The facts that read files get them from one tar (see facts.probe), the rest run as is.
        files = [
            path for _, fact, kwargs in parts if hasattr(fact, "items") for _, path in fact.items(**kwargs)
        ]
        sections = [
            f"echo '{SEPARATOR} {PATHS}'; printf '%s\\n' {shlex.quote(install_dir)} {shlex.quote(tarball)}",
            f"echo '{SEPARATOR} {FILES}'; {tar_command(files)}",
        ] + [
            f"echo '{SEPARATOR} {name}'; {{ {fact.command(**kwargs)}; }} 2>/dev/null"
            for name, fact, kwargs in parts
            if not hasattr(fact, "items")
        ]
        return "; ".join(sections) + "; true"

    @override
    def process(self, output: Iterable[str]) -> NodeSnapshot | None:
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for raw in output:
            line = raw.rstrip("\r")  # read through a pseudo-terminal (sudo under requiretty): CRLF
            if line.startswith(SEPARATOR + " "):
                current = sections.setdefault(line.split(" ", 1)[1].strip(), [])
            elif current is not None:
                current.append(line)
        if "etc_hosts" not in sections and FILES not in sections:
            return None  # the command did not run
        master = "key_pairs" in sections
        paths = _paths_of(sections)
        values = {}
        # (the shared journal's folder is in its own output: any name asks for its part)
        journal = "-" if "shared_journal" in sections else ""
        zk = ("-",) if "zookeeper" in sections else ()
        files = tar_members("".join(sections.get(FILES, [])))  # once, for every fact that reads files
        for name, fact, kwargs in _parts(*paths, master, "", journal_folder=journal, zookeeper=zk):
            if hasattr(fact, "items") and FILES in sections:
                sections[name] = lines_from_tar(files, fact.items(**kwargs))
            values[name] = fact.process(sections[name]) if sections.get(name) else fact.default()
        return NodeSnapshot(**values)


def _paths_of(sections: dict[str, list[str]]) -> tuple[str, str]:
    """The install folder and tarball path the command was built with (it prints them; output
    recorded before it did has no files section either, and needs none)."""
    given = sections.get(PATHS) or ["", ""]
    return given[0], given[1]
