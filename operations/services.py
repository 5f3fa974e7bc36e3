"""Alluxio's daemons: stop before replacing what they run from (the post's step 1), start
(step 8) or restart one worker at a time where a change has an effect, retire the workers that
are no longer declared, and check the master counts every worker (step 9)."""

from __future__ import annotations

import shlex
import time

import gevent
import gevent.event
import gevent.lock
from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, Host, State, StringCommand, operation

from cluster import Cluster
from facts.node import NodeSnapshot
from facts.services import Services, WorkerList, parse_worker_list, worker_list_command
from operations.util import changes, cluster, explain, only_on_master, refuse, snapshots, verdict
from runtime import privilege, progress
from runtime.run import run_of
from runtime.schedule import schedule
from scripts import program

_STOP_DAEMONS = program(__file__, "stop_daemons.sh")


def _bin(script: str, home: str | None = None) -> str:
    return shlex.quote(f"{home or cluster().install_dir}/bin/{script}")


def _stop_command(snap: NodeSnapshot, master: bool = True, worker: bool = True) -> str:
    """Shell stopping this node's daemons (``stop_daemons.sh``): with the release's own
    ``alluxio-stop.sh`` of the folder each runs from, one component at a time (1.2.0 and 1.3.0
    know ``master``, ``worker``, ``workers``, ``all``: no ``local``, and ``all`` reaches every
    worker over ssh), then by PID those it could not stop."""
    s = snap.services
    chosen = [("master", p) for p in s.master_pids if master] + [
        ("worker", p) for p in s.worker_pids if worker
    ]
    scripts = dict.fromkeys((c, s.homes.get(p) or cluster().install_dir) for c, p in chosen)
    pids = shlex.quote(" ".join(str(p) for _, p in chosen))
    by_script = "".join(f" {_bin('alluxio-stop.sh', home)} {component}" for component, home in scripts)
    return f"sh -c {shlex.quote(_STOP_DAEMONS)} stop_daemons.sh {pids}{by_script}"


def _stops(snap: NodeSnapshot, master: bool = True) -> list[str | FunctionCommand]:
    """The stop of this node's daemons (its worker's always), noting when its worker was gone."""
    stop: list[str | FunctionCommand] = [_stop_command(snap, master=master)]
    if snap.services.worker_pids:
        stop.append(FunctionCommand(_note_stopped, (), {}))
    return stop


# Run memo: (WORKER_GONE, host) -> the monotonic time this run saw that host's worker stopped. A
# 1.x master keeps the entry of a worker's address when that worker restarts (getWorkerId returns
# the known id), and the old JVM's last heartbeat stays "live" for LIVE_WITHIN_SECONDS: only a
# heartbeat newer than the stop shows the new JVM registered.
WORKER_GONE = "worker gone at"


