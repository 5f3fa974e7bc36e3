"""Alluxio's daemons on a node, and on the master the workers it lists and when each last
sent a heartbeat."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from pyinfra.api import FactBase
from typing_extensions import override

from layout import MASTER_CLASS, WEB_PORT, WORKER_CLASS

# A 1.x master keeps listing a silent worker for alluxio.master.worker.timeout.ms (300 s by
# default); a worker heartbeats every second. Listed, and heard from within this: live.
LIVE_WITHIN_SECONDS = 10


def _class_pattern(name: str) -> str:
    """An awk regex matching the class name whose own text does not contain it: the release's
    ``killAll`` kills every process whose command line holds the name (and "java"), so no
    command of this tool may carry it literally."""
    package, _, cls = name.rpartition(".")
    return package.replace(".", "\\.") + "\\." + f"{cls[0]}[{cls[1]}]{cls[2:]}"


@dataclass(frozen=True)
class WorkerList:
    """The workers a master lists: each listed name with the seconds since its last heartbeat,
    and the address the master resolves that name to (``/etc/hosts``, then DNS). A 1.x worker
    registers under the canonical name of its address (an FQDN where the hosts file puts one
    first), not under the inventory's name: a declared worker is the listed entry with its name
    or its address."""

    ages: dict[str, int]
    addresses: dict[str, str] = field(default_factory=dict)

    def names_of(self, worker: str, address: str) -> list[str]:
        """The listed names that are ``worker`` (declared at ``address``), in the list's order."""
        found = {*self._named_at.get(address, ()), *((worker,) if worker in self.ages else ())}
        return sorted(found, key=self._order.__getitem__)

    @cached_property
    def _named_at(self) -> dict[str, list[str]]:
        # asked once per worker: an index, not a scan of every listed worker each time
        at: dict[str, list[str]] = {}
        for name, address in self.addresses.items():
            if name in self.ages:
                at.setdefault(address, []).append(name)
        return at

    @cached_property
    def _order(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.ages)}

    def age_of(self, worker: str, address: str) -> int | None:
        """Seconds since the master last heard from ``worker``; None: not listed."""
        ages = [self.ages[n] for n in self.names_of(worker, address)]
        return min(ages) if ages else None

    def is_live(self, worker: str, address: str) -> bool:
        """The tool's one rule for "live": listed, and heard from within :data:`LIVE_WITHIN_SECONDS`."""
        age = self.age_of(worker, address)
        return age is not None and age <= LIVE_WITHIN_SECONDS

    def declared(self, nodes: dict[str, str]) -> dict[str, str | None]:
        """Each listed name -> the declared host it is (``nodes``: name -> address), or None."""
        order = {w: i for i, w in enumerate(nodes)}
        at: dict[str, str] = {}  # address -> the first node declared there
        for w, a in nodes.items():
            at.setdefault(a, w)

        def first(n: str) -> str | None:
            found = [w for w in (n if n in nodes else None, at.get(self.addresses.get(n, ""))) if w]
            return min(found, key=order.__getitem__) if found else None

        return {n: first(n) for n in self.ages}


@dataclass(frozen=True)
class ServicesState:
    master_pids: tuple[int, ...]
    worker_pids: tuple[int, ...]
    # the workers the master lists; None: the master's web port did not answer (or was not asked)
    listed: WorkerList | None
    homes: dict[int, str] = field(default_factory=dict)  # pid -> the release folder it runs from
    ram_mounts: dict[str, str] = field(default_factory=dict)  # tmpfs and ramfs mount point -> type

    def homes_of(self, pids: tuple[int, ...]) -> set[str]:
        return {self.homes.get(p, "") for p in pids}

    def is_mount_point(self, folder: str) -> bool:
        """``folder`` itself is a tmpfs or ramfs mount point (a worker's mounted RAM folder)."""
        return folder.rstrip("/") in self.ram_mounts

    def in_memory(self, folder: str) -> bool:
        """``folder`` is, or lies under, a tmpfs or ramfs mount point: the release's own test
        (``is_ram_folder_mounted``) for ``NoMount`` to keep the folder rather than fall back
        to ``/dev/shm``."""
        folder = folder.rstrip("/")
        return any(folder == m or folder.startswith(m.rstrip("/") + "/") for m in self.ram_mounts)


