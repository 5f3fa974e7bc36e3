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

from bench import control_side, plots
from bench.baseline import post_by_hand
from bench.inventories import PROJECT, cluster_of
from bench.measure import PYINFRA, Run, measured, sent_bytes, sessions
from demo_release import build
from lab import Lab, topology
from tarball import read

MASTER = "server08"
BENCH_ROOT, BENCH_PREFIX = Path("/var/lib/alluxio-lab-bench"), "abench-"


@dataclass
class Size:
    n: int
    baseline: Run | None = None
    cold: Run | None = None
    capped: Run | None = None  # the cold converge again, every host's link capped
    inventory: Path | None = None
    hosts: dict[str, str] = field(default_factory=dict)  # managed: name -> address
    baseline_capped: Run | None = None  # the post's procedure, every host's link capped (small N)
    one_copy: float = 0.0  # seconds one copy of the tarball takes over one capped link
    noop: list[Run] = field(default_factory=list)
    drift: list[Run] = field(default_factory=list)


def timed_baseline(lab: Lab, tarball: Path, workers: list[str]) -> Run:
    before_sent, before_sessions = sent_bytes(lab), sessions(lab)
    before_nodes = {n: lab.sent_bytes(n) for n in lab.hosts()}
    start = time.monotonic()
    post_by_hand(lab, tarball, MASTER, workers)
    seconds = time.monotonic() - start
    after = sessions(lab)
    return Run(
        seconds,
        0,
        0,
        sent_bytes(lab) - before_sent,
        {n: after[n] - before_sessions.get(n, 0) for n in after},
        {n: lab.sent_bytes(n) - before_nodes.get(n, 0) for n in lab.hosts()},
    )


def tarball_seconds(tarball: Path) -> float:
    """Seconds a run spends on an unchanged tarball: the tool's own reading of it, once it was
    read before (its cache, see tarball.py)."""
    read(str(tarball), "alluxio-1.2.0")
    start = time.monotonic()
    read(str(tarball), "alluxio-1.2.0")
    return time.monotonic() - start


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


def data_of(tarball: Path) -> list[str]:
    return ["--data", f"alluxio_tarball={tarball}"]


def one_copy(lab: Lab, tarball: Path) -> float:
    """Seconds one copy of ``tarball`` takes from here to the master over SSH (links as they
    are): the least a copy to every node can take."""
    start = time.monotonic()
    with tarball.open("rb") as data:
        lab.run(["ssh", "-o", "BatchMode=yes", MASTER, "cat > /dev/null"], stdin=data, check=True)
    return time.monotonic() - start


def bench_size(
    lab: Lab, n: int, tarball: Path, repeat: int, work: Path, link_rate: str, post_capped: bool
) -> Size:
    lab.down()
    hosts = lab.up(topology.extra_hosts(n - 3))
    lab.claim(os.getpid())
    managed = {name: ip for name, ip in hosts.items() if name != "server03"}
    workers = [MASTER, *sorted(set(managed) - {MASTER})]
    inventory = cluster_of(work / f"n{n}", {w: managed[w] for w in workers}, MASTER)
    data = data_of(tarball)
    result = Size(n, inventory=inventory, hosts={w: managed[w] for w in workers})
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
    if post_capped:
        print(f"--> N={n}: the post's procedure, every link capped at {link_rate}", flush=True)
        lab.reset()
        lab.cap_links(link_rate)
        try:
            result.baseline_capped = timed_baseline(lab, tarball, workers)
        finally:
            lab.cap_links(None)
        assert live_workers(lab, n) == n, "the post's procedure did not bring every worker up"
    print(f"--> N={n}: cold converge, every link capped at {link_rate}", flush=True)
    lab.reset()
    lab.cap_links(link_rate)
    try:
        result.one_copy = one_copy(lab, tarball)
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


