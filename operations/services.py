"""Alluxio's daemons: stop before changing what they run from (the post's step 1), format once,
start (step 8), and check the master counts every worker (step 9)."""

from __future__ import annotations

import re
import shlex
import time
from dataclasses import dataclass

import gevent
import gevent.lock
from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, Host, State, StringCommand, operation

from cluster import Cluster
from facts.node import NodeSnapshot, run_of
from facts.services import LIVE_WITHIN_SECONDS, parse_worker_list, rest_command
from operations.util import changes, cluster, explain, only_on_master, snapshots, verdict
from resources import DRIFTED, IN_SYNC, MISSING_STATUS, node_verdicts, read_all

HEALTH_SECONDS = 30
STATE_DIR = "/etc/alluxio-reconcile"
START_OFFSET = f"{STATE_DIR}/task.log.offset"  # task.log's size when the last start began
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


def _stop_command(snap: NodeSnapshot) -> str:
    """Shell stopping this node's daemons with the release's own ``alluxio-stop.sh``, one
    component at a time (1.2.0 and 1.3.0 know ``master``, ``worker``, ``workers``, ``all``: no
    ``local``, and ``all`` reaches every worker over ssh). Daemons the script could not stop (a
    missing configuration makes it refuse) are then stopped by PID, each checked to still be an
    Alluxio JVM, with SIGKILL after 30 s as the release's ``killAll`` does."""
    stop = _bin("alluxio-stop.sh")
    components = (["master"] if snap.services.master_pids else []) + (
        ["worker"] if snap.services.worker_pids else []
    )
    pids = " ".join(str(p) for p in (*snap.services.master_pids, *snap.services.worker_pids))
    by_script = " ".join(f"{stop} {c};" for c in components)
    left = (
        f'left=; for p in {pids}; do grep -qa alluxio /proc/$p/cmdline 2>/dev/null && left="$left $p"; done'
    )
    return (
        f"if [ -x {stop} ]; then {by_script} fi; "
        f'{left}; [ -z "$left" ] && exit 0; '
        'echo "stopping by PID:$left" >&2; kill $left 2>/dev/null; '
        f'for i in $(seq 30); do {left}; [ -z "$left" ] && exit 0; sleep 1; done; '
        "kill -9 $left 2>/dev/null; true"
    )


@operation()
def stopped(when: bool):
    """
    Stop this node's Alluxio daemons when ``when`` holds: daemons must not run from a release
    folder or configuration that is being replaced.

    + when: the run's plan says something the daemons depend on will change

    Behaviour:
        ``bin/alluxio-stop.sh master`` and ``worker``, for the daemons that run here; daemons
        left running (the release gone, or its configuration missing) are stopped by PID.

    **Example:**

    .. code:: python

        services.stopped(name="Stop Alluxio first", when=services.plan().stop_first)
    """
    snap = snapshots((host.name,))[host.name]
    running = snap is not None and (snap.services.master_pids or snap.services.worker_pids)
    if not when or not running:
        host.noop("nothing it runs from changes" if running else "no Alluxio daemon runs here")
        return
    assert snap is not None
    yield from changes([_stop_command(snap)], why=f"daemons run and will be stopped: {plan().why}")


@operation()
def formatted():
    """
    Format the cluster (``alluxio format``) once: only when the master's journal has no
    ``_format_`` marker. A formatted journal holds the file system's metadata and is never
    formatted again. (``alluxio format -s`` is no guard: it does nothing at all whenever the
    under storage is remote, as HDFS is here.)

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


def task_log(c: Cluster) -> str:
    """Where 1.2.0 and 1.3.0 write ``logs/task.log``: next to ``bin/``."""
    return f"{c.install_dir}/logs/task.log"


@operation()
def started(start_all: bool):
    """
    Run Alluxio: on the master ``alluxio-start.sh all`` (the post's command: it stops
    everything, starts the master, then every worker over the launcher with ``SudoMount``)
    when ``start_all``; otherwise a worker whose daemon is down, or not live on the master, is
    restarted alone on its node (through a pty, as ``sudo`` under ``requiretty`` needs).

    + start_all: the run's plan says the configuration, the launcher or the release changed,
      or the master is down

    Behaviour:
        Before ``start all``, the size of ``logs/task.log`` is noted on the master
        (``/etc/alluxio-reconcile/task.log.offset``), so that the health check quotes what
        this start wrote there, and nothing older.

    **Example:**

    .. code:: python

        services.started(name="Alluxio runs", start_all=services.plan().start_all)
    """
    c = cluster()
    if start_all:
        if host.name == c.master:
            log, offset = shlex.quote(task_log(c)), shlex.quote(START_OFFSET)
            note = (
                f"mkdir -p {shlex.quote(STATE_DIR)} && "
                f"{{ stat -c %s {log} 2>/dev/null || echo 0; }} > {offset}.tmp && mv -f {offset}.tmp {offset}"
            )
            yield from changes(
                [f"{note} && {_bin('alluxio-start.sh')} all"],
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


def _not_live(listed: dict[str, int] | None, workers: tuple[str, ...]) -> tuple[str, ...]:
    """The workers of ``workers`` that are not live in ``listed``."""
    silent = LIVE_WITHIN_SECONDS + 1
    return tuple(w for w in workers if listed is None or listed.get(w, silent) > LIVE_WITHIN_SECONDS)


def _await_live(state: State, host: Host, workers: tuple[str, ...], path: str, install_dir: str) -> bool:
    """On the master: wait until it counts every worker as live; otherwise log why not and fail."""
    deadline = time.monotonic() + HEALTH_SECONDS
    while True:
        _, output = host.run_shell_command(StringCommand(rest_command(path)))
        listed = parse_worker_list(output.stdout)
        missing = _not_live(listed, workers)
        if not missing:
            return True
        if time.monotonic() > deadline:
            break
        gevent.sleep(1)
    _, output = host.run_shell_command(StringCommand(_evidence_command(host.name, missing, install_dir)))
    logger.error(f"{host.print_prefix}{diagnosis(missing, listed, output.stdout, workers)}")
    return False


EVIDENCE = "@@alluxio-reconcile@@"


def _evidence_command(master: str, missing: tuple[str, ...], install_dir: str) -> str:
    """Shell on the master printing what this start wrote to task.log, and the tail of each
    missing worker's own logs (read over the cluster's ssh trust; the master's locally)."""
    log = shlex.quote(f"{install_dir}/logs/task.log")
    tails = (
        f"for f in {shlex.quote(install_dir)}/logs/worker.out {shlex.quote(install_dir)}/logs/worker.log; do "
        '[ -f "$f" ] && { echo "== $f, last written $(date -r "$f" +%FT%T)"; tail -n 10 "$f"; }; done'
    )
    parts = [
        f"echo '{EVIDENCE} task.log'; off=$(cat {shlex.quote(START_OFFSET)} 2>/dev/null || echo 0); "
        f"tail -c +$((off + 1)) {log} 2>/dev/null | tail -n 400"
    ]
    for w in missing:
        reach = (
            tails
            if w == master
            else f"ssh -o BatchMode=yes -o ConnectTimeout=5 {shlex.quote(w)} {shlex.quote(tails)} 2>&1"
        )
        parts.append(f"echo '{EVIDENCE} logs {w}'; {reach}")
    return "; ".join(parts) + "; true"


