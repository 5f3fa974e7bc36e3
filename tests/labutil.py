"""Small helpers for end-to-end tests in the lab."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testinfra.backend.base
import testinfra.host

from lab import Lab

POST_WORKERS = ("server06", "server07", "server08")
MASTER = "server08"


def ssh(lab: Lab, host: str, command: str, check: bool = True) -> str:
    """Run ``command`` on ``host`` over real ssh from the control namespace."""
    result = lab.run(["ssh", "-o", "BatchMode=yes", host, command], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"ssh {host} {command!r} failed: {result.stderr}")
    return result.stdout


def fetch(lab: Lab, url: str) -> str:
    """GET ``url`` from the control namespace (the only place lab addresses are reachable)."""
    code = "import sys, urllib.request;print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())"
    result = lab.run(["python3", "-c", code, url], capture_output=True, text=True)
    if result.returncode != 0:
        raise AssertionError(f"GET {url} failed: {result.stderr}")
    return result.stdout


def connections(lab: Lab) -> int:
    """SSH connections the lab's hosts have accepted so far (sshd logs every one)."""
    return sum((lab.host_dir(n) / "sshd.log").read_text().count("Connection from") for n in lab.hosts())


def http_status(lab: Lab, url: str) -> int:
    """The HTTP status of ``GET url`` from the control namespace."""
    code = (
        "import sys, urllib.request, urllib.error\n"
        "try:\n    print(urllib.request.urlopen(sys.argv[1], timeout=5).status)\n"
        "except urllib.error.HTTPError as e:\n    print(e.code)"
    )
    return int(lab.run(["python3", "-c", code, url], capture_output=True, text=True, check=True).stdout)


