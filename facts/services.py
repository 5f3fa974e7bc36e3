"""Alluxio's daemons on a node, and on the master the workers it counts as live."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

MASTER_CLASS = "alluxio.master.AlluxioMaster"
WORKER_CLASS = "alluxio.worker.AlluxioWorker"
WEB_PORT = 19999


@dataclass(frozen=True)
class ServicesState:
    master_pids: tuple[int, ...]
    worker_pids: tuple[int, ...]
    live_workers: tuple[str, ...] | None  # None: the master's web UI did not answer (or not asked)


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
    Returns the PIDs of the Alluxio master and worker daemons on this host (found by their class
    name, as ``alluxio-stop.sh`` finds them) and, when ``worker_list_path`` is given (on the
    master), the hosts of the workers the master counts as live.
    """

    @override
    @staticmethod
    def default() -> ServicesState:
        return ServicesState((), (), None)

    @override
    def command(self, worker_list_path: str = "") -> str:
        find = (
            "ps -e -ww -o pid= -o args= | awk '{for (i = 2; i <= NF; i++) "
            f'if ($i == "{MASTER_CLASS}" || $i == "{WORKER_CLASS}") {{ print "pid", $i, $1; break }} }}\''
        )
        if not worker_list_path:
            return find
        return f'{find}; echo "live $({rest_command(worker_list_path)})"'

    @override
    def process(self, output: Iterable[str]) -> ServicesState:
        masters, workers = [], []
        live: tuple[str, ...] | None = None
        for line in output:
            words = line.split(" ", 2)
            if words[0] == "pid" and len(words) == 3 and words[2].isdigit():
                (masters if words[1] == MASTER_CLASS else workers).append(int(words[2]))
            elif words[0] == "live" and len(words) > 1:
                live = parse_worker_list(line[len("live ") :])
        return ServicesState(tuple(masters), tuple(workers), live)


def parse_worker_list(body: str) -> tuple[str, ...] | None:
    """Hosts in a ``worker_info_list`` JSON body; None if it is not one."""
    try:
        data = json.loads(body)
        return tuple(sorted(str(w["address"]["host"]) for w in data))
    except (ValueError, TypeError, KeyError):
        return None