_HEADER = re.compile(r"^\s*INFO (MASTER|WORKERS)  Connecting to (\S+) as .*$")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$")


def start_lines(region: str) -> tuple[dict[str, str], list[str]]:
    """The lines the last worker launch of ``region`` (task.log since the start) wrote: each
    host's ``Connecting`` header (with its timestamp line), and the remote output after them.
    1.2.0 and 1.3.0 write every host's output as is, interleaved, so it is attributed by what
    the lines say, not by where they are."""
    lines = [line.rstrip("\r") for line in region.splitlines()]
    # The launch: from the first MASTER header after the last WORKERS one (the stop's kill).
    labels = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _HEADER.match(line))]
    stop = max((i for i, label in labels if label == "WORKERS"), default=-1)
    launch = min((i for i, label in labels if label == "MASTER" and i > stop), default=len(lines))
    headers: dict[str, str] = {}
    output: list[str] = []
    for i in range(launch, len(lines)):
        m = _HEADER.match(lines[i])
        if m:
            stamp = lines[i - 1] if i > 0 and _TIMESTAMP.match(lines[i - 1]) else ""
            headers[m.group(2)] = f"{stamp} {lines[i].strip()}".strip()
        elif not _TIMESTAMP.match(lines[i]) and lines[i].strip():
            output.append(lines[i])
    return headers, output


def diagnosis(
    missing: tuple[str, ...], listed: dict[str, int] | None, evidence: str, workers: tuple[str, ...]
) -> str:
    """The failure message of the health check: per missing worker, why it is not live, the
    task.log lines of this start that are its own or name no host, and its own logs."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in evidence.splitlines():
        if line.startswith(EVIDENCE + " "):
            current = sections.setdefault(line[len(EVIDENCE) + 1 :], [])
        else:
            current.append(line)
    headers, output = start_lines("\n".join(sections.get("task.log", [])))
    names = re.compile(r"\b(" + "|".join(re.escape(w) for w in workers) + r")\b")
    anonymous = [line for line in output if not names.search(line)]
    out = [f"workers not live on the master after {HEALTH_SECONDS}s: {', '.join(missing)}"]
    for w in missing:
        age = (listed or {}).get(w)
        state = (
            "the master's web port did not answer"
            if listed is None
            else "not listed by the master"
            if age is None
            else f"listed by the master, last heartbeat {age} s ago"
        )
        out.append(f"--- {w}: {state}")
        out.append(f"    logs/task.log, this start: {headers.get(w, f'no line connecting to {w}')}")
        own = [line for line in output if re.search(rf"\b{re.escape(w)}\b", line)]
        out += [f"      {line}" for line in own]
        if anonymous:
            out.append(
                "    lines of this start that name no host "
                "(1.2.0 and 1.3.0 do not say which host wrote them):"
            )
            out += [f"      {line}" for line in anonymous[-20:]]
        out.append(f"    its own logs on {w}:")
        out += [f"      {line}" for line in sections.get(f"logs {w}", [])[-22:] or ["(none readable)"]]
    return "\n".join(out)


@operation()
def healthy():
    """
    Check the cluster from the master, as the post's last step does in the web UI: the master
    counts every declared worker as live, that is, lists it with a heartbeat within the last
    LIVE_WITHIN_SECONDS (a 1.x master keeps listing a dead worker for five minutes). Retried
    for a short while after a (re)start; otherwise the run fails naming the missing workers and
    quoting what this start wrote to ``logs/task.log`` about them and the tail of their own
    logs (the start scripts' exit codes prove nothing).

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
    yield FunctionCommand(_await_live, (reachable, c.worker_list_path, c.install_dir), {})
