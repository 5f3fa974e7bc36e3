"""What a converge stops and restarts, decided on recorded node states: a restart only where a
change has an effect, one worker at a time where it can (issue 10)."""

from __future__ import annotations

from dataclasses import replace

from cluster import Cluster, Member
from facts.release import InstallState, ReleasesState
from facts.services import WorkerList
from resources import journal, old_releases, services
from resources import release as resources_release
from runtime.schedule import decide, env_changes
from tests.recorded import cluster, snapshots, with_file

C = cluster()
CONVERGED = snapshots("converged")
WORKERS = ("server06", "server07", "server08")


def declared(**env: str) -> Cluster:
    return C.model_copy(update={"env": tuple(env.items())})


def with_env(name: str, text: str) -> dict:
    return {**CONVERGED, name: with_file(CONVERGED[name], "alluxio_env", text)}


def test_a_converged_cluster_has_nothing_to_stop_or_start() -> None:
    p = decide(C, CONVERGED)
    assert (p.stop_first, p.switch, p.start_master, p.together, p.rolling, p.rejoin, p.retire) == (
        frozenset(), False, False, (), (), (), frozenset(),
    )  # fmt: skip
    assert not p.check_health and not p.anything_to_change


def test_a_setting_only_workers_read_restarts_the_workers_one_at_a_time() -> None:
    p = decide(declared(ALLUXIO_WORKER_MEMORY_SIZE="2GB"), CONVERGED)
    assert not p.start_master and p.rolling == WORKERS and p.together == ()
    assert "server06's settings (ALLUXIO_WORKER_MEMORY_SIZE)" in p.why
    # all at once, when asked (the master stays up)
    everything = declared(ALLUXIO_WORKER_MEMORY_SIZE="2GB").model_copy(update={"restart": "all"})
    p = decide(everything, CONVERGED)
    assert not p.start_master and p.together == WORKERS and p.rolling == ()


def test_a_setting_the_master_reads_restarts_it_alone_and_the_workers_rejoin() -> None:
    p = decide(declared(ALLUXIO_MASTER_JAVA_OPTS="-Xmx1g"), CONVERGED)
    assert p.start_master and p.rolling == () and p.together == () and p.rejoin == WORKERS
    assert "the master's settings (ALLUXIO_MASTER_JAVA_OPTS)" in p.why
    # read by both: the master first, then each worker, one at a time
    p = decide(declared(JAVA="/usr/bin/java"), CONVERGED)
    assert p.start_master and p.rolling == WORKERS and p.rejoin == ()


def test_a_master_that_is_down_starts_and_the_silent_workers_may_rejoin() -> None:
    master = CONVERGED["server08"]
    down = replace(master, services=replace(master.services, master_pids=(), listed=None))
    p = decide(C, {**CONVERGED, "server08": down})
    # running workers the master cannot hear (it is down) are not restarted up front
    assert p.start_master and p.rolling == () and p.together == () and p.rejoin == WORKERS
    # a worker the master does not hear while it runs: its heartbeat gave up; restarted
    silent = replace(
        master, services=replace(master.services, listed=WorkerList({"server06": 0, "server08": 0}))
    )
    p = decide(C, {**CONVERGED, "server08": silent})
    assert not p.start_master and p.rolling == ("server07",)
    assert "server07: worker runs, but the master does not list it" in p.why


def test_what_only_the_scripts_read_restarts_nothing() -> None:
    # conf/workers and the launcher are read by the start and stop scripts on the master only
    crlf = with_file(CONVERGED["server06"], "workers_file", "server06\r\nserver07\r\nserver08\r\n")
    unpatched = with_file(CONVERGED["server08"], "launcher", C.tarball.launcher)
    p = decide(C, {**CONVERGED, "server06": crlf, "server08": unpatched})
    assert p.anything_to_change
    assert not p.start_master and p.rolling == () and not p.stop_first and not p.check_health


def test_a_worker_edited_or_down_restarts_alone() -> None:
    text = (CONVERGED["server07"].alluxio_env.file.text or "") + "ALLUXIO_WORKER_MEMORY_SIZE=2GB\n"
    edited = with_env("server07", text)["server07"]
    assert env_changes(C, "server07", edited) == {"ALLUXIO_WORKER_MEMORY_SIZE"}
    assert decide(C, with_env("server07", text)).rolling == ("server07",)
    down = replace(CONVERGED["server06"], services=replace(CONVERGED["server06"].services, worker_pids=()))
    p = decide(C, {**CONVERGED, "server06": down})
    assert p.together == ("server06",) and p.rolling == () and not p.start_master and p.check_health
    # a deleted alluxio-env.sh on a worker: every setting is new to it, only the master's are not
    p = decide(C, {**CONVERGED, "server07": with_file(CONVERGED["server07"], "alluxio_env", None)})
    assert p.rolling == ("server07",) and not p.start_master


