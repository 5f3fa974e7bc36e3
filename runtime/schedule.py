"""What a converge stops and (re)starts, decided once per run on the state before anything
changes: a restart only where a change has an effect, and one worker at a time where it can.

Who reads what (the releases' scripts and sources): the daemons read ``conf/alluxio-env.sh``
and ``conf/alluxio-site.properties`` when they start, each site key read by the daemons the
release's key table says (``alluxio_site.readers_of``); ``conf/workers`` and the launcher are
read only by the start and stop scripts on the master, so changing them restarts nothing. A
release folder replaced under running daemons would lose what they write: they stop first.

The order of a start (section 11.3 of the interface reference): the master first, alone, and
the workers only once it serves; 1.2.0 workers give up registering after about 30 s and stop
heartbeating for good 10 s after losing their master, while a real master replays its journal
for seconds to minutes. So no worker is started on a fixed delay, and a worker that kept
running while the master restarted must be heard from again, or it is restarted.
"""

from __future__ import annotations

from dataclasses import dataclass

import gevent.lock
from pyinfra import logger, state

from alluxio_site import BOTH, MASTER, WORKER, readers_of
from cluster import MASTER_ONLY_ENV, WORKER_ONLY_ENV, Cluster
from facts.node import NodeSnapshot
from layout import ram_folder
from operations.util import cluster
from resources import IN_SYNC, Verdict, node_verdicts
from runtime.run import read_all, run_of


@dataclass(frozen=True)
class Schedule:
    """Decisions that span nodes, taken once per run before anything changes."""

    stop_first: frozenset[str]  # nodes whose daemons stop before their release folder is replaced
    switch: bool  # the journal moves to another release (a version change): everything stops first
    start_master: bool  # the master (re)starts, alone, and serves before any worker starts
    start_masters: tuple[str, ...]  # the masters that (re)start: the master, or fault-tolerant ones down
    roll_masters: tuple[str, ...]  # fault tolerance: running masters restarted one at a time, the leader last
    together: tuple[str, ...]  # workers (re)started at once once the master serves: down, or stopped
    rolling: tuple[str, ...]  # running workers restarted one at a time, each live before the next
    rejoin: tuple[str, ...]  # workers left running while the master restarts: heard from, or restarted
    retire: frozenset[str]  # hosts that are no workers: their worker stops, the RAM folder goes
    ram_folders: dict[str, str]  # each node's ALLUXIO_RAM_FOLDER before the run (a moved one is unmounted)
    check_health: bool  # something (re)starts: wait for every worker to be live
    tarball_chain: tuple[str, ...]  # nodes the tarball streams to from the master, in this order
    extract_afresh: frozenset[str]  # nodes whose release is extracted anew: they unpack the stream
    anything_to_change: bool
    why: str
    refusal: str = ""  # why the run changes nothing at all (every node refuses)
    leaving: str = ""  # fault tolerance: the release the daemons run from before a version change


def schedule() -> Schedule:
    """The run's :class:`Schedule`, from the same verdicts the drift report prints; computed on the
    first call (before any change) and kept for the run, as a restart must be decided on what
    was, not on what the run has already fixed."""
    run = run_of(state)
    # pyinfra prepares the hosts in parallel greenlets: the first computes, the others wait.
    with run.locks.setdefault("schedule", gevent.lock.Semaphore()):
        if "schedule" not in run.memo:
            snaps = _read()
            run.memo["schedule_snapshots"] = snaps
            run.memo["schedule"] = decide(cluster(), snaps)
            if isinstance(state.limit_hosts, list):
                for line in outside_limit(
                    cluster(), snaps, run.memo["schedule"], {h.name for h in state.limit_hosts}
                ):
                    logger.warning(line)
        return run.memo["schedule"]


def snapshots() -> dict[str, NodeSnapshot | None]:
    """The nodes as read before anything changed: what the run's :class:`Schedule` decided on."""
    schedule()
    return run_of(state).memo["schedule_snapshots"]