def render(
    sizes: list[Size],
    control: control_side.ControlSide,
    tarball_bytes: int,
    repeat: int,
    link_rate: str,
    on_tarball: float,
    figures: list[str],
) -> str:
    mb = 1024 * 1024
    head = (
        "| N | post's procedure, s | cold converge, s | ratio | no-op converge, s | drift report, s "
        "| remote commands/host, no-op (max) | remote commands/host, drift (max) "
        "| sent, cold (x tarball) | sent by the post (x tarball) | sent, no-op | peak memory, MiB "
        f"| cold converge, links at {link_rate}, s | one copy over one link, s | capped / one copy "
        f"| post's procedure, links at {link_rate}, s | CPU busy then | most one node sent, cold (x tarball) "
        "| no-op CPU: control process / all cores, s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for s in sizes:
        assert s.baseline and s.cold and s.capped
        node, most = max(s.cold.node_sent_max, s.capped.node_sent_max, key=lambda kv: kv[1])
        post_capped = f"{s.baseline_capped.seconds:.1f}" if s.baseline_capped else "-"
        rows.append(
            f"| {s.n} | {s.baseline.seconds:.1f} | {s.cold.seconds:.1f} "
            f"| {s.cold.seconds / s.baseline.seconds:.2f} "
            f"| {median(s.noop, 'seconds'):.2f} | {median(s.drift, 'seconds'):.2f} "
            f"| {max(r.per_host_max for r in s.noop)} | {max(r.per_host_max for r in s.drift)} "
            f"| {s.cold.sent / mb:.1f} MiB ({s.cold.sent / tarball_bytes:.3f}) "
            f"| {s.baseline.sent / mb:.1f} MiB ({s.baseline.sent / tarball_bytes:.3f}) "
            f"| {median(s.noop, 'sent') / 1024:.0f} KiB "
            f"| {max(r.peak_kib for r in [s.cold, *s.noop, *s.drift]) / 1024:.0f} "
            f"| {s.capped.seconds:.1f} | {s.one_copy:.1f} | {s.capped.seconds / s.one_copy:.2f} "
            f"| {post_capped} | {s.capped.cpu_busy:.0%} "
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
    one_copy_first = first.capped.seconds / first.one_copy
    one_copy_32 = at32.capped.seconds / at32.one_copy
    # the no-op's CPU at the largest size: the control process's, and the rest (the lab's hosts)
    control_last, all_last = median(last.noop, "control_cpu"), median(last.noop, "cpu_seconds")
    cores = os.cpu_count() or 1

    def peak(s: Size) -> int:
        return max(r.peak_kib for r in [*(x for x in (s.cold, s.capped) if x), *s.noop, *s.drift])

    memory_ratio = peak(last) / peak(first)
    # the control side, simulated: what each more host costs (the slope over the sizes)
    per_host = {
        kind: control_side.slope([(c.n, median(c.runs[kind], "control_cpu")) for c in control.sizes])
        for kind in control_side.KINDS
    }
    memory_per_host = {
        kind: control_side.slope([(c.n, max(r.peak_kib for r in c.runs[kind]) * 1024) for c in control.sizes])
        for kind in control_side.KINDS
    }
    noop_per_host = per_host["no-op converge"] + control.handshake_cpu
    noop_memory = memory_per_host["no-op converge"] + control.connection_memory
    worst_other = max(per_host["dry run"], per_host["drift report"]) + control.handshake_cpu
    post_rows = [s for s in sizes if s.baseline_capped]
    targets = [
        f"- Remote commands per host, no-op converge and drift report: at most {commands} "
        f"(target 2): {'met' if commands <= 2 else 'missed'}.",
        f"- No-op converge at N={last.n} against N={first.n}: {noop_ratio:.2f}x the wall time "
        f"(target 2x): {'met' if noop_ratio <= 2 else 'missed'}.",
        f"- Drift report at N={last.n} against N={first.n}: {drift_ratio:.2f}x the wall time "
        f"(target 2x): {'met' if drift_ratio <= 2 else 'missed'}. At N={last.n} the no-op took "
        f"{all_last:.1f} s of the machine's {cores} cores' CPU, of which the control process "
        f"{control_last:.1f} s: the other {all_last - control_last:.1f} s are the lab's {last.n} hosts "
        "(their sshd, shell and reads) on the same cores, which a real cluster spends on its own "
        "machines.",
        f"- Bytes sent from the control namespace, cold converge: at most {cold_ratio:.3f}x the tarball "
        f"(target 1.1x): {'met' if cold_ratio <= 1.1 else 'missed'}.",
        f"- A no-op converge sends at most {noop_sent / 1024:.0f} KiB, no tarball bytes "
        f"(tarball {tarball_bytes / mb:.0f} MiB): {'met' if noop_sent < tarball_bytes / 100 else 'missed'}.",
        f"- Cold converge with every link capped at {link_rate}, N={first.n}: {first.capped.seconds:.1f} s, "
        f"{one_copy_first:.2f}x the {first.one_copy:.1f} s one copy of the tarball takes over one link "
        f"(target 1.3x): {'met' if one_copy_first <= 1.3 else 'missed'}; at N={at32.n} "
        f"{at32.capped.seconds:.1f} s, {one_copy_32:.2f}x, with the machine's cores "
        f"{at32.capped.cpu_busy:.0%} busy.",
        f"- Cold converge with every link capped at {link_rate}, N={at32.n} against N={first.n}: "
        f"{capped_ratio:.2f}x (target 2x): {'met' if capped_ratio <= 2 else 'missed'} "
        f"(N={last.n}: {capped_last:.2f}x, {last.capped.cpu_busy:.0%} busy).",
        *(
            f"- The post's procedure with the same links, N={s.n}: {s.baseline_capped.seconds:.1f} s "
            f"({s.baseline_capped.seconds / s.capped.seconds:.1f}x the tool's capped cold converge): "
            f"the master sends {s.n - 1} copies, one after the other."
            for s in post_rows
            if s.baseline_capped and s.capped
        ),
        f"- The most any one node sent in a cold converge: {node_ratio:.2f}x the tarball "
        f"(target 2.2x): {'met' if node_ratio <= 2.2 else 'missed'}.",
        f"- Peak memory of the control process at N={last.n}: {peak(last) / 1024:.0f} MiB, "
        f"{memory_ratio:.2f}x that at N={first.n} (target 2x): {'met' if memory_ratio <= 2 else 'missed'}.",
        f"- Control CPU per more host, no-op converge, {control.sizes[0].n} to {control.sizes[-1].n} "
        f"simulated hosts: {per_host['no-op converge'] * 1000:.1f} ms, plus "
        f"{control.handshake_cpu * 1000:.1f} ms for its SSH handshake = {noop_per_host * 1000:.1f} ms "
        f"(target 15 ms): {'met' if noop_per_host <= 0.015 else 'missed'}.",
        "- Peak memory per more host, no-op converge: "
        f"{memory_per_host['no-op converge'] / mb:.2f} MiB, plus "
        f"{control.connection_memory / 1024:.0f} KiB for its open connection (target 1 MiB): "
        f"{'met' if noop_memory <= mb else 'missed'}.",
        f"- The dry run and the drift report per more host: {per_host['dry run'] * 1000:.1f} ms and "
        f"{per_host['drift report'] * 1000:.1f} ms (plus the handshake), within 1.5x the no-op's "
        f"{noop_per_host * 1000:.1f} ms: {'met' if worst_other <= 1.5 * noop_per_host else 'missed'}.",
        f"- A no-op run's time on the unchanged {tarball_bytes / mb:.0f} MiB tarball: "
        f"{on_tarball * 1000:.1f} ms "
        f"(target 100 ms): {'met' if on_tarball < 0.1 else 'missed'}.",
    ]
    control_head = (
        "| simulated hosts | no-op converge: CPU s, wall s, peak MiB | dry run: CPU s, wall s, peak MiB "
        "| drift report: CPU s, wall s, peak MiB |\n|---|---|---|---|\n"
    )
    control_rows = [
        f"| {c.n} | "
        + " | ".join(
            f"{median(c.runs[k], 'control_cpu'):.2f}, {median(c.runs[k], 'seconds'):.2f}, "
            f"{max(r.peak_kib for r in c.runs[k]) / 1024:.0f}"
            for k in control_side.KINDS
        )
        + " |"
        for c in control.sizes
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
        "bottleneck rather than only the machine's shared cores; just before it, one copy of the "
        "tarball is timed from the control namespace to the master over SSH on the same link, the "
        'least any delivery can take. "CPU busy" is the share of the machine\'s cores busy during '
        "the capped converge. The no-op's CPU seconds are the control process's own "
        "(pyinfra, what grows with N here is pyinfra's and this tool's) and all cores' (the lab's "
        "hosts' sshd and shell included: on a real cluster each host spends its own).\n\n"
        + head
        + "\n".join(rows)
        + "\n\n## The control side at hundreds of hosts\n\n"
        "The lab's hosts share the machine's two cores with the control process, so past 64 hosts "
        "it cannot show what a run costs the operator's machine. Here every host is simulated "
        "(`bench/simulated.py`): a pyinfra connector answers each host's one read from the lab's "
        f"converged hosts at N={first.n}, recorded and rewritten for the size, in the control "
        "process; any other command fails the run. The figures are the control process's alone "
        f"(medians of {repeat} runs). The SSH handshake the simulation skips is measured against "
        f"the lab's real sshds ({control_side.HANDSHAKES} connections, one after the other, all kept "
        f"open): {control.handshake_cpu * 1000:.1f} ms of the control process's CPU and "
        f"{control.handshake_wall * 1000:.0f} ms of wall time each, "
        f"{control.connection_memory / 1024:.0f} KiB "
        "of memory per open connection. pyinfra keeps every host's connection open for the whole run: "
        "a file descriptor each, so the tool raises the open-files limit to what the hosts need "
        "before connecting, or refuses naming the hard limit (`runtime/limits.py`).\n\n"
        + control_head
        + "\n".join(control_rows)
        + "\n\nPer more host (the slope over the sizes): "
        + ", ".join(
            f"{k} {per_host[k] * 1000:.1f} ms of CPU and {memory_per_host[k] / mb:.2f} MiB"
            for k in control_side.KINDS
        )
        + ".\n\n## Figures\n\n"
        + "\n\n".join(figures)
        + "\n\n## Targets\n\n"
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
    parser.add_argument(
        "--post-capped", default="4,8", help="sizes the post's procedure also runs with links capped (4,8)"
    )
    parser.add_argument(
        "--simulated",
        default="100,300,1000",
        help="simulated cluster sizes for the control side (100,300,1000)",
    )
    parser.add_argument("--out", type=Path, default=PROJECT / "docs" / "benchmark.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    post_capped = {int(s) for s in args.post_capped.split(",") if s}
    simulated = [int(s) for s in args.simulated.split(",")]
    if min(sizes) < 4:
        parser.error("--sizes: at least 4 hosts (a master and the post's workers)")
    if len(simulated) < 2 or min(simulated) < 4:
        parser.error("--simulated: at least two sizes (the cost per host is the slope), each at least 4")
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
                capped = n in post_capped
                results.append(bench_size(lab, n, tarball, args.repeat, work, args.link_rate, capped))
                if n == sizes[0]:  # converged: the control side's recording is made from it
                    listed = ", ".join(map(str, simulated))
                    print(f"--> the control side: {listed} simulated hosts", flush=True)
                    first = results[0]
                    assert first.inventory is not None
                    control = control_side.measure(
                        lab, first.inventory, first.hosts, MASTER, data_of(tarball), work / "simulated",
                        simulated, args.repeat,
                    )  # fmt: skip
        finally:
            lab.down()
        on_tarball = tarball_seconds(tarball)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        figures = plots.draw(results, control, tarball.stat().st_size, args.link_rate, args.out.parent)
        size = tarball.stat().st_size
        report = render(results, control, size, args.repeat, args.link_rate, on_tarball, figures)
    print(report)
    args.out.write_text(report)


if __name__ == "__main__":
    main()
