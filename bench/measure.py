"""Measuring one run in the lab: its wall time, exit code, peak memory and CPU (its own and all
cores'), the bytes that left the control namespace and each host's link, and the remote
commands each host's sshd started."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.inventories import PROJECT
from lab import Lab
from lab.common import BRIDGE

PYINFRA = str(Path(sys.executable).with_name("pyinfra"))
# Runs a command and prints its wall time, exit code, the peak RSS (KiB) and the CPU seconds of
# its processes.
_MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.monotonic()\n"
    "with open(sys.argv[1], 'w') as log:\n"
    "    code = subprocess.call(sys.argv[2:], stdout=log, stderr=subprocess.STDOUT)\n"
    "used = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
    "print(time.monotonic() - start, code, used.ru_maxrss, used.ru_utime + used.ru_stime)\n"
)
HZ = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    seconds: float
    code: int
    peak_kib: int
    sent: int  # bytes out of the control namespace
    sessions: dict[str, int]  # remote commands (sshd sessions) per host
    node_sent: dict[str, int] = field(default_factory=dict)  # bytes each lab host sent on its link
    cpu_busy: float = 0.0  # share of the machine's cores busy during the run
    cpu_seconds: float = 0.0  # of the machine's cores, all processes (the lab's hosts included)
    control_cpu: float = 0.0  # of the control process (pyinfra, the drift report)

    @property
    def node_sent_max(self) -> tuple[str, int]:
        return max(self.node_sent.items(), key=lambda kv: kv[1], default=("-", 0))

    @property
    def per_host_max(self) -> int:
        return max(self.sessions.values(), default=0)


def sent_bytes(lab: Lab) -> int:
    out = subprocess.run(
        ["ip", "-n", lab.control_ns, "-j", "-s", "link", "show", BRIDGE],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(json.loads(out)[0]["stats64"]["tx"]["bytes"])


def sessions(lab: Lab) -> dict[str, int]:
    return {n: (lab.host_dir(n) / "sshd.log").read_text().count("Starting session:") for n in lab.hosts()}


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def measured(lab: Lab, argv: list[str], log: Path) -> Run:
    """Run ``argv`` in the control namespace and measure it."""
    before_sent, before_sessions = sent_bytes(lab), sessions(lab)
    before_nodes, before_cpu = {n: lab.sent_bytes(n) for n in lab.hosts()}, cpu_ticks()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(log), *lab.run_argv(argv)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT,
    )
    seconds, code, peak, control = done.stdout.split()
    after, after_cpu = sessions(lab), cpu_ticks()
    return Run(
        float(seconds),
        int(code),
        int(peak),
        sent_bytes(lab) - before_sent,
        {n: after[n] - before_sessions.get(n, 0) for n in after},
        {n: lab.sent_bytes(n) - before_nodes.get(n, 0) for n in lab.hosts()},
        (after_cpu[0] - before_cpu[0]) / max(1, after_cpu[1] - before_cpu[1]),
        (after_cpu[0] - before_cpu[0]) / HZ,
        float(control),
    )