def _note_stopped(state: State, host: Host) -> bool:
    run_of(state).memo[(WORKER_GONE, host.name)] = time.monotonic()
    return True


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

        services.stopped(name="Stop Alluxio first", when=host.name in schedule.schedule().stop_first)
    """
    snap = snapshots((host.name,))[host.name]
    running = snap is not None and (snap.services.master_pids or snap.services.worker_pids)
    if not when or not running:
        host.noop("nothing it runs from changes" if running else "no Alluxio daemon runs here")
        return
    assert snap is not None
    yield from changes(_stops(snap), why=f"daemons run and will be stopped: {why}")


@operation()
def retired():
    """
    On a managed host that is no worker (a retired one, or a master that is no worker): no
    worker runs and its RAM folder is not mounted; on a host that is no master (a retired
    master): no master runs. The host's other files stay.

    **Example:**

    .. code:: python

        services.retired(name="Retired hosts run no worker")
    """
    v = verdict("services")
    if not v.details.retire and not v.details.retire_master:
        host.noop(f"as declared: {v.actual}")
        return
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    ram = shlex.quote(cluster().ram_folder)
    worker = v.details.retire and bool(snap.services.worker_pids)
    commands = [_stop_command(snap, master=v.details.retire_master, worker=worker)]
    if v.details.retire and snap.services.is_mount_point(cluster().ram_folder):
        commands.append(f"umount {ram}; ! mountpoint -q {ram}")
    yield from changes(commands, why=v)


def _mount(c: Cluster, snap: NodeSnapshot, old: str) -> tuple[str, list[str], str]:
    """How this node's worker starts without losing what it can keep: the mount option, the
    commands to run between its stop and its start, and what happens to its cache.

    ``NoMount`` where the declared RAM folder is (under) a tmpfs or ramfs mount: the worker
    adopts the block files it finds there (section 11.2). ``SudoMount`` (the post's, which
    ``umount -f``s and mounts an empty ramfs) only where it is not: ``NoMount`` would quietly
    run the worker on ``/dev/shm`` instead. A RAM folder that moved from ``old`` (the node's
    before this run): the old one is unmounted."""
    folder, s = c.ram_folder, snap.services
    between: list[str] = []
    moved = ""
    if old.rstrip("/") != folder.rstrip("/"):
        moved = f"moves its RAM folder from {old} to {folder}: the cache starts empty there"
        inside = folder.rstrip("/").startswith(old.rstrip("/") + "/")
        if s.is_mount_point(old) and not inside:
            between.append(f"umount {shlex.quote(old)}; ! mountpoint -q {shlex.quote(old)}")
            moved += f", and {old} is unmounted"
    if s.in_memory(folder):
        kept = moved or f"keeps its cache: {folder} stays mounted, started with NoMount"
        return "NoMount", between, kept
    empty = f"starts with an empty cache: {folder} is not mounted (SudoMount mounts it)"
    return "SudoMount", between, moved or empty


def _start(c: Cluster, snap: NodeSnapshot, restart: bool) -> tuple[list[str | FunctionCommand], str, str]:
    """The commands (re)starting this node's worker: those before the start, the start
    (``alluxio-start.sh worker MOPT``, to run through a pty: ``sudo`` under ``requiretty``
    needs one), and what happens to its cache."""
    # the RAM folder as it was before this run: its alluxio-env.sh may be rewritten by now
    option, between, cache = _mount(c, snap, schedule().ram_folders.get(host.name, c.ram_folder))
    stop = _stops(snap, master=False) if restart and snap.services.worker_pids else []
    start = f"{_bin('alluxio-start.sh')} worker {option}"
    if option == "NoMount":
        # 1.2.0's is_ram_folder_mounted fails on an unset ALLUXIO_RAM_FOLDER, and NoMount then
        # runs the worker on /dev/shm: the folder is named here (alluxio-env.sh, read after, agrees)
        start = f"ALLUXIO_RAM_FOLDER={shlex.quote(c.ram_folder)} {start}"
    return [*stop, *between], start, cache


@operation()
def master_started(when: bool):
    """
    The master (re)starts alone when the plan says so: ``alluxio-stop.sh master`` if it runs,
    ``alluxio-start.sh master``, then wait until it serves (its REST API answers), so that
    no worker is started before it can register (1.2.0 workers give up after about 30 s,
    while a master replays its journal for as long as the namespace takes). The workers that
    keep running are left to ``restarted``: they re-register, or are restarted.

    + when: this master is in the plan's ``start_masters``: the master is down or runs from
      another release, a version change, its settings changed, or it lists retired workers (a
      1.x master forgets a worker only when it restarts); with fault tolerance, a master that
      is down (each started on its own host, the election picks the leader)

    **Example:**

    .. code:: python

        services.master_started(name="The master runs", when=host.name in schedule.schedule().start_masters)
    """
    c = cluster()
    if not c.is_master(host.name):
        return
    if not when:
        host.noop("the master runs as declared")
        return
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    stop = [_stop_command(snap, worker=False)] if snap.services.master_pids else []
    serving = FunctionCommand(_leader_serves, (), {})
    who = "a master leads and serves" if c.fault_tolerant else "serves"
    yield from changes(
        [*stop, f"{_bin('alluxio-start.sh')} master", serving],
        why=f"the master (re)starts alone, then {who} within {c.master_start_seconds} s: {schedule().why}",
    )


@operation()
def masters_rolled(order: tuple[str, ...]):
    """
    Fault-tolerant masters: restart the running masters of ``order`` one at a time, the
    standbys first and the leader last, so that one failover happens, not N. Each waits for
    the one before it (the operation runs on every master at once; each takes its turn). A
    standby is stopped, started, and back when its own log says it started as a standby
    again. The leader is stopped, a standby takes over (once the old leader's ZooKeeper session
    has expired, since a 1.2.0 master keeps its lead until then), and it is started again, as a
    standby. A failed turn stops the roll: the masters after it keep running as they were.

    + order: the plan's ``roll_masters``

    **Example:**

    .. code:: python

        services.masters_rolled(name="Masters restart one at a time", order=schedule.schedule().roll_masters)
    """
    c = cluster()
    if host.name not in order:
        if c.is_master(host.name):
            host.noop("its master runs as declared")
        return
    if 0 < state.config.PARALLEL < len(order):  # each turn waits in its own greenlet of the pool
        yield from refuse(
            f"--parallel {state.config.PARALLEL} is below the {len(order)} masters that restart one "
            f"at a time (each waits for its turn holding a place in pyinfra's pool): use {len(order)} or more"
        )
        return
    turn = order.index(host.name)
    last = "the leader, last: a standby takes over" if turn == len(order) - 1 else "a standby"
    if state.is_executing:
        progress.show(f"masters rolling: {turn + 1} of {len(order)}: {host.name} ({last})")
    yield from changes(
        [FunctionCommand(_roll_turn, (order,), {})],
        why=f"its master restarts, {turn + 1} of {len(order)} ({last}): {schedule().why}",
    )


ROLL = "masters rolled"  # run memo: one AsyncResult per turn of the roll, True when it went well


def _roll_turn(state: State, host: Host, order: tuple[str, ...]) -> bool:
    """This master's turn of the roll: wait for the one before it, restart, hand on."""
    turns = run_of(state).memo.setdefault(ROLL, [gevent.event.AsyncResult() for _ in order])
    turn = order.index(host.name)
    if turn > 0 and not turns[turn - 1].get():
        logger.error(f"{host.print_prefix}not restarted: the roll stopped at {order[turn - 1]}")
        turns[turn].set(False)
        return False
    try:
        ok = _restart_master(state, host, leader=turn == len(order) - 1)
    except Exception:
        turns[turn].set(False)
        raise
    turns[turn].set(ok)
    return ok