def test_replacing_the_folder_daemons_run_from_stops_them_first() -> None:
    unmarked = {n: replace(s, install=replace(s.install, marker=None)) for n, s in CONVERGED.items()}
    p = decide(C, {**CONVERGED, "server07": unmarked["server07"]})
    assert p.stop_first == {"server07"} and p.together == ("server07",) and not p.start_master
    p = decide(C, {**CONVERGED, "server08": unmarked["server08"]})
    assert p.stop_first == {"server08"} and p.start_master and p.together == ("server08",)
    assert p.rejoin == ("server06", "server07")


def test_a_version_change_carries_the_journal_and_starts_everything_once() -> None:
    upgrade = C.model_copy(update={"version": "1.3.0"})
    # the declared folder is not there yet; the daemons run from 1.2.0's, where the journal is
    bare = {n: replace(s, install=InstallState(False)) for n, s in CONVERGED.items()}
    p = decide(upgrade, bare)
    assert p.switch and p.start_master and p.together == WORKERS and p.rolling == p.rejoin == ()
    assert p.stop_first == frozenset()  # nothing runs from the folder being extracted: it stays up
    assert "version change (alluxio-1.2.0 -> alluxio-1.3.0)" in p.why
    v = journal(upgrade, bare["server08"])
    assert v.status == "drifted" and v.details.carry_from == "alluxio-1.2.0"
    assert v.actual == "in alluxio-1.2.0/journal: version change 1.2.0 -> 1.3.0, to carry over"
    assert journal(C, CONVERGED["server08"]).in_sync
    # the daemons of the release being left are drift of the declaration, not of the host
    assert (
        services(upgrade, "server06", bare["server06"], {"server08": bare["server08"]}).fingerprint
        != services(C, "server06", CONVERGED["server06"], {"server08": CONVERGED["server08"]}).fingerprint
    )


def test_retiring_a_worker_stops_it_and_the_master_forgets_it() -> None:
    shrunk = C.model_copy(update={"workers": ("server06", "server08")})
    p = decide(shrunk, CONVERGED)
    assert p.retire == {"server07"} and p.start_master and p.rolling == () and p.together == ()
    assert p.rejoin == ("server06", "server08")  # heard from again once the master serves, or restarted
    v = services(shrunk, "server07", CONVERGED["server07"], {"server08": CONVERGED["server08"]})
    assert v.status == "drifted" and v.details.retire and "a worker runs" in v.actual
    master = services(shrunk, "server08", CONVERGED["server08"], {"server08": CONVERGED["server08"]})
    assert master.details.forget == ("server07",) and "lists retired worker(s) server07" in master.actual
    # once it is stopped and forgotten, nothing is left to do
    gone = replace(
        CONVERGED["server07"],
        services=replace(CONVERGED["server07"].services, worker_pids=(), ram_mounts={}),
    )
    ages = {h: a for h, a in CONVERGED["server08"].services.listed.ages.items() if h != "server07"}
    forgot = replace(
        CONVERGED["server08"], services=replace(CONVERGED["server08"].services, listed=WorkerList(ages))
    )
    p = decide(shrunk, {**CONVERGED, "server07": gone, "server08": forgot})
    assert not (p.retire or p.start_master or p.together or p.rolling or p.rejoin)


def test_a_worker_the_inventory_does_not_know_is_named_not_acted_on() -> None:
    master = CONVERGED["server08"]
    listed = WorkerList({**master.services.listed.ages, "server09": 0})
    stranger = replace(master, services=replace(master.services, listed=listed))
    v = services(C, "server08", stranger, {"server08": stranger})
    assert v.status == "drifted" and "lists worker(s) not in the inventory: server09" in v.actual
    p = decide(C, {**CONVERGED, "server08": stranger})
    assert not (p.start_master or p.together or p.rolling)


