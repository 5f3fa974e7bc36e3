"""``python -m bench``: the tool against the post's own procedure, at 4 to 64 hosts, in the lab.

    python -m bench [--sizes 4,8,16,32,64] [--link-rate 20mbit] [--pad-mb 128] [--repeat 3]
                    [--out docs/benchmark.md]

For each size N (one master, N-1 more workers; the master is a worker too, as in the post) it
measures, from bare hosts: the post's procedure (shell steps, scp from the master) as the
baseline; a cold converge; no-op converges and drift reports (medians of ``--repeat`` runs);
the cold converge again with every host's link capped at ``--link-rate``. Figures: wall time;
remote commands per host (counted from each lab host's sshd log, which records every session it
starts); bytes sent from the control namespace (its bridge's counter) and by each host (its
link's counter); peak memory of the control process; the cores' busy share. Wall times are
noisy on a shared machine: compare the ratios within one run. The benchmark has its own lab
(``/var/lib/alluxio-lab-bench``, namespaces ``abench-*``), beside any other, removed at the end,
also on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from bench.baseline import post_by_hand
from bench.inventories import PROJECT, cluster_of
from demo_release import build
from lab import Lab, topology
from lab.common import BRIDGE

MASTER = "server08"
BENCH_ROOT, BENCH_PREFIX = Path("/var/lib/alluxio-lab-bench"), "abench-"
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


@dataclass
class Size:
    n: int
    baseline: Run | None = None
    cold: Run | None = None
    capped: Run | None = None  # the cold converge again, every host's link capped
    noop: list[Run] = field(default_factory=list)
    drift: list[Run] = field(default_factory=list)


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


def timed_baseline(lab: Lab, tarball: Path, workers: list[str]) -> Run:
    before_sent, before_sessions = sent_bytes(lab), sessions(lab)
    start = time.monotonic()
    post_by_hand(lab, tarball, MASTER, workers)
    seconds = time.monotonic() - start
    after = sessions(lab)
    return Run(
        seconds, 0, 0, sent_bytes(lab) - before_sent, {n: after[n] - before_sessions.get(n, 0) for n in after}
    )


def live_workers(lab: Lab, want: int) -> int:
    code = (
        "import json, sys, time, urllib.request\n"
        "for _ in range(60):\n"
        "    url = 'http://server08:19999/v1/api/master/worker_count'\n"
        "    n = json.load(urllib.request.urlopen(url, timeout=5))\n"
        "    if n >= int(sys.argv[1]): break\n"
        "    time.sleep(0.5)\n"
        "print(n)\n"
    )
    done = lab.run(["python3", "-c", code, str(want)], capture_output=True, text=True)
    return int(done.stdout.strip() or -1)


def bench_size(lab: Lab, n: int, tarball: Path, repeat: int, work: Path, link_rate: str) -> Size:
    lab.down()
    hosts = lab.up(topology.extra_hosts(n - 3))
    lab.claim(os.getpid())
    managed = {name: ip for name, ip in hosts.items() if name != "server03"}
    workers = [MASTER, *sorted(set(managed) - {MASTER})]
    inventory = cluster_of(work / f"n{n}", {w: managed[w] for w in workers}, MASTER)
    data = ["--data", f"alluxio_tarball={tarball}"]
    result = Size(n)
    logs = work / f"n{n}"
    print(f"--> N={n}: the post's procedure", flush=True)
    lab.reset()
    result.baseline = timed_baseline(lab, tarball, workers)
    assert live_workers(lab, n) == n, "the post's procedure did not bring every worker up"
    print(f"--> N={n}: cold converge", flush=True)
    lab.reset()
    converge = [PYINFRA, str(inventory), "deploy.py", "-y", *data]
    result.cold = measured(lab, converge, logs / "cold.log")
    assert result.cold.code == 0, (logs / "cold.log").read_text()[-3000:]
    assert live_workers(lab, n) == n
    for i in range(repeat):
        print(f"--> N={n}: no-op converge {i + 1}, drift report {i + 1}", flush=True)
        result.noop.append(measured(lab, converge, logs / f"noop{i}.log"))
        assert result.noop[-1].code == 0, (logs / f"noop{i}.log").read_text()[-3000:]
        result.drift.append(
            measured(lab, [sys.executable, "drift.py", str(inventory), *data], logs / f"drift{i}.log")
        )
        assert result.drift[-1].code == 0, (logs / f"drift{i}.log").read_text()[-3000:]
    print(f"--> N={n}: cold converge, every link capped at {link_rate}", flush=True)
    lab.reset()
    lab.cap_links(link_rate)
    try:
        result.capped = measured(lab, converge, logs / "capped.log")
    finally:
        lab.cap_links(None)
    assert result.capped.code == 0, (logs / "capped.log").read_text()[-3000:]
    assert live_workers(lab, n) == n
    return result


def median(runs: list[Run], attr: str) -> float:
    return statistics.median(getattr(r, attr) for r in runs)


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        line.split()[1]
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), "
        f"{int(mem) // 1024 // 1024} GiB; Python {platform.python_version()}, pyinfra {version('pyinfra')}, "
        f"OpenSSH {subprocess.run(['ssh', '-V'], capture_output=True, text=True).stderr.split(',')[0]}"
    )


def render(sizes: list[Size], tarball_bytes: int, repeat: int, link_rate: str) -> str:
    mb = 1024 * 1024
    head = (
        "| N | post's procedure, s | cold converge, s | ratio | no-op converge, s | drift report, s "
        "| remote commands/host, no-op (max) | remote commands/host, drift (max) "
        "| sent, cold (x tarball) | sent by the post (x tarball) | sent, no-op | peak memory, MiB "
        f"| cold converge, links at {link_rate}, s | CPU busy then | most one node sent, cold (x tarball) "
        "| no-op CPU: control process / all cores, s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for s in sizes:
        assert s.baseline and s.cold and s.capped
        node, most = max(s.cold.node_sent_max, s.capped.node_sent_max, key=lambda kv: kv[1])
        rows.append(
            f"| {s.n} | {s.baseline.seconds:.1f} | {s.cold.seconds:.1f} "
            f"| {s.cold.seconds / s.baseline.seconds:.2f} "
            f"| {median(s.noop, 'seconds'):.2f} | {median(s.drift, 'seconds'):.2f} "
            f"| {max(r.per_host_max for r in s.noop)} | {max(r.per_host_max for r in s.drift)} "
            f"| {s.cold.sent / mb:.1f} MiB ({s.cold.sent / tarball_bytes:.3f}) "
            f"| {s.baseline.sent / mb:.1f} MiB ({s.baseline.sent / tarball_bytes:.3f}) "
            f"| {median(s.noop, 'sent') / 1024:.0f} KiB "
            f"| {max(r.peak_kib for r in [s.cold, *s.noop, *s.drift]) / 1024:.0f} "
            f"| {s.capped.seconds:.1f} | {s.capped.cpu_busy:.0%} "
            f"| {most / tarball_bytes:.2f} ({node}) "
            f"| {median(s.noop, 'control_cpu'):.2f} / {median(s.noop, 'cpu_seconds'):.2f} |"
        )
    first, last = sizes[0], sizes[-1]
    noop_ratio = median(last.noop, "seconds") / median(first.noop, "seconds")
    commands = max(r.per_host_max for s in sizes for r in (*s.noop, *s.drift))
    cold_ratio = max(s.cold.sent / tarball_bytes for s in sizes if s.cold)
    noop_sent = max(r.sent for s in sizes for r in s.noop)
    drift_ratio = median(last.drift, "seconds") / median(first.drift, "seconds")
    # the target is at 32 hosts; the largest size is stated beside it
    at32 = next((s for s in sizes if s.n == 32), last)
    assert first.capped and last.capped and at32.capped
    capped_ratio = at32.capped.seconds / first.capped.seconds
    capped_last = last.capped.seconds / first.capped.seconds
    node_most = max(r.node_sent_max[1] for s in sizes for r in (s.cold, s.capped) if r)
    node_ratio = node_most / tarball_bytes

    def peak(s: Size) -> int:
        return max(r.peak_kib for r in [*(x for x in (s.cold, s.capped) if x), *s.noop, *s.drift])

    memory_ratio = peak(last) / peak(first)
    targets = [
        f"- Remote commands per host, no-op converge and drift report: at most {commands} "
        f"(target 2): {'met' if commands <= 2 else 'missed'}.",
        f"- No-op converge at N={last.n} against N={first.n}: {noop_ratio:.2f}x the wall time "
        f"(target 2x): {'met' if noop_ratio <= 2 else 'missed'}.",
        f"- Bytes sent from the control namespace, cold converge: at most {cold_ratio:.3f}x the tarball "
        f"(target 1.1x): {'met' if cold_ratio <= 1.1 else 'missed'}.",
        f"- A no-op converge sends at most {noop_sent / 1024:.0f} KiB, no tarball bytes "
        f"(tarball {tarball_bytes / mb:.0f} MiB): {'met' if noop_sent < tarball_bytes / 100 else 'missed'}.",
        f"- Drift report at N={last.n} against N={first.n}: {drift_ratio:.2f}x the wall time "
        f"(target 2x): {'met' if drift_ratio <= 2 else 'missed'}.",
        f"- Cold converge with every link capped at {link_rate}, N={at32.n} against N={first.n}: "
        f"{capped_ratio:.2f}x (target 2x): {'met' if capped_ratio <= 2 else 'missed'}; the machine's "
        f"cores were {at32.capped.cpu_busy:.0%} busy meanwhile at N={at32.n} "
        f"(N={last.n}: {capped_last:.2f}x, {last.capped.cpu_busy:.0%} busy).",
        f"- The most any one node sent in a cold converge: {node_ratio:.2f}x the tarball "
        f"(target 2.2x): {'met' if node_ratio <= 2.2 else 'missed'}.",
        f"- Peak memory of the control process at N={last.n}: {peak(last) / 1024:.0f} MiB, "
        f"{memory_ratio:.2f}x that at N={first.n} (target 2x): {'met' if memory_ratio <= 2 else 'missed'}.",
    ]
    return (
        "# Benchmark\n\n"
        f"Made by `python -m bench` on {time.strftime('%Y-%m-%d')}: {machine()}.\n\n"
        f"Demo release padded to {tarball_bytes / mb:.0f} MiB. N hosts: one master, N-1 more workers "
        "(the master is a worker too). Times of the no-op converge and the drift report are medians "
        f"of {repeat} runs; the post's procedure and the cold converge run once, from bare hosts. "
        "The post's procedure is its shell steps (tarball on the master, scp from there to each "
        "worker, one after the other); remote commands are sshd sessions counted on each host; "
        "bytes are what left the control namespace's bridge; what one node sent is its link's "
        "counter. The capped cold converge runs from bare hosts again with every host's link "
        f"capped at {link_rate} each way (`tc` token bucket), so that copies meet a network "
        'bottleneck rather than only the machine\'s shared cores; "CPU busy" is the share of the '
        "machine's cores busy during it. The no-op's CPU seconds are the control process's own "
        "(pyinfra, what grows with N here is pyinfra's and this tool's) and all cores' (the lab's "
        "hosts' sshd and shell included: on a real cluster each host spends its own).\n\n"
        + head
        + "\n".join(rows)
        + "\n\nTargets:\n\n"
        + "\n".join(targets)
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="4,8,16,32,64", help="cluster sizes, at least 4 (4,8,16,32,64)")
    # Low enough that a chain of 64 hosts leaves the two cores idle half the time (each hop costs
    # about 11 ms of CPU per MiB: ssh both ends, sha256, the write), so the links set the pace.
    parser.add_argument("--link-rate", default="20mbit", help="the capped cold converge's links (20mbit)")
    parser.add_argument("--pad-mb", type=int, default=128, help="demo release size in MiB (128)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each no-op measurement (3)")
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmark.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < 4:
        parser.error("--sizes: at least 4 hosts (a master and the post's workers)")
    # Its own lab, beside any other (the demo's, a test session's): it removes it at the end.
    lab = Lab(BENCH_ROOT, BENCH_PREFIX)
    if lab.owner():
        parser.error(f"another benchmark (PID {lab.owner()}) is using {lab.root}")
    lab.down()  # a killed benchmark's leftovers
    results = []
    with tempfile.TemporaryDirectory(prefix="alluxio-bench-") as tmp:
        work = Path(tmp)
        tarball = build(work / "release", pad_mb=args.pad_mb)
        try:
            for n in sizes:
                results.append(bench_size(lab, n, tarball, args.repeat, work, args.link_rate))
        finally:
            lab.down()
        report = render(results, tarball.stat().st_size, args.repeat, args.link_rate)
    print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report)


if __name__ == "__main__":
    main()