def _restart_master(state: State, host: Host, leader: bool) -> bool:
    """Stop and start this host's master; a leader only once another master leads."""
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    log = shlex.quote(f"{c.install_dir}/logs/master.log")
    _, counted = privilege.run(state, host, f"wc -l < {log} 2>/dev/null || echo 0")
    lines = int((counted.stdout.strip() or "0").split()[0])
    ok, out = privilege.run(state, host, _stop_command(snap, worker=False))
    if not ok:
        logger.error(f"{host.print_prefix}its master did not stop: {out.stderr}")
        return False
    if leader and _await_leader(state, instead_of=host.name) is None:  # a failover
        return False
    ok, out = privilege.run(state, host, f"{_bin('alluxio-start.sh')} master")
    if not ok:
        logger.error(f"{host.print_prefix}its master did not start: {out.stdout}{out.stderr}")
        return False
    return _await_standby(state, host, lines)


def _await_standby(state: State, host: Host, lines: int) -> bool:
    """Wait until this host's master, started again, says it runs as a standby (its own log,
    after its first ``lines`` lines: the 1.x masters log "<master>: Starting standby master."),
    or serves; fail with its logs if its JVM exits."""
    c = cluster()
    log = shlex.quote(f"{c.install_dir}/logs/master.log")
    check = f"tail -n +{lines + 1} {log} 2>/dev/null | grep -c 'Starting standby master' || true"
    deadline = time.monotonic() + c.master_start_seconds
    while time.monotonic() < deadline:
        _, output = privilege.run(state, host, f"{check}; {Services().command(c.worker_list_path)}")
        said, *rest = output.stdout_lines or ["0"]
        now = Services().process(rest)
        if now.listed is not None or (said.strip().isdigit() and int(said) > 0 and now.master_pids):
            return True
        if not now.master_pids:
            break
        gevent.sleep(1)
    _, logs = privilege.run(state, host, _tails_command(c.install_dir, "master"))
    logger.error(f"{host.print_prefix}its master is not back as a standby; its own logs:\n{logs.stdout}")
    return False


