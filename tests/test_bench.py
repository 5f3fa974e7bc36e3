"""The benchmark runs (at N=4, on a small release); its figures are its own business."""

from __future__ import annotations

import os
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
    assert len(cells) == 16 and all(cells)
    assert float(cells[1]) > 0 and float(cells[2]) > 0  # seconds: the post's procedure, cold converge
    assert int(cells[6]) >= 1 and int(cells[7]) >= 1  # remote commands per host were counted
    assert float(cells[12]) > 0  # the capped cold converge ran
    most, node = cells[14].split()
    assert float(most) > 0.9 and node.strip("()").startswith("server")  # a node sent the tarball
    control, everyone = (float(x) for x in cells[15].split(" / "))
    assert 0 < control <= everyone  # the control process's CPU is part of all cores'
    assert "Targets:" in report and report.count("\n- ") == 8
    assert not Path("/var/lib/alluxio-lab-bench").exists()  # removed at the end
