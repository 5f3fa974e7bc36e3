"""The control side at hundreds of hosts: the no-op converge, the dry run and the drift report
against a simulated cluster (bench/simulated.py), recorded from the lab's converged hosts, and
the SSH handshake the simulation skips, measured against the lab's real sshds."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench import simulated
from bench.inventories import cluster_of
from bench.measure import PYINFRA, Run, measured
from lab import Lab

KINDS = ("no-op converge", "dry run", "drift report")
TEMPLATE = "server07"  # the recorded worker every simulated one answers as
HANDSHAKES = 64  # connections opened, one after the other, to measure one


@dataclass
class Simulated:
    n: int
    runs: dict[str, list[Run]] = field(default_factory=dict)  # kind -> its runs


@dataclass
class ControlSide:
    sizes: list[Simulated]
    handshake_cpu: float  # control CPU seconds per SSH connection, against real sshds
    handshake_wall: float
    connection_memory: float  # bytes per open connection


def _argv(kind: str, inventory: Path, data: list[str]) -> list[str]:
    if kind == "drift report":
        return ["drift.py", str(inventory), *data]
    return [PYINFRA, str(inventory), "deploy.py", *(["--dry"] if kind == "dry run" else ["-y"]), *data]


def _through(mode: str, folder: Path, argv: list[str]) -> list[str]:
    return [sys.executable, "-m", "bench.simulated", mode, str(folder), "--", *argv]


def measure(
    lab: Lab,
    inventory: Path,
    hosts: dict[str, str],
    master: str,
    data: list[str],
    work: Path,
    sizes: list[int],
    repeat: int,
) -> ControlSide:
    """``inventory`` (``hosts``: name -> address) is converged in ``lab``: record its reads,
    then measure each kind of run ``repeat`` times at each simulated size."""
    recorded = work / "recorded"
    work.mkdir(parents=True, exist_ok=True)
    noop = _argv("no-op converge", inventory, data)
    done = measured(lab, _through("record", recorded, noop), work / "record.log")
    assert done.code == 0, (work / "record.log").read_text()[-3000:]
    dropped = [(n, a) for n, a in hosts.items() if n not in (master, TEMPLATE)]
    results = []
    for n in sizes:
        folder = work / f"n{n}"
        workers = simulated.expand(recorded, folder, master, (TEMPLATE, hosts[TEMPLATE]), dropped, n)
        simulated_inventory = cluster_of(folder / "inventory", {master: hosts[master], **workers}, master)
        log = folder / "learn.log"
        noop = _argv("no-op converge", simulated_inventory, data)
        learned = measured(lab, _through("learn", folder, noop), log)
        assert learned.code == 0, log.read_text()[-3000:]
        size = Simulated(n)
        for i in range(repeat):
            for kind in KINDS:
                print(f"--> {n} simulated hosts: {kind} {i + 1}", flush=True)
                log = folder / f"{kind.replace(' ', '-')}{i}.log"
                run = measured(lab, _through("run", folder, _argv(kind, simulated_inventory, data)), log)
                asked = folder / "unexpected.txt"
                assert not asked.exists(), f"a simulated host was asked more: {asked.read_text()[:2000]}"
                assert run.code == 0, log.read_text()[-3000:]
                size.runs.setdefault(kind, []).append(run)
        results.append(size)
    addresses = [a for n, a in hosts.items() if n != "server03"]
    shook = lab.run(
        [sys.executable, "-m", "bench.handshake", str(HANDSHAKES), *addresses], capture_output=True, text=True
    )
    assert shook.returncode == 0, shook.stderr[-2000:]
    figures = json.loads(shook.stdout.strip().splitlines()[-1])
    return ControlSide(results, figures["cpu_s"], figures["wall_s"], figures["memory_bytes"])


def slope(points: list[tuple[float, float]]) -> float:
    """The least-squares slope of (x, y) points: what each more host costs."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    return sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