@operation()
def workers_started(together: tuple[str, ...]):
    """
    Start this node's worker when the plan lists it among those that start together (down,
    or stopped by this run: a version change, a replaced release folder; or any worker that
    must restart, with ``alluxio_restart=all``), once the master serves. Each with the mount
    option that keeps its cache where it can (see :func:`_mount`).

    + together: the plan's workers (re)started at once

    **Example:**

    .. code:: python

        services.workers_started(name="Workers run", together=schedule.schedule().together)
    """
    if host.name not in together:
        host.noop("its worker runs as declared" if host.name in cluster().workers else "no worker here")
        return
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    before, start, cache = _start(
        c, snap, restart=c.restart == "all" and host.name not in schedule().stop_first
    )
    if state.is_executing:
        host.log(f"its worker {cache}", logger.info)
    yield from changes(
        [*before, StringCommand(start, _get_pty=True)],
        why=f"start this worker (it {cache}): {schedule().why}",
    )


@operation()
def restarted(rolling: tuple[str, ...], rejoin: tuple[str, ...] = ()):
    """
    Restart the worker of this node when the plan lists it, and wait until the master counts
    it live again before the next node's (run with ``_serial=True``: one worker at a time, the
    master and the other workers keep running); each keeps its cache where it can (see
    :func:`_mount`). A worker left running while the master restarted (``rejoin``) must be
    heard from within REJOIN_SECONDS of the master serving again; otherwise it is restarted,
    the same way.

    + rolling: the workers to restart (the plan's), in order
    + rejoin: the workers that kept running across the master's restart

    **Example:**

    .. code:: python

        services.restarted(
            name="Workers restart one at a time", rolling=todo.rolling, rejoin=todo.rejoin, _serial=True
        )
    """
    if host.name not in rolling and host.name not in rejoin:
        host.noop("its worker runs as declared")
        return
    c = cluster()
    snap = snapshots((host.name,))[host.name]
    assert snap is not None
    before, start, cache = _start(c, snap, restart=True)
    if host.name not in rolling:
        # Decided once the master serves again: only its list shows whether this worker's
        # heartbeat survived the master's absence (section 11.3).
        if not state.is_executing:  # the usual case: it rejoins, and nothing changes here
            host.noop(
                f"its worker keeps running while the master restarts: heard from within "
                f"{REJOIN_SECONDS} s of the master serving again, or then restarted (its worker {cache})"
            )
            return
        heard, why = _rejoined(state, host)
        if heard:
            host.noop("its worker rejoined the master")
            return
        host.log(
            f"its worker runs but did not rejoin the master within {REJOIN_SECONDS} s of it serving "
            f"({why}): restarted",
            logger.warning,
        )
    if state.is_executing:
        host.log(f"its worker {cache}", logger.info)
        if host.name in rolling:
            progress.show(
                f"rolling restart: worker {rolling.index(host.name) + 1} of {len(rolling)}: {host.name}"
            )
    wait = FunctionCommand(_await_live_from_master, ((host.name,), c.worker_list_path), {})
    why = f"restart this worker (it {cache}): {schedule().why}"
    yield from changes([*before, StringCommand(start, _get_pty=True), wait], why=why)


