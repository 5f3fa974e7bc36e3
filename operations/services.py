"""Alluxio's daemons: stop before replacing what they run from (the post's step 1), start
(step 8) or restart one worker at a time where a change has an effect, retire the workers that
are no longer declared, and check the master counts every worker (step 9)."""

from __future__ import annotations

import re
import shlex
import time

import gevent
import gevent.lock
from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, Host, State, StringCommand, operation

from cluster import Cluster
from facts import privilege
from facts.node import NodeSnapshot
from facts.services import WorkerList, parse_worker_list, worker_list_command
from operations.plan import plan
from operations.util import changes, cluster, explain, only_on_master, snapshots, verdict

STATE_DIR = "/etc/alluxio-reconcile"
START_OFFSET = f"{STATE_DIR}/task.log.offset"  # task.log's size when the last start began


def _bin(script: str, home: str | None = None) -> str:
    return shlex.quote(f"{home or cluster().install_dir}/bin/{script}")


def _stop_command(snap: NodeSnapshot, master: bool = True, worker: bool = True) -> str:
    """Shell stopping this node's daemons with the release's own ``alluxio-stop.sh`` of the
    folder each runs from, one component at a time (1.2.0 and 1.3.0 know ``master``, ``worker``,
    ``workers``, ``all``: no ``local``, and ``all`` reaches every worker over ssh). Daemons the
    script could not stop (a missing configuration makes it refuse) are then stopped by PID,
    each checked to still be an Alluxio JVM, with SIGKILL after 30 s as ``killAll`` does. A
    stopped daemon is woken first, so that it can stop."""
    s = snap.services
    chosen = [("master", p) for p in s.master_pids if master] + [
        ("worker", p) for p in s.worker_pids if worker
    ]
    scripts = dict.fromkeys((c, s.homes.get(p) or cluster().install_dir) for c, p in chosen)
    by_script = " ".join(
        f"[ -x {_bin('alluxio-stop.sh', home)} ] && {_bin('alluxio-stop.sh', home)} {component};"
        for component, home in scripts
    )
    pids = " ".join(str(p) for _, p in chosen)
    # A stopped JVM (SIGSTOP: frozen by a debugger, a cgroup freezer) handles no SIGTERM until it
    # runs again: the release's killAll would wait 30 s for it, then kill -9.
    wake = f"kill -CONT {pids} 2>/dev/null; " if pids else ""
    left = (
        f'left=; for p in {pids}; do grep -qa alluxio /proc/$p/cmdline 2>/dev/null && left="$left $p"; done'
    )
    return (
        f'{wake}{by_script} {left}; [ -z "$left" ] && exit 0; '
        'echo "stopping by PID:$left" >&2; kill $left 2>/dev/null; '
        f'for i in $(seq 30); do {left}; [ -z "$left" ] && exit 0; sleep 1; done; '
        "kill -9 $left 2>/dev/null; true"
    )


@operation()
def stopped(when: bool, why: str = ""):
    """
    Stop this node's Alluxio daemons when ``when`` holds: before the release folder they run
    from is replaced (a fresh extraction), or before the journal moves to another release.

    + when: the run's plan says this node's daemons must stop now
    + why: the plan's reason, for the dry run

    Behaviour:
        ``bin/alluxio-stop.sh master`` and ``worker`` of the folder each daemon runs from, for
        the daemons that run here; daemons left running (the release gone, or its
        configuration missing) are stopped by PID.

    **Example:**

    .. code:: python

        services.stopped(name="Stop Alluxio first", when=host.name in plan.plan().stop_first)
    """
    snap = snapshots((host.name,))[host.name]
    running = snap is not None and (snap.services.master_pids or snap.services.worker_pids)
    if not when or not running:
        host.noop("nothing it runs from changes" if running else "no Alluxio daemon runs here")
        return
    assert snap is not None
    yield from changes([_stop_command(snap)], why=f"daemons run and will be stopped: {why}")


@operation()
def retired():
    """
    On a managed host that is no worker (a retired one, or a master that is no worker): no
    worker runs and its RAM folder is not mounted; the host's other files stay.

    **Example:**

    .. code:: python

        services.retired(name="Retired hosts run no worker")
    """
    v = verdict("services")
    if not v.details.get("retire"):
        host.noop(f"as declared: {v.actual}")
        return
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    ram = shlex.quote(cluster().ram_folder)
    commands = [_stop_command(snap, master=False)] if snap.services.worker_pids else []
    if snap.services.ram_mounted:
        commands.append(f"umount {ram}; ! mountpoint -q {ram}")
    yield from changes(commands, why=v)


def task_log(c: Cluster) -> str:
    """Where 1.2.0 and 1.3.0 write ``logs/task.log``: next to ``bin/``."""
    return f"{c.install_dir}/logs/task.log"


