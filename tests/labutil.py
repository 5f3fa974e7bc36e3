"""Small helpers for end-to-end tests in the lab."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

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


def worker_count(lab: Lab, master: str = MASTER) -> int:
    return json.loads(fetch(lab, f"http://{master}:19999/v1/api/master/worker_count"))


def wait_worker_count(lab: Lab, want: int, seconds: float = 15, master: str = MASTER) -> int:
    """The live worker count once it equals ``want``, or the last one seen after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        count = worker_count(lab, master)
        if count == want or time.monotonic() > deadline:
            return count
        time.sleep(0.5)


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


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    results: dict[str, dict[str, list[str]]]  # operation name -> success/no_change/error hosts

    def changed(self) -> dict[str, list[str]]:
        """Operation name -> hosts it changed."""
        return {op: r["success"] for op, r in self.results.items() if r["success"]}

    def errors(self) -> dict[str, list[str]]:
        return {op: r["error"] for op, r in self.results.items() if r["error"]}


def converge(lab: Lab, tarball: Path, *args: str, deploy: str = "deploy.py") -> Run:
    """``pyinfra inventory.py DEPLOY -y --json`` from the control namespace, results parsed."""
    argv = [PYINFRA, "inventory.py", deploy, "-y", "--json", "--data", f"alluxio_tarball={tarball}", *args]
    done = lab.run(argv, capture_output=True, text=True, cwd=PROJECT)
    results = {}
    try:
        for op in json.loads(done.stdout)["results"]["operations"]:
            results[op["name"]] = {k: op[k] for k in ("success", "no_change", "error")}
    except (ValueError, KeyError, TypeError):
        pass
    return Run(done.returncode, done.stdout, done.stderr, results)


def _tool(lab: Lab, argv: list[str]) -> subprocess.CompletedProcess:
    return lab.run(argv, capture_output=True, text=True, cwd=PROJECT)


def drift(lab: Lab, tarball: Path, *args: str) -> tuple[int, dict, str]:
    """``python drift.py inventory.py --json`` from the control namespace: (exit code, report, stderr)."""
    done = _tool(
        lab,
        [sys.executable, "drift.py", "inventory.py", "--json", "--data", f"alluxio_tarball={tarball}", *args],
    )
    try:
        document = json.loads(done.stdout)
    except ValueError:
        document = {}
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
    argv = [
        PYINFRA,
        "inventory.py",
        "deploy.py",
        "--dry",
        "--json",
        "--data",
        f"alluxio_tarball={tarball}",
        *args,
    ]
    done = _tool(lab, argv)
    plan = json.loads(done.stdout)["plan"] if done.stdout.strip() else []
    return done.returncode, {(op["name"], h) for op in plan for h in op["hosts_with_change"]}, done.stderr


def changed_pairs(run: Run) -> set[tuple[str, str]]:
    return {(op, h) for op, hosts in run.changed().items() for h in hosts}


def host_state(lab: Lab) -> dict[str, str]:
    """Every managed file's content digest, owner, mode and mtime, and the process list, per host."""
    paths = "/etc/hosts /etc/alluxio-reconcile /root /opt"
    script = (
        f"find {paths} -xdev -printf '%p %y %u:%g %m %s %T@\\n' 2>/dev/null | sort; "
        f"find {paths} -xdev -type f -exec sha256sum {{}} + 2>/dev/null | sort; "
        # the processes, but this script's own (ps, grep, sort and the shell running them)
        "ps -ww -eo pid=,stat=,args= | awk '$2 !~ /Z/ { $2 = \"\"; print }' "
        "| grep -v -e 'ps -ww' -e 'grep -v' -e ' sort$' -e 'find /etc' -e 'awk ' | sort"
    )
    return {name: lab.exec(name, ["sh", "-c", script]).stdout for name in lab.hosts()}