# A 1.x worker whose heartbeat thread lives heartbeats every second and re-registers at the
# first answer of a master that does not know it: unheard for this long after the master serves
# again, it gave up (its thread ended, section 11.3) or is otherwise stuck. Either way only a
# restart brings it back, so the tool does not need to tell the two apart, nor to guess how long
# the master took.
REJOIN_SECONDS = 10


def _rejoined(state: State, host: Host) -> tuple[bool, str]:
    """Whether the master hears from this host's worker within REJOIN_SECONDS of serving
    (waiting for it to serve first), and if not, why not."""
    c = cluster()
    master = _await_leader(state)
    if master is None:
        return False, "the master does not serve"
    since = run_of(state).memo.get(SERVING_SINCE, time.monotonic())
    listed, asked = _poll(master, (host.name,), c.worker_list_path, until=since + REJOIN_SECONDS)
    gone = _gone(state)
    return not _not_live(listed, (host.name,), asked, gone), _why_not(host.name, listed, asked, gone)


SERVING_SINCE = "master serving since"  # run memo: when this run first saw the master serve


REPLAYING = "its JVM runs, its REST API does not answer yet (a real master replays its journal)"


def _leader_serves(state: State, host: Host) -> bool:
    return _await_leader(state) is not None


def _await_leader(state: State, instead_of: str = "") -> Host | None:
    """Wait (up to ``alluxio_master_start_seconds``) until the master serves (its REST API
    answers), or with fault tolerance one of the masters (the leader: a standby serves nothing),
    another than ``instead_of`` (a leader just stopped: until its ZooKeeper session expires and
    a standby takes over); failing at once, with the masters' own logs, when no master's JVM runs."""
    c = cluster()
    masters = [state.inventory.get_host(m) for m in c.all_masters if m != instead_of]
    memo = run_of(state).memo
    if instead_of:  # the workers' rejoin counts from the new leader's start
        memo.pop(SERVING_SINCE, None)
    deadline = time.monotonic() + c.master_start_seconds
    ft = c.fault_tolerant
    what = f"a leader among {', '.join(c.all_masters)}" if ft else f"the master {c.master} starting"
    if instead_of:
        what = f"a standby taking over from {instead_of}"
    waiting = progress.Waiting(what, c.master_start_seconds)
    failed = set(getattr(state, "failed_hosts", ()))
    while True:
        running = []
        for master in masters:
            if master in failed:
                continue
            _, output = privilege.run(master.state, master, Services().command(c.worker_list_path))
            now = Services().process(output.stdout_lines)
            if now.listed is not None:
                memo.setdefault(SERVING_SINCE, time.monotonic())
                return master
            if now.master_pids:
                running.append(master.name)
        if running:
            if ft:  # a standby never serves; the leader, once elected, replays the journal first
                waiting.seen(f"JVMs run on {', '.join(running)}, none serves yet (an election, a replay)")
            else:
                waiting.seen(REPLAYING)
        if not running or time.monotonic() > deadline:
            break
        gevent.sleep(1)
    memo.pop(SERVING_SINCE, None)
    for master in masters:
        if master in failed:
            continue
        _, logs = privilege.run(master.state, master, _tails_command(c.install_dir, "master"))
        late = f"it did not serve within {c.master_start_seconds} s"
        what = "its JVM exited" if master.name not in running else late
        logger.error(f"{master.print_prefix}the master does not serve: {what}; its own logs:\n{logs.stdout}")
    return None