@operation()
def started(start_all: bool, restart_master: bool = False):
    """
    Run Alluxio from the master: ``alluxio-start.sh all`` (the post's command: it stops every
    daemon, starts the master, then every worker of ``conf/workers`` over the launcher with
    ``SudoMount``) when ``start_all``; the master alone (``alluxio-stop.sh master``,
    ``alluxio-start.sh master``) when ``restart_master``, so that it forgets retired workers
    (the others re-register at their next heartbeat).

    + start_all: the run's plan says the master must (re)start: it is down or runs from another
      release, a version change, its settings changed (or ``alluxio_restart=all``)
    + restart_master: the master lists workers that were retired

    Behaviour:
        Before ``start all``, the size of ``logs/task.log`` is noted on the master
        (``/etc/alluxio-reconcile/task.log.offset``), so that the health check quotes what
        this start wrote there, and nothing older.

    **Example:**

    .. code:: python

        services.started(name="Alluxio runs", start_all=plan.plan().start_all)
    """
    c = cluster()
    if host.name != c.master:
        host.noop(f"started from {c.master}" if start_all else "started, when it must, one worker at a time")
        return
    if start_all:
        log, offset = shlex.quote(task_log(c)), shlex.quote(START_OFFSET)
        note = (
            f"mkdir -p {shlex.quote(STATE_DIR)} && "
            f"{{ stat -c %s {log} 2>/dev/null || echo 0; }} > {offset}.tmp && mv -f {offset}.tmp {offset}"
        )
        yield from changes(
            [f"{note} && {_bin('alluxio-start.sh')} all"], why=f"alluxio-start.sh all: {plan().why}"
        )
    elif restart_master:
        restart = f"{_bin('alluxio-stop.sh')} master; {_bin('alluxio-start.sh')} master"
        yield from changes([restart], why=f"the master alone: {plan().why}")
    else:
        host.noop("the master runs as declared")


@operation()
def restarted(rolling: tuple[str, ...]):
    """
    Restart the worker of this node when the plan lists it, and wait until the master counts
    it live again before the next node's (run with ``_serial=True``: one worker at a time, the
    master and the other workers keep running). ``alluxio-stop.sh worker`` from the folder it
    runs from, then ``alluxio-start.sh worker SudoMount`` through a pty (``sudo`` under
    ``requiretty`` needs one).

    + rolling: the workers to restart (the plan's), in order

    **Example:**

    .. code:: python

        services.restarted(name="Workers restarted one at a time", rolling=plan.plan().rolling, _serial=True)
    """
    if host.name not in rolling:
        host.noop("its worker runs as declared")
        return
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    stop = _stop_command(snap, master=False) if snap.services.worker_pids else "true"
    start = StringCommand(f"{_bin('alluxio-start.sh')} worker SudoMount", _get_pty=True)
    wait = FunctionCommand(_await_live_from_master, ((host.name,), c.worker_list_path), {})
    yield from changes([stop, start, wait], why=f"restart this worker: {plan().why}")


def _await_live_from_master(state: State, host: Host, workers: tuple[str, ...], path: str) -> bool:
    """On the master (from a worker's operation): wait until it counts ``workers`` live."""
    master = state.inventory.get_host(cluster().master)
    listed = _poll(master, workers, path)
    missing = _not_live(listed, workers)
    if missing:
        why = _state_of(missing[0], listed, cluster().node(missing[0]).address)
        logger.error(f"{host.print_prefix}not live on the master after {cluster().health_seconds}s: {why}")
    return not missing


def _poll(master: Host, workers: tuple[str, ...], path: str) -> WorkerList | None:
    """The master's list once every worker of ``workers`` is live in it, or the last one seen
    after the cluster's ``health_seconds``."""
    deadline = time.monotonic() + cluster().health_seconds
    while True:
        _, output = privilege.run(master.state, master, worker_list_command(path))
        listed = parse_worker_list(output.stdout_lines)
        if not _not_live(listed, workers) or time.monotonic() > deadline:
            return listed
        gevent.sleep(1)


def _state_of(worker: str, listed: WorkerList | None, address: str = "") -> str:
    if listed is None:
        return "the master's web port did not answer"
    age = listed.age_of(worker, address)
    if age is None:
        return "not listed by the master"
    names = [n for n in listed.names_of(worker, address) if n != worker]
    return f"listed by the master{' as ' + ', '.join(names) if names else ''}, last heartbeat {age} s ago"


def _not_live(listed: WorkerList | None, workers: tuple[str, ...]) -> tuple[str, ...]:
    """The workers of ``workers`` that are not live in ``listed`` (by name or address)."""
    c = cluster()
    return tuple(w for w in workers if listed is None or not listed.is_live(w, c.node(w).address))


def _await_live(state: State, host: Host, workers: tuple[str, ...], path: str, install_dir: str) -> bool:
    """On the master: wait until it counts every worker as live; otherwise log why not and fail."""
    listed = _poll(host, workers, path)
    missing = _not_live(listed, workers)
    if not missing:
        return True
    _, output = privilege.run(state, host, _evidence_command(host.name, missing, install_dir))
    c = cluster()
    addresses = {w: c.node(w).address for w in workers}
    message = diagnosis(missing, listed, output.stdout, workers, c.health_seconds, addresses)
    logger.error(f"{host.print_prefix}{message}")
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
    missing: tuple[str, ...],
    listed: WorkerList | None,
    evidence: str,
    workers: tuple[str, ...],
    seconds: int = 30,
    addresses: dict[str, str] | None = None,
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
    out = [f"workers not live on the master after {seconds}s: {', '.join(missing)}"]
    for w in missing:
        out.append(f"--- {w}: {_state_of(w, listed, (addresses or {}).get(w, ''))}")
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
