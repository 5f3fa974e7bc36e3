"""The benchmark runs (at N=4, on a small release); its figures are its own business."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from lab import Lab
from tests.labutil import PROJECT


def test_the_benchmark_runs_at_four_hosts(lab: Lab, tmp_path: Path) -> None:
    out = tmp_path / "benchmark.md"
    lab.down()  # the benchmark brings up its own lab: spare the machine's memory meanwhile
    try:
        argv = [sys.executable, "-m", "bench", "--sizes", "4", "--pad-mb", "2", "--repeat", "1"]
        argv += ["--simulated", "10,20"]  # the control side's simulation, small (1,000 in the benchmark)
        done = subprocess.run(
            [*argv, "--out", str(out)], capture_output=True, text=True, cwd=PROJECT, timeout=900
        )
    finally:
        lab.up()
        lab.claim(os.getpid())
    assert done.returncode == 0, done.stderr[-3000:]
    report = out.read_text()
    row = next(line for line in report.splitlines() if line.startswith("| 4 |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 19 and all(cells)
    assert float(cells[1]) > 0 and float(cells[2]) > 0  # seconds: the post's procedure, cold converge
    assert int(cells[6]) >= 1 and int(cells[7]) >= 1  # remote commands per host were counted
    capped, copy, ratio = float(cells[12]), float(cells[13]), float(cells[14])
    assert capped > copy > 0 and abs(ratio - capped / copy) < 0.05 * ratio  # (the cells are rounded)
    assert float(cells[15]) > copy  # the post's procedure ran capped too: 3 copies, one after the other
    most, node = cells[17].split()
    assert float(most) > 0.9 and node.strip("()").startswith("server")  # a node sent the tarball
    control, everyone = (float(x) for x in cells[18].split(" / "))
    assert 0 < control <= everyone  # the control process's CPU is part of all cores'
    # the control side: each simulated size's three kinds of run, their CPU growing with the hosts
    simulated = [line for line in report.splitlines() if line.startswith(("| 10 |", "| 20 |"))]
    assert len(simulated) == 2
    cpu = [[float(k.split(",")[0]) for k in line.strip("|").split("|")[1:]] for line in simulated]
    assert all(c > 0 for row in cpu for c in row) and cpu[1][0] > cpu[0][0]
    assert re.search(r"plus \d+\.\d ms for its SSH handshake", report)
    for figure in ("bench-time.svg", "bench-bytes.svg", "bench-control.svg"):
        assert f"]({figure})" in report and (tmp_path / figure).read_text().lstrip().startswith("<?xml")
    assert "## Targets" in report and report.count("\n- ") == 14  # 13, and the post capped at N=4
    assert not Path("/var/lib/alluxio-lab-bench").exists()  # removed at the end