def _await_live_from_master(state: State, host: Host, workers: tuple[str, ...], path: str) -> bool:
    """On the master (from a worker's operation): wait until it counts ``workers`` live."""
    master = _await_leader(state)
    if master is None:
        return False
    listed, asked = _poll(master, workers, path, what=f"{', '.join(workers)} restarted")
    missing = _not_live(listed, workers, asked, _gone(state))
    if missing:
        why = _why_not(missing[0], listed, asked, _gone(state))
        logger.error(f"{host.print_prefix}not live on the master after {cluster().health_seconds}s: {why}")
    return not missing


def _poll(
    master: Host, workers: tuple[str, ...], path: str, until: float | None = None, what: str = ""
) -> tuple[WorkerList | None, float]:
    """The master's list once every worker of ``workers`` is live in it, or the last one seen
    after the cluster's ``health_seconds`` (or at ``until``, a monotonic time), with the time
    it was asked for. ``what``: the wait's name in the progress lines."""
    deadline = time.monotonic() + cluster().health_seconds if until is None else until
    waiting = progress.Waiting(what or "waiting for workers to be live", deadline - time.monotonic())
    while True:
        asked = time.monotonic()
        _, output = privilege.run(master.state, master, worker_list_command(path))
        listed = parse_worker_list(output.stdout_lines)
        missing = _not_live(listed, workers, asked, _gone(master.state))
        if not missing or time.monotonic() > deadline:
            return listed, asked
        live = [w for w in workers if w not in missing]
        waiting.seen(f"live {len(live)} of {len(workers)}" + (f" ({', '.join(live)})" if live else "")
                     + f"; waiting for {', '.join(missing)}")  # fmt: skip
        gevent.sleep(1)


def _state_of(worker: str, listed: WorkerList | None, address: str = "", old: bool = False) -> str:
    """Why ``worker`` is not live in ``listed``; ``old``: its entry is from before this run
    stopped it."""
    if listed is None:
        return "the master's web port did not answer"
    age = listed.age_of(worker, address)
    if age is None:
        return "not listed by the master"
    names = [n for n in listed.names_of(worker, address) if n != worker]
    why = f"listed by the master{' as ' + ', '.join(names) if names else ''}, last heartbeat {age} s ago"
    return why + (", before this run stopped it: its new JVM has not registered" if old else "")


def _gone(state: State) -> dict[str, float]:
    """Worker -> when this run stopped it (monotonic)."""
    memo = run_of(state).memo
    return {k[1]: v for k, v in memo.items() if isinstance(k, tuple) and k[0] == WORKER_GONE}


def heard_before(age: int, asked: float, gone: float) -> bool:
    """Whether a heartbeat ``age`` seconds old in a list asked for at ``asked`` may be older than
    ``gone`` (monotonic times). The master rounds ages down to whole seconds: one more is the
    safe side."""
    return age + 1 > asked - gone


def _old(listed: WorkerList | None, worker: str, asked: float, gone: dict[str, float]) -> bool:
    """Whether the master's entry for ``worker`` (the list asked for at ``asked``) may be from
    before this run stopped it."""
    age = None if listed is None else listed.age_of(worker, cluster().node(worker).address)
    return age is not None and worker in gone and heard_before(age, asked, gone[worker])


def _not_live(
    listed: WorkerList | None, workers: tuple[str, ...], asked: float, gone: dict[str, float]
) -> tuple[str, ...]:
    """The workers of ``workers`` not live in ``listed`` (by name or address): listed, heard
    from within LIVE_WITHIN_SECONDS, and since this run stopped it (``gone``)."""
    c = cluster()
    return tuple(
        w
        for w in workers
        if listed is None or not listed.is_live(w, c.node(w).address) or _old(listed, w, asked, gone)
    )


def _why_not(worker: str, listed: WorkerList | None, asked: float, gone: dict[str, float]) -> str:
    address = cluster().node(worker).address
    return _state_of(worker, listed, address, _old(listed, worker, asked, gone))