def test_only_the_previous_release_stays_beside_the_declared_one() -> None:
    snap = CONVERGED["server06"]
    many = ReleasesState({"alluxio-1.2.0": 300.0, "alluxio-1.3.0": 200.0, "alluxio-1.1.0": 100.0}, ())
    v = old_releases(C, replace(snap, releases=many))
    assert (
        v.status == "drifted"
        and v.details.remove == ("alluxio-1.1.0",)
        and v.details.kept == ("alluxio-1.3.0",)
    )
    with_journal = replace(many, journals=("alluxio-1.1.0",))
    assert old_releases(C, replace(snap, releases=with_journal)).in_sync  # a journal is never removed
    assert old_releases(C, snap).in_sync


def test_fault_tolerant_masters_down_start_and_running_ones_are_not_restarted_all_at_once() -> None:
    ft = C.model_copy(
        update={"masters": ("server08", "server07"), "zookeeper": "10.0.1.8:2181", "journal_folder": "/j/"}
    )
    # ZooKeeper silent from every master: nothing changes anywhere
    silent = decide(ft, CONVERGED)
    nobody = "no ZooKeeper server (10.0.1.8:2181) answers srvr from server08, server07: the masters"
    assert silent.refusal.startswith(nobody)
    answers = {"10.0.1.8:2181": "standalone"}
    heard = {n: replace(s, zookeeper=answers) for n, s in CONVERGED.items()}
    # the recorded cluster has no fault tolerance's keys yet: its running master (the leader)
    # restarts for them, in the roll; server07's master is down: it starts, and may lead
    p = decide(ft, heard)
    assert p.start_masters == ("server07",) and p.roll_masters == ("server08",) and not p.refusal
    assert "masters restart one at a time, the leader last: server08 (the leader)" in p.why
    assert "site keys server08's master reads (alluxio.master.journal.folder" in p.why
    # both running with changed settings: the standby first, the leader last
    own = heard["server07"].services
    homes = {**own.homes, 4242: C.install_dir}
    standby = replace(heard["server07"], services=replace(own, listed=None, master_pids=(4242,), homes=homes))
    p = decide(ft, {**heard, "server07": standby})
    assert p.roll_masters == ("server07", "server08") and p.start_masters == ()
    # a version change: every daemon stops first, every master and worker starts from the new
    # release, none rolls; the shared journal stays (backed up by the journal step)
    upgrade = ft.model_copy(update={"version": "1.3.0"})
    p = decide(upgrade, {**heard, "server07": standby})
    assert (p.switch, p.leaving, p.start_masters, p.roll_masters, p.refusal) == (
        True, "alluxio-1.2.0", ("server08", "server07"), (), ""
    )  # fmt: skip
    assert sorted(p.together) == sorted(upgrade.workers) and not p.rolling
    assert p.why.startswith("version change (/opt/alluxio-1.2.0 -> /opt/alluxio-1.3.0)")
    # two masters serving: a person looks first
    both = {**heard, "server07": replace(heard["server07"], services=heard["server08"].services)}
    two = "2 masters serve at once (server08, server07): a person must look first"
    assert decide(ft, both).refusal == two
    assert decide(C, CONVERGED).refusal == ""  # one master: never


def test_the_nodes_whose_release_is_extracted_anew_are_those_that_unpack_the_stream() -> None:
    """Bare nodes, and a node whose release is too damaged to restore member by member, extract
    afresh (and so unpack the tarball as it streams); a converged one does not."""
    assert decide(C, snapshots("bare")).extract_afresh == frozenset(WORKERS)
    assert decide(C, CONVERGED).extract_afresh == frozenset()
    snap = CONVERGED["server07"]
    wrecked = replace(snap, install=replace(snap.install, entries={}))  # every member missing
    few = {k: v for k, v in (snap.install.entries or {}).items() if k != "bin/alluxio-stop.sh"}
    one_missing = replace(snap, install=replace(snap.install, entries=few))
    assert decide(C, {**CONVERGED, "server07": one_missing}).extract_afresh == frozenset()
    limit = resources_release.RESTORE_LIMIT
    extra = tuple(
        Member(path=f"lib/{i}.jar", kind="f", size=1, mode="644", sha256="0" * 64) for i in range(limit)
    )
    many = C.model_copy(
        update={"tarball": C.tarball.model_copy(update={"members": C.tarball.members + extra})}
    )
    assert len(many.tarball.members) > limit
    assert decide(many, {**CONVERGED, "server07": wrecked}).extract_afresh >= {"server07"}