def rest_command(path: str, port: int = WEB_PORT) -> str:
    """Shell printing the body of ``GET path`` on this host's Alluxio web port (bash's
    /dev/tcp, so no curl is needed on the node); prints nothing if nobody answers."""
    script = (
        'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf "GET %s HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n" '
        '"$2" >&3 && cat <&3'
    )
    return f"timeout 5 bash -c {shlex.quote(script)} - {port} {shlex.quote(path)} 2>/dev/null | tail -n 1"


class Services(FactBase[ServicesState]):
    """
    Returns the PIDs of the Alluxio master and worker daemons on this host (JVMs found by their
    main class, as ``alluxio killAll`` finds them) with the release folder each runs from (its
    ``-Dalluxio.home``), every tmpfs and ramfs mount point (where a worker's RAM folder can be
    kept across a restart), and, when
    ``worker_list_path`` is given (on the master), every worker the master lists with the
    seconds since its last heartbeat.
    """

    @override
    @staticmethod
    def default() -> ServicesState:
        return ServicesState((), (), None)

    @override
    def command(self, worker_list_path: str = "") -> str:
        master, worker = _class_pattern(MASTER_CLASS), _class_pattern(WORKER_CLASS)
        home = 'h = "-"; for (i = 2; i <= NF; i++) if ($i ~ /^-Dalluxio[.]home=/) h = substr($i, 16); '
        find = (
            "ps -e -ww -o pid= -o args= | awk "
            + shlex.quote(
                f'/[Jj][Aa][Vv][Aa]/ && / {master}( |$)/ {{ {home}print "pid master", $1, h }} '
                f'/[Jj][Aa][Vv][Aa]/ && / {worker}( |$)/ {{ {home}print "pid worker", $1, h }}'
            )
            + '; awk \'$3 == "tmpfs" || $3 == "ramfs" { print "ram mount", $3, $2 }\' /proc/mounts'
        )
        if not worker_list_path:
            return find
        return f"{find}; {worker_list_command(worker_list_path)}"

    @override
    def process(self, output: Iterable[str]) -> ServicesState:
        masters: list[int] = []
        workers: list[int] = []
        homes: dict[int, str] = {}
        mounts: dict[str, str] = {}
        for line in output:
            words = line.split(" ", 3)
            if words[0] == "pid" and len(words) >= 3 and words[2].isdigit():
                (masters if words[1] == "master" else workers).append(int(words[2]))
                if len(words) == 4 and words[3] != "-":
                    homes[int(words[2])] = words[3]
            elif words[:2] == ["ram", "mount"] and len(words) == 4:
                mounts[_unescape(words[3].strip())] = words[2]
        return ServicesState(tuple(masters), tuple(workers), parse_worker_list(output), homes, mounts)


def _unescape(path: str) -> str:
    """A mount point as /proc/mounts writes it: space, tab, newline and backslash in octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), path)


def worker_list_command(path: str) -> str:
    """Shell on the master printing ``listed BODY`` (the worker list's JSON) and, for each name
    in it, ``resolves NAME ADDRESS`` as the master resolves it (``getent``: /etc/hosts, then DNS;
    no address when nothing resolves it)."""
    return (
        f'b=$({rest_command(path)}); echo "listed $b"; '
        """for n in $(printf '%s' "$b" | grep -o '"host":"[^"]*"' | cut -d'"' -f4 | sort -u); do """
        'echo "resolves $n $(getent ahostsv4 "$n" | head -n 1 | cut -d" " -f1)"; done'
    )


def parse_worker_list(output: Iterable[str]) -> WorkerList | None:
    """The :class:`WorkerList` of :func:`worker_list_command`'s lines (other lines are skipped;
    through a pty, sudo's warnings may come first); None if the body is not a worker list."""
    ages: dict[str, int] | None = None
    addresses: dict[str, str] = {}
    for raw in output:
        line = raw.strip()
        if line.startswith("listed "):
            ages = parse_worker_ages(line[len("listed ") :])
        elif line.startswith("resolves "):
            words = line.split()
            if len(words) == 3:
                addresses[words[1]] = words[2]
    return None if ages is None else WorkerList(ages, addresses)


def parse_worker_ages(body: str) -> dict[str, int] | None:
    """Host -> ``lastContactSec`` of a ``worker_info_list`` JSON body, its last line (the
    freshest entry of a host listed twice); None if it is not one."""
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    try:
        listed: dict[str, int] = {}
        for w in json.loads(lines[-1] if lines else ""):
            host, age = str(w["address"]["host"]), int(w["lastContactSec"])
            listed[host] = min(age, listed.get(host, age))
        return listed
    except (ValueError, TypeError, KeyError):
        return None