def _await_live(state: State, host: Host, workers: tuple[str, ...], path: str, install_dir: str) -> bool:
    """On the master (the leader, with fault tolerance): once it serves, wait until it counts
    every worker as live; otherwise log why not and fail."""
    leader = _await_leader(state)
    if leader is None:
        return False
    host = leader
    # a worker whose start failed in this run has failed the run already, with its own output
    failed = {h.name for h in getattr(state, "failed_hosts", ())}
    workers = tuple(w for w in workers if w not in failed)
    listed, asked = _poll(host, workers, path, what="every worker live on the master")
    gone = _gone(state)
    missing = _not_live(listed, workers, asked, gone)
    if not missing:
        return True
    _, output = privilege.run(state, host, _evidence_command(host.name, missing, install_dir))
    c = cluster()
    message = diagnosis(
        missing,
        listed,
        output.stdout,
        c.health_seconds,
        {w: c.node(w).address for w in workers},
        tuple(w for w in missing if _old(listed, w, asked, gone)),
    )
    logger.error(f"{host.print_prefix}{message}")
    return False


EVIDENCE = "@@alluxio-reconcile@@"


def _tails_command(install_dir: str, daemon: str) -> str:
    """Shell printing the last lines of a daemon's own logs (``logs/<daemon>.out``, ``.log``)."""
    logs = f"{shlex.quote(install_dir)}/logs"
    return (
        f"for f in {logs}/{daemon}.out {logs}/{daemon}.log; do "
        '[ -f "$f" ] && { echo "== $f, last written $(date -r "$f" +%FT%T)"; tail -n 10 "$f"; }; done; true'
    )


def _evidence_command(master: str, missing: tuple[str, ...], install_dir: str) -> str:
    """Shell on the master printing the tail of each missing worker's own logs (read over the
    cluster's ssh trust; the master's locally)."""
    tails = _tails_command(install_dir, "worker")
    parts = []
    for w in missing:
        reach = (
            tails
            if w == master
            else f"ssh -o BatchMode=yes -o ConnectTimeout=5 {shlex.quote(w)} {shlex.quote(tails)} 2>&1"
        )
        parts.append(f"echo '{EVIDENCE} logs {w}'; {reach}")
    return "; ".join(parts) + "; true"


def diagnosis(
    missing: tuple[str, ...],
    listed: WorkerList | None,
    evidence: str,
    seconds: int = 30,
    addresses: dict[str, str] | None = None,
    old: tuple[str, ...] = (),
) -> str:
    """The failure message of the health check: per missing worker, why it is not live, and
    the tail of its own logs (a worker's start failing, a mount refused, shows in its own
    operation's output, above)."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in evidence.splitlines():
        if line.startswith(EVIDENCE + " "):
            current = sections.setdefault(line[len(EVIDENCE) + 1 :], [])
        else:
            current.append(line)
    out = [f"workers not live on the master after {seconds}s: {', '.join(missing)}"]
    for w in missing:
        out.append(f"--- {w}: {_state_of(w, listed, (addresses or {}).get(w, ''), w in old)}")
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
    quoting the tail of their own logs (the start scripts' exit codes prove nothing). It waits
    for the master to serve first (``alluxio_master_start_seconds``), so that a master slow to
    replay its journal does not use up ``alluxio_health_seconds``.

    **Example:**

    .. code:: python

        services.healthy(name="Every worker live on the master")
    """
    if not only_on_master():
        return
    c = cluster()
    if not schedule().check_health:
        host.noop(f"the master counts all {len(c.workers)} workers as live")
        return
    # An unreachable worker fails the run as unreachable; the others are expected live.
    snaps = snapshots()
    reachable = tuple(w for w in c.workers if snaps.get(w) is not None)
    if not state.is_executing and state.config.DIFF:
        explain(f"check the master counts all of {', '.join(reachable)} as live after the changes")
    yield FunctionCommand(_await_live, (reachable, c.worker_list_path, c.install_dir), {})