def outside_limit(
    c: Cluster, snaps: dict[str, NodeSnapshot | None], p: Schedule, limit: set[str]
) -> list[str]:
    """What a run limited to ``limit`` (pyinfra's --limit) leaves undone on the other hosts:
    it changes only the hosts it names, and says so rather than leave it unsaid."""
    lines = []
    for name in c.names:
        if name in limit:
            continue
        pending = [r for r, v in node_verdicts(c, name, snaps).items() if v.status != IN_SYNC]
        if name == c.master and p.start_master:
            pending.append("the master's (re)start")
        if name in p.rolling or name in p.together:
            pending.append("its worker's restart")
        if pending:
            lines.append(
                f"--limit leaves {name} as it is: {', '.join(pending)}; run without --limit to finish"
            )
    return lines


def _read() -> dict[str, NodeSnapshot | None]:
    c = cluster()
    return read_all(state, [state.inventory.get_host(n) for n in c.names], c)


def env_changes(c: Cluster, name: str, snap: NodeSnapshot) -> set[str]:
    """The alluxio-env.sh variables whose value on node ``name`` differs from the declaration."""
    have, want = snap.alluxio_env.settings, c.env_settings_of(name)
    if not snap.alluxio_env.file.exists:
        return set(want)
    return {k for k in set(have) | set(want) if have.get(k) != want.get(k)}


def site_changes(c: Cluster, snap: NodeSnapshot, daemon: str) -> set[str]:
    """The site keys ``daemon`` (master or worker) reads whose value on the node differs from
    the declaration."""
    have, want = snap.alluxio_site.properties, c.site_properties
    keys = {k for k in set(have) | set(want) if have.get(k) != want.get(k)}
    return {k for k in keys if readers_of(c.version, k) in (daemon, BOTH)}


