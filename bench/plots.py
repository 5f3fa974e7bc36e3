"""The benchmark's figures, as SVG files beside its report: each kind of run's time against the
number of hosts (links as they are, and capped), the most bytes one node sent, and the control
side's CPU against simulated hosts."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib

matplotlib.use("svg")  # no screen: files only
import matplotlib.pyplot as plt

from bench.control_side import KINDS, ControlSide

if TYPE_CHECKING:
    from bench.__main__ import Size


def _save(figure: Any, folder: Path, name: str, title: str) -> str:
    figure.tight_layout()
    # the same bytes for the same figures: no date, no random ids in the file
    figure.savefig(folder / name, format="svg", metadata={"Date": None}, dpi=72)
    plt.close(figure)
    return f"![{title}]({name})"


def _line(axes: Any, xs: Sequence[float], ys: Sequence[float | None], label: str, style: str) -> None:
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if y is not None]
    if points:
        axes.plot([x for x, _ in points], [y for _, y in points], style, label=label)


def draw(
    sizes: list[Size], control: ControlSide, tarball_bytes: int, link_rate: str, folder: Path
) -> list[str]:
    """Write the figures into ``folder``; their Markdown image lines."""
    plt.rcParams["svg.hashsalt"] = "alluxio-reconcile"
    ns = [s.n for s in sizes]
    out = []

    figure, (free, capped) = plt.subplots(1, 2, figsize=(11, 4.2))
    _line(free, ns, [s.baseline.seconds if s.baseline else None for s in sizes], "the post's procedure", "o-")
    _line(free, ns, [s.cold.seconds if s.cold else None for s in sizes], "cold converge", "s-")
    _line(free, ns, [statistics.median(r.seconds for r in s.noop) for s in sizes], "no-op converge", "^-")
    _line(free, ns, [statistics.median(r.seconds for r in s.drift) for s in sizes], "drift report", "v-")
    free.set(title="Links as they are", xlabel="hosts", ylabel="seconds", xscale="log", yscale="log")
    capped_post = [s.baseline_capped.seconds if s.baseline_capped else None for s in sizes]
    _line(capped, ns, capped_post, "the post's procedure", "o-")
    _line(capped, ns, [s.capped.seconds if s.capped else None for s in sizes], "cold converge", "s-")
    _line(capped, ns, [s.one_copy or None for s in sizes], "one copy over one link", "k--")
    capped.set(title=f"Every link at {link_rate}", xlabel="hosts", ylabel="seconds")
    capped.set(xscale="log", yscale="log")
    for axes in (free, capped):
        axes.set_xticks(ns, [str(n) for n in ns])
        axes.legend(fontsize="small")
        axes.grid(True, which="both", alpha=0.3)
    out.append(_save(figure, folder, "bench-time.svg", "Time against hosts, links as they are and capped"))

    figure, axes = plt.subplots(figsize=(6, 4))
    post = [s.baseline.node_sent_max[1] / tarball_bytes if s.baseline else None for s in sizes]
    tool = [max(r.node_sent_max[1] for r in (s.cold, s.capped) if r) / tarball_bytes for s in sizes]
    _line(axes, ns, post, "the post's procedure (the master)", "o-")
    _line(axes, ns, tool, "this tool (the chain)", "s-")
    axes.set(title="The most one node sent", xlabel="hosts", ylabel="copies of the tarball", xscale="log")
    axes.set_xticks(ns, [str(n) for n in ns])
    axes.legend(fontsize="small")
    axes.grid(True, alpha=0.3)
    out.append(_save(figure, folder, "bench-bytes.svg", "The most bytes one node sent"))

    figure, axes = plt.subplots(figsize=(6, 4))
    simulated = [c.n for c in control.sizes]
    for kind, style in zip(KINDS, ("o-", "s-", "^-"), strict=True):
        cpu = [statistics.median(r.control_cpu for r in c.runs[kind]) for c in control.sizes]
        _line(axes, simulated, cpu, kind, style)
    axes.set(title="The control process's CPU, simulated hosts", xlabel="hosts", ylabel="CPU seconds")
    axes.legend(fontsize="small")
    axes.grid(True, alpha=0.3)
    out.append(_save(figure, folder, "bench-control.svg", "The control side's CPU against simulated hosts"))
    return out