def wait_until(check: Callable[[], Any], what: str, seconds: float = 20) -> Any:
    """Poll ``check`` until it returns something true, and return that; after ``seconds``, fail
    saying what was awaited and what was seen last (a value or an exception)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            seen: Any = check()
            if seen:
                return seen
        except Exception as error:  # the condition may not be checkable yet (a daemon starting)
            seen = f"{type(error).__name__}: {error}"
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds:.0f} s for {what}; last seen: {seen!r}")
        time.sleep(0.25)


def worker_count(lab: Lab, master: str = MASTER) -> int:
    return json.loads(fetch(lab, f"http://{master}:19999/v1/api/master/worker_count"))


def live_workers(lab: Lab, master: str = MASTER) -> list[str]:
    """The workers the master lists with a heartbeat within the last few seconds."""
    infos = json.loads(fetch(lab, f"http://{master}:19999/v1/api/master/worker_info_list"))
    return sorted(w["address"]["host"] for w in infos if w["lastContactSec"] <= 3)


def wait_worker_count(lab: Lab, want: int, seconds: float = 20, master: str = MASTER) -> int:
    """Wait until the master counts ``want`` live workers (listed, heard from lately); fail
    with the last count seen."""
    wait_until(lambda: len(live_workers(lab, master)) == want, f"{want} live workers on {master}", seconds)
    return want


# ----- checking host state directly (not over the tool's own SSH) -----------------------------
class LabBackend(testinfra.backend.base.BaseBackend):
    """pytest-testinfra backend running commands inside a lab host (nsenter, no SSH)."""

    NAME = "lab"

    def __init__(self, lab: Lab, name: str) -> None:
        super().__init__(name)
        self.lab = lab

    def run(self, command: str, *args: str, **kwargs: object) -> testinfra.backend.base.CommandResult:
        cmd = self.get_command(command, *args)
        done = subprocess.run(self.lab.exec_argv(self.hostname, ["sh", "-c", cmd]), capture_output=True)
        return self.result(done.returncode, self.encode(cmd), done.stdout, done.stderr)


def host(lab: Lab, name: str) -> testinfra.host.Host:
    backend = LabBackend(lab, name)
    checked = testinfra.host.Host(backend)
    backend.set_host(checked)
    return checked


# ----- running the tool -----------------------------------------------------------------------
PROJECT = Path(__file__).resolve().parent.parent
PYINFRA = str(Path(sys.executable).with_name("pyinfra"))


def version_of(tarball: Path) -> str | None:
    """The release of a demo tarball, from its name (alluxio-1.3.0-bin.tar.gz: 1.3.0)."""
    found = re.match(r"alluxio-(\d+\.\d+\.\d+)-", tarball.name)
    return found.group(1) if found else None


def release_data(tarball: Path) -> list[str]:
    """The ``--data`` arguments declaring ``tarball`` and, when its name says, its release."""
    version = version_of(tarball)
    return [
        "--data",
        f"alluxio_tarball={tarball}",
        *(["--data", f"alluxio_version={version}"] if version else []),
    ]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    # operation name -> success/no_change/error hosts; None when the run printed no results
    # (refused, or crashed before its end)
    results: dict[str, dict[str, list[str]]] | None

    def _results(self) -> dict[str, dict[str, list[str]]]:
        if self.results is None:
            raise AssertionError(
                f"the run printed no results (exit {self.returncode}):\n{self.stderr[-3000:]}"
            )
        return self.results

    def changed(self) -> dict[str, list[str]]:
        """Operation name -> hosts it changed."""
        return {op: r["success"] for op, r in self._results().items() if r["success"]}

    def errors(self) -> dict[str, list[str]]:
        return {op: r["error"] for op, r in self._results().items() if r["error"]}

    def ok(self) -> Run:
        """This run, after checking it finished, succeeded and printed its results."""
        assert self.returncode == 0, self.stderr[-3000:]
        self._results()
        return self


def converge(
    lab: Lab,
    tarball: Path | None,
    *args: str,
    deploy: str = "deploy.py",
    inventory: Path | str = "inventory.py",
    stdin: str | None = None,
) -> Run:
    """``pyinfra INVENTORY DEPLOY -y --json`` from the control namespace, results parsed (no
    ``tarball``: the inventory's own data says which). A run that prints a JSON document must
    print a well-formed one with every operation."""
    data = release_data(tarball) if tarball is not None else []
    argv = [PYINFRA, str(inventory), deploy, "-y", "--json", *data, *args]
    done = lab.run(argv, capture_output=True, text=True, cwd=PROJECT, input=stdin)
    results = None
    if done.stdout.strip():
        document = json.loads(done.stdout)  # strict: a garbled document fails the test
        results = {
            op["name"]: {k: op[k] for k in ("success", "no_change", "error")}
            for op in document["results"]["operations"]
        }
    return Run(done.returncode, done.stdout, done.stderr, results)


def _tool(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    return lab.run(argv, capture_output=True, text=True, cwd=PROJECT)


def drift(
    lab: Lab, tarball: Path | None, *args: str, inventory: Path | str = "inventory.py"
) -> tuple[int, dict, str]:
    """``python drift.py INVENTORY --json`` from the control namespace: (exit code, report,
    stderr). The report is parsed strictly; it is {} only when nothing was printed."""
    data = release_data(tarball) if tarball is not None else []
    done = _tool(lab, [sys.executable, "drift.py", str(inventory), "--json", *data, *args])
    document = json.loads(done.stdout) if done.stdout.strip() else {}
    if done.returncode in (0, 2):
        assert document.get("hosts"), f"exit {done.returncode} without a report: {done.stderr[-2000:]}"
    return done.returncode, document, done.stderr


def not_in_sync(document: dict) -> set[tuple[str, str]]:
    """(host, resource) pairs of a drift report that are not in sync."""
    return {
        (name, resource)
        for name, entry in document["hosts"].items()
        for resource, r in entry["resources"].items()
        if r["status"] != "in_sync"
    }


def dry_run(lab: Lab, tarball: Path, *args: str) -> tuple[int, set[tuple[str, str]], str]:
    """``pyinfra inventory.py deploy.py --dry --json``: exit code, the (operation, host) pairs
    it would change, stderr."""
    argv = [PYINFRA, "inventory.py", "deploy.py", "--dry", "--json", *release_data(tarball), *args]
    done = _tool(lab, argv)
    plan = json.loads(done.stdout)["plan"] if done.stdout.strip() else []
    return done.returncode, {(op["name"], h) for op in plan for h in op["hosts_with_change"]}, done.stderr


def changed_pairs(run: Run) -> set[tuple[str, str]]:
    return {(op, h) for op, hosts in run.changed().items() for h in hosts}


def chain_leftovers(lab: Lab, name: str) -> str:
    """What the tarball's chain may leave on ``name`` when a run does not end well: hop keys in
    root's authorized_keys, control sockets of its links, ssh processes holding them."""
    script = (
        "grep -n alluxio-chain- /root/.ssh/authorized_keys; ls -a /tmp | grep '^.alluxio-chain-'; "
        "ps -eo pid=,args= | grep '[C]ontrolPath=/tmp/.alluxio-chain-'; true"
    )
    return lab.exec(name, ["sh", "-c", script]).stdout


def host_state(lab: Lab) -> dict[str, str]:
    """Every managed file's content digest, owner, mode and mtime, and the process list, per host
    (what the daemons write themselves, their logs, and ssh sessions coming and going aside)."""
    paths = "/etc/hosts /etc/alluxio-reconcile /root /opt /var/backups"
    daemons_own = "-path '/opt/*/logs/*.log' -prune -o -path '/opt/*/logs/*.out' -prune -o"
    script = (
        f"find {paths} -xdev {daemons_own} -printf '%p %y %u:%g %m %s %T@\\n' 2>/dev/null | sort; "
        f"find {paths} -xdev {daemons_own} -type f -exec sha256sum {{}} + 2>/dev/null | sort; "
        # the processes, but this script's own (ps, grep, sort and the shell running them) and
        # the sshd sessions of connections just closing
        "ps -ww -eo pid=,stat=,args= | awk '$2 !~ /Z/ { $2 = \"\"; print }' "
        "| grep -v -e 'ps -ww' -e 'grep -v' -e ' sort$' -e 'find /etc' -e 'awk ' -e 'sshd: ' | sort"
    )
    return {name: lab.exec(name, ["sh", "-c", script]).stdout for name in lab.hosts()}