def decide(c: Cluster, snaps: dict[str, NodeSnapshot | None]) -> Schedule:
    verdicts: dict[str, dict[str, Verdict]] = {n: node_verdicts(c, n, snaps) for n in c.names}
    reachable = {n: s for n, s in snaps.items() if s is not None}

    def runs_here(snap: NodeSnapshot) -> bool:
        pids = (*snap.services.master_pids, *snap.services.worker_pids)
        return c.install_dir in snap.services.homes_of(pids)

    fresh = {n for n in reachable if verdicts[n]["install_dir"].details.fresh}
    stop_first = frozenset(n for n in fresh if runs_here(reachable[n]))
    journal = verdicts[c.master]["journal"]
    switch = bool(journal.details.carry_from)

    refusal = ""
    roll_masters: tuple[str, ...] = ()
    leaving = ""
    if c.fault_tolerant:
        # a version change: every daemon stops first, every master starts from the new release
        # (the shared journal stays where it is, backed up); no roll across two releases
        others = {
            h
            for s in reachable.values()
            for h in s.services.homes_of((*s.services.master_pids, *s.services.worker_pids))
            if h and h != c.install_dir
        }
        leaving = sorted(others)[0].rpartition("/")[2] if others else ""
        switch = bool(leaving)
        start_masters, roll_masters, master_reasons, refusal = _fault_tolerant_masters(
            c, verdicts, reachable, stop_first, switch
        )
        if switch:
            master_reasons.insert(0, f"version change ({', '.join(sorted(others))} -> {c.install_dir})")
        start_master = bool(start_masters or roll_masters)
    else:
        master_reasons = _master_reasons(c, verdicts, reachable, stop_first, switch)
        start_master = bool(master_reasons)
        start_masters = (c.master,) if start_master else ()

    def worker_reasons(w: str) -> list[str]:
        snap = reachable.get(w)
        if snap is None:
            return []
        why = []
        v = verdicts[w]["services"]
        # a worker the master cannot hear while the master restarts anyway: it may rejoin
        if "worker" in v.details.down and not (v.details.silent and start_master):
            why.append(f"{w}: {v.details.worker_state}")
        # with fault tolerance a worker asks ZooKeeper for the leader (1.2.0 AbstractMasterClient):
        # ALLUXIO_MASTER_HOSTNAME (-Dalluxio.master.hostname) is of no effect on it
        ignored = {"ALLUXIO_MASTER_HOSTNAME"} if c.fault_tolerant else set()
        if keys := env_changes(c, w, snap) - set(MASTER_ONLY_ENV) - ignored:
            why.append(f"{w}'s settings ({', '.join(sorted(keys))})")
        if keys := site_changes(c, snap, WORKER):
            why.append(f"site keys {w}'s worker reads ({', '.join(sorted(keys))})")
        tier_dirs = verdicts[w].get("tier_dirs")
        if tier_dirs is not None and tier_dirs.details.moved and snap.services.worker_pids:
            moved = tier_dirs.details.moved
            why.append(f"{w}'s tier folder changed under it ({', '.join(moved)})")
        if w in stop_first:
            why.append(f"{w}'s release folder is replaced")
        return why

    workers = {w: worker_reasons(w) for w in c.workers}
    changed = [w for w, why in workers.items() if why]

    def stopped(w: str) -> bool:
        """Not running when the workers start: down, or stopped by this run."""
        return switch or w in stop_first or not reachable[w].services.worker_pids

    together = tuple(w for w in changed if stopped(w) or c.restart == "all")
    rolling = tuple(w for w in changed if w not in together)
    daemons = {n: verdicts[n]["services"].details for n in reachable}
    retire = frozenset(n for n, d in daemons.items() if d.retire or d.retire_master)
    # a leader retired by this run: a failover, which the workers must survive as a restart's
    # (1.2.0: the new leader numbers workers from 1 again and takes a heartbeat of any id it
    # gave, so a worker can go on heartbeating under another's id, unlisted)
    serving_now = next((d.serving for d in daemons.values() if d.serving), ())
    failover = any(daemons[n].retire_master for n in serving_now if n in daemons)
    rejoin = tuple(w for w in c.workers if (start_master or failover) and w in reachable and w not in changed)
    services_off = any(verdicts[n]["services"].status != IN_SYNC for n in reachable)
    reasons = master_reasons + [r for w in changed for r in workers[w]]
    reasons += [f"retire {n}" for n in sorted(retire)]
    return Schedule(
        stop_first=stop_first,
        switch=switch,
        start_master=start_master,
        start_masters=start_masters,
        roll_masters=roll_masters,
        leaving=leaving,
        refusal=refusal,
        together=together,
        rolling=rolling,
        rejoin=rejoin,
        retire=retire,
        ram_folders={
            n: ram_folder(s.alluxio_env.settings) for n, s in reachable.items() if s.alluxio_env.file.exists
        },
        check_health=start_master or bool(together or rolling) or services_off,
        tarball_chain=tuple(
            n
            for n in c.names
            if n != c.master and n in reachable and verdicts[n]["tarball"].status != IN_SYNC
        ),
        extract_afresh=frozenset(
            n for n in c.names if n in reachable and verdicts[n]["install_dir"].details.fresh
        ),
        anything_to_change=any(v.status != IN_SYNC for vs in verdicts.values() for v in vs.values()),
        why="; ".join(reasons) or "nothing restarts",
    )


