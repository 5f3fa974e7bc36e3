"""Alluxio's daemons: stop before changing what they run from (the post's step 1), format once,
start (step 8), and check the master counts every worker (step 9)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import gevent
import gevent.lock
from pyinfra import host, state
from pyinfra.api import StringCommand, operation

from facts.node import run_of
from facts.services import rest_command
from operations.util import changes, cluster, explain, only_on_master, snapshots, verdict
from resources import DRIFTED, IN_SYNC, MISSING_STATUS, node_verdicts, read_all

HEALTH_SECONDS = 30
CONFIG = ("alluxio_env", "workers_file", "launcher")


@dataclass(frozen=True)
class Plan:
    """Decisions that span nodes, taken once per run before anything changes."""

    stop_first: bool  # daemons run and what they run from will change
    start_all: bool  # `alluxio-start.sh all` on the master (it restarts everything)
    check_health: bool  # something will be (re)started: wait for every worker to be live
    anything_to_change: bool
    why: str


def plan() -> Plan:
    """The run's :class:`Plan`, from the same verdicts the drift report prints; computed on the
    first call (before any change) and kept for the run, as a restart must be decided on what
    was, not on what the run has already fixed."""
    run = run_of(state)
    # pyinfra prepares the hosts in parallel greenlets: the first computes, the others wait.
    with run.locks.setdefault("plan", gevent.lock.Semaphore()):
        if "plan" not in run.memo:
            run.memo["plan"] = _decide()
        return run.memo["plan"]


def _decide() -> Plan:
    c = cluster()
    snaps = read_all(state, [state.inventory.get_host(n) for n in c.names], c)
    verdicts = {n: node_verdicts(c, n, snaps) for n in c.names}

    def changing(resource: str) -> list[str]:
        return [
            n
            for n, vs in verdicts.items()
            if vs[resource].status in (DRIFTED, MISSING_STATUS) and not vs[resource].details.get("unknown")
        ]

    config = sorted({f"{r} on {n}" for r in CONFIG for n in changing(r)})
    fresh = [n for n, vs in verdicts.items() if vs["install_dir"].details.get("fresh")]
    master = snaps.get(c.master)
    master_down = master is None or not master.services.master_pids
    running = [n for n, s in snaps.items() if s and (s.services.master_pids or s.services.worker_pids)]
    reasons = config + [f"fresh extraction on {n}" for n in fresh] + (["master down"] if master_down else [])
    return Plan(
        stop_first=bool(running) and bool(config or fresh),
        start_all=bool(config or fresh or master_down),
        check_health=bool(config or fresh or master_down) or bool(changing("services")),
        anything_to_change=any(v.status != IN_SYNC for vs in verdicts.values() for v in vs.values()),
        why=", ".join(reasons) or "nothing changes",
    )


def _bin(script: str) -> str:
    return shlex.quote(f"{cluster().install_dir}/bin/{script}")


@operation()
def stopped(when: bool):
    """
    Stop this node's Alluxio daemons (``alluxio-stop.sh local``) when ``when`` holds: daemons
    must not run from a release folder or configuration that is being replaced.

    + when: the run's plan says something the daemons depend on will change

    **Example:**

    .. code:: python

        services.stopped(name="Stop Alluxio first", when=services.plan().stop_first)
    """
    snap = snapshots((host.name,))[host.name]
    running = snap is not None and (snap.services.master_pids or snap.services.worker_pids)
    if not when or not running:
        host.noop("nothing it runs from changes" if running else "no Alluxio daemon runs here")
        return
    # The release's own stop script; if the release folder is gone (an interrupted swap), the
    # daemons the snapshot found, by PID, each checked to still be an Alluxio daemon.
    pids = " ".join(str(p) for p in (*snap.services.master_pids, *snap.services.worker_pids))
    by_pid = f"for p in {pids}; do grep -qa alluxio /proc/$p/cmdline 2>/dev/null && kill $p; done; true"
    stop = f"if [ -x {_bin('alluxio-stop.sh')} ]; then {_bin('alluxio-stop.sh')} local; else {by_pid}; fi"
    yield from changes([stop], why=f"daemons run and will be stopped: {plan().why}")


@operation()
def formatted():
    """
    Format the cluster (``alluxio format``) once: only when the master's journal has no
    ``_format_`` marker. A formatted journal holds the file system's metadata and is never
    formatted again.

    **Example:**

    .. code:: python

        services.formatted(name="Journal formatted once")
    """
    if not only_on_master():
        return
    snap = snapshots((host.name,))[host.name]
    if snap is not None and snap.install.formatted:
        host.noop("the journal was formatted before; never again")
        return
    yield from changes([f"{_bin('alluxio')} format"], why="the journal was never formatted")


@operation()
def started(start_all: bool):
    """
    Run Alluxio: on the master ``alluxio-start.sh all`` (the post's command: it stops
    everything, starts the master, then every worker over the launcher with ``SudoMount``)
    when ``start_all``; otherwise a worker whose daemon is down, or not live on the master, is
    restarted alone on its node (through a pty, as ``sudo`` under ``requiretty`` needs).

    + start_all: the run's plan says the configuration, the launcher or the release changed,
      or the master is down

    **Example:**

    .. code:: python

        services.started(name="Alluxio running", start_all=services.plan().start_all)
    """
    c = cluster()
    if start_all:
        if host.name == c.master:
            yield from changes(
                [f"{_bin('alluxio-start.sh')} all"],
                why=f"alluxio-start.sh all: {plan().why}",
            )
        else:
            host.noop(f"started by alluxio-start.sh all on {c.master}")
        return
    v = verdict("services")
    if "worker" not in v.details.get("down", ()):
        host.noop(f"running: {v.actual}")
        return
    restart = f"{_bin('alluxio-stop.sh')} worker; {_bin('alluxio-start.sh')} worker SudoMount"
    yield from changes([StringCommand(restart, _get_pty=True)], why=v)


def _health_command(workers: tuple[str, ...], path: str, task_log: str) -> str:
    want = " ".join(shlex.quote(w) for w in workers)
    return (
        f"i=0; while :; do body=$({rest_command(path)}); missing=; "
        f'for w in {want}; do echo "$body" | grep -q "\\"host\\": *\\"$w\\"" || missing="$missing $w"; done; '
        f'[ -z "$missing" ] && {{ echo "all {len(workers)} workers live"; exit 0; }}; '
        f"i=$((i + 1)); [ $i -ge {HEALTH_SECONDS} ] && break; sleep 1; done; "
        f'echo "workers not live on the master after {HEALTH_SECONDS}s:$missing" >&2; '
        f'for w in $missing; do echo "--- {task_log}, lines of $w:" >&2; '
        f'grep -F "[$w]" {shlex.quote(task_log)} 2>/dev/null | tail -n 8 >&2; done; exit 1'
    )


@operation()
def healthy():
    """
    Check the cluster from the master, as the post's last step does in the web UI: the master
    counts every declared worker as live. Retried for a short while after a (re)start;
    otherwise the run fails naming the missing workers and quoting their lines of
    ``logs/task.log`` (the start scripts' exit codes prove nothing).

    **Example:**

    .. code:: python

        services.healthy(name="Every worker live on the master")
    """
    if not only_on_master():
        return
    c = cluster()
    if not plan().check_health:
        host.noop(f"the master counts all {len(c.workers)} workers as live")
        return
    # An unreachable worker fails the run as unreachable; the others are expected live.
    snaps = snapshots()
    reachable = tuple(w for w in c.workers if snaps.get(w) is not None)
    if not state.is_executing and state.config.DIFF:
        explain(f"check the master counts all of {', '.join(reachable)} as live after the changes")
    task_log = f"{c.install_dir}/logs/task.log"
    yield _health_command(reachable, c.worker_list_path, task_log)