def _master_reasons(
    c: Cluster,
    verdicts: dict[str, dict[str, Verdict]],
    reachable: dict[str, NodeSnapshot],
    stop_first: frozenset[str],
    switch: bool,
) -> list[str]:
    """Why the one master (re)starts."""
    journal = verdicts[c.master]["journal"]
    master_reasons: list[str] = []
    if switch:
        master_reasons.append(f"version change ({journal.details.carry_from} -> {c.release})")
    if "master" in verdicts[c.master]["services"].details.down:
        master_reasons.append(f"master: {verdicts[c.master]['services'].details.master_state}")
    if c.master in stop_first:
        master_reasons.append(f"{c.master}'s release folder is replaced")
    master_snap = reachable.get(c.master)
    if master_snap is not None and (keys := env_changes(c, c.master, master_snap) - set(WORKER_ONLY_ENV)):
        master_reasons.append(f"the master's settings ({', '.join(sorted(keys))})")
    if master_snap is not None and (keys := site_changes(c, master_snap, MASTER)):
        master_reasons.append(f"site keys the master reads ({', '.join(sorted(keys))})")
    forget = verdicts[c.master]["services"].details.forget
    master_reasons += [f"forget {h}" for h in forget]  # a 1.x master forgets a worker only when restarted
    return master_reasons


def _fault_tolerant_masters(
    c: Cluster,
    verdicts: dict[str, dict[str, Verdict]],
    reachable: dict[str, NodeSnapshot],
    stop_first: frozenset[str],
    switch: bool = False,
) -> tuple[tuple[str, ...], tuple[str, ...], list[str], str]:
    """Fault-tolerant masters: (those that start, those that roll, the reasons, a refusal).
    Masters down start (any of them may then lead). A running master whose settings or site
    keys changed restarts one at a time, the standbys first and the leader last, so that one
    failover happens, not N; the leader also restarts when it lists a retired worker (the
    standby that takes over starts with no worker list). A version change (``switch``) stops
    every daemon first: then every master starts, and none rolls. A master whose release folder
    is replaced stops first and starts again (any other master may lead meanwhile). Refused: two
    masters serving at once (a person looks first), a ZooKeeper no master hears (they could not
    elect a leader), and a roll with no leader to fail over from."""
    seen = [m for m in c.all_masters if m in reachable]
    if switch:
        down = tuple(seen)
    else:  # down: no master JVM, or stopped first by this run
        down = tuple(m for m in seen if not reachable[m].services.master_pids or m in stop_first)
    serving = next((v["services"].details.serving for v in verdicts.values() if v.get("services")), ())
    leader = serving[0] if len(serving) == 1 else ""
    reasons = [f"{m}: {verdicts[m]['services'].details.master_state}" for m in down]
    why: dict[str, list[str]] = {}
    for m in c.all_masters:
        snap = reachable.get(m)
        if snap is None or m in down:
            continue
        if keys := env_changes(c, m, snap) - set(WORKER_ONLY_ENV):
            why.setdefault(m, []).append(f"{m}'s settings ({', '.join(sorted(keys))})")
        if keys := site_changes(c, snap, MASTER):
            why.setdefault(m, []).append(f"site keys {m}'s master reads ({', '.join(sorted(keys))})")
    if c.is_master(leader) and (forget := verdicts[leader]["services"].details.forget):
        why.setdefault(leader, []).append(f"the leader {leader} forgets {', '.join(forget)}")
    roll = tuple(sorted(why, key=lambda m: (m == leader, c.all_masters.index(m))))
    if roll:
        order = ", ".join(f"{m} (the leader)" if m == leader else m for m in roll)
        reasons.append(f"masters restart one at a time, the leader last: {order}")
        reasons += [r for m in roll for r in why[m]]
    refusal = ""
    if seen and not any(any(reachable[m].zookeeper.values()) for m in seen):
        refusal = (
            f"no ZooKeeper server ({c.zookeeper}) answers srvr from {', '.join(seen)}: the masters could "
            "not elect a leader; start ZooKeeper (the tool does not run it) or fix alluxio_zookeeper"
        )
    elif len(serving) > 1:
        refusal = f"{len(serving)} masters serve at once ({', '.join(serving)}): a person must look first"
    elif roll and not leader:
        refusal = f"no master leads now: {', '.join(roll)} would restart without a leader to fail over from"
    return down, roll, reasons, refusal
