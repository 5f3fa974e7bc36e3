"""Verdicts: desired against actual, per resource, on recorded node states."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import replace

import resources
from facts.release import Entry
from facts.services import WorkerList
from facts.ssh import PublicKey
from tests.recorded import cluster, snapshots, with_file

C = cluster()
BARE = snapshots("bare")
CONVERGED = snapshots("converged")
CLUSTER_LINES = "10.0.1.13\tserver08\n10.0.1.11\tserver06\n10.0.1.12\tserver07\n10.0.1.8\tserver03\n"


def hosts_verdict(text: str | None) -> resources.Verdict:
    return resources.etc_hosts(C, with_file(BARE["server06"], "etc_hosts", text))


def test_etc_hosts_appends_missing_names_and_keeps_every_other_line() -> None:
    own = "# mine\r\n127.0.0.1\tlocalhost\r\n\n10.9.9.9 backup  # keep me\n::1 ip6-localhost"
    v = hosts_verdict(own)
    assert v.status == "drifted"
    assert v.content == own + "\n" + CLUSTER_LINES  # missing final newline added before ours
    assert v.diff and "+10.0.1.8\tserver03" in v.diff and "-# mine" not in v.diff


def test_etc_hosts_takes_a_managed_name_off_a_line_with_another_address() -> None:
    v = hosts_verdict("127.0.1.1\tserver06 server06.lan # debian\r\n10.0.1.99 server07\n")
    assert v.content == "127.0.1.1\tserver06.lan\t# debian\r\n" + CLUSTER_LINES
    assert "server06=-" not in v.actual and "server06=127.0.1.1" in v.actual


def test_etc_hosts_in_sync_when_every_name_resolves_right_whatever_the_layout() -> None:
    text = "10.0.1.13 server08 server08.lan\n10.0.1.11\tserver06\n10.0.1.12 server07 # w\n10.0.1.8 server03\n"
    assert hosts_verdict(text).in_sync
    assert hosts_verdict(None).status == "missing"


def test_authorized_keys_appends_the_master_key_keeping_options_and_comments() -> None:
    master_key = resources.master_public_key(CONVERGED["server08"])
    assert master_key is not None
    own = 'from="10.0.0.0/8",no-pty ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOperatorKey ops\n# comment'
    snap = with_file(BARE["server07"], "authorized_keys", own, mode="600")
    v = resources.authorized_keys(C, snap, master_key)
    assert v.status == "drifted"
    assert v.content == own + "\n" + f"{master_key.line} alluxio@server08\n"
    # a line holding the key with options counts: it is authorized
    with_options = with_file(BARE["server07"], "authorized_keys", f"no-pty {master_key.line} x\n", mode="600")
    assert resources.authorized_keys(C, with_options, master_key).in_sync


def test_a_chain_key_or_link_a_killed_run_left_is_drift() -> None:
    master_key = resources.master_public_key(CONVERGED["server08"])
    text = CONVERGED["server07"].authorized_keys.file.text or ""
    hop = 'from="10.0.1.11",command="sh -c \\"x\\" relay C 2",no-pty ssh-ed25519 AAAAC3Nz alluxio-chain-0f1e2d3c4b5a6978-2\n'
    left = with_file(CONVERGED["server07"], "authorized_keys", text + hop, mode="600")
    v = resources.authorized_keys(C, left, master_key)
    assert v.status == "drifted" and v.content == text and v.details.file.write
    assert v.actual == "differs, 1 chain key(s) of a killed run", v.actual
    assert v.diff and "-" + hop.rstrip("\n") in v.diff.splitlines()
    # a line that only mentions the tag elsewhere is the operator's
    theirs = with_file(
        CONVERGED["server07"], "authorized_keys", text + "ssh-rsa AAAA alluxio-chain-notes\n", mode="600"
    )
    assert resources.authorized_keys(C, theirs, master_key).in_sync
    linked = replace(CONVERGED["server07"], chain_sockets=("/tmp/.alluxio-chain-0f1e2d3c4b5a6978",))
    v = resources.authorized_keys(C, linked, master_key)
    assert v.status == "drifted" and not v.details.file.write
    assert v.details.close == ("/tmp/.alluxio-chain-0f1e2d3c4b5a6978",)
    assert v.actual == "as desired, 1 chain link(s) open: /tmp/.alluxio-chain-0f1e2d3c4b5a6978"


def test_authorized_keys_mode_and_dir_are_desired_state() -> None:
    v = resources.authorized_keys(
        C, CONVERGED["server06"], resources.master_public_key(CONVERGED["server08"])
    )
    assert v.in_sync
    loose = with_file(
        CONVERGED["server06"], "authorized_keys", CONVERGED["server06"].authorized_keys.file.text
    )
    v = resources.authorized_keys(C, loose, resources.master_public_key(CONVERGED["server08"]))
    assert v.status == "drifted" and v.details.file.fix_mode and not v.details.file.write


def test_authorized_keys_pending_until_the_master_has_a_key() -> None:
    v = resources.authorized_keys(C, BARE["server06"], resources.master_public_key(BARE["server08"]))
    assert v.status == "missing" and v.details.pending


def test_known_hosts_adds_every_node_under_name_and_address() -> None:
    v = resources.known_hosts(C, BARE["server08"], BARE)
    assert v.status == "missing"
    for name, node in BARE.items():
        address = C.node(name).address
        for key in node.host_keys:
            assert f"{name},{address} {key.line}\n" in (v.content or "")


def _hashed(host: str, key: PublicKey) -> str:
    salt = b"0123456789abcdefghij"
    mac = hmac.new(salt, host.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(mac).decode()} {key.line}\n"


def test_known_hosts_recognises_hashed_entries() -> None:
    lines = "".join(
        _hashed(alias, key)
        for name, node in BARE.items()
        for alias in (name, C.node(name).address)
        for key in node.host_keys
    )
    master = with_file(BARE["server08"], "known_hosts", lines)
    assert resources.known_hosts(C, master, BARE).in_sync


def test_a_changed_host_key_is_refused_unless_accepted() -> None:
    real = CONVERGED["server06"].host_keys[0]
    old = PublicKey(real.type, base64.b64encode(b"an older key of server06").decode())
    text = CONVERGED["server08"].known_hosts.file.text.replace(real.blob, old.blob)
    master = with_file(CONVERGED["server08"], "known_hosts", text)
    refused = resources.known_hosts(C, master, CONVERGED)
    assert refused.status == "drifted" and refused.details.refused_keys
    assert "server06" in refused.actual and "not trusted" in refused.actual
    assert refused.content == text  # nothing rewritten
    accepted = resources.known_hosts(C.model_copy(update={"accept_new_host_keys": True}), master, CONVERGED)
    assert not accepted.details.refused_keys
    assert old.blob not in (accepted.content or "") and real.blob in (accepted.content or "")


def test_install_dir_names_damaged_members_and_wrong_owners() -> None:
    snap = CONVERGED["server07"]
    entries = dict(snap.install.entries or {})
    del entries["bin/alluxio-start.sh"]
    entries["logs/README.md"] = replace(entries["logs/README.md"], size=3)
    entries["bin/alluxio"] = replace(entries["bin/alluxio"], mode="644")
    entries["conf"] = replace(entries["conf"], owner="alluxio")
    entries["conf/my-own-file"] = Entry("f", "alluxio", "alluxio", "600", 10)  # not the release's
    damaged = replace(snap, install=replace(snap.install, entries=entries))
    v = resources.install_dir(C, damaged)
    assert v.status == "drifted"
    assert v.details.restore == ("bin/alluxio", "bin/alluxio-start.sh", "logs/README.md")
    assert "bin/alluxio (mode 644, not 755)" in v.actual and "logs/README.md (3 bytes, not 37)" in v.actual
    assert v.details.chown and v.details.record and not v.details.fresh
    assert "1 not root:root: conf" in v.actual


def test_install_dir_checks_content_by_the_digests_the_node_computed() -> None:
    snap = CONVERGED["server06"]
    assert resources.install_dir(C, snap).in_sync
    # a file changed since the record (same size): the node hashed it again
    jar = next(m for m in C.tarball.members if m.path.endswith(".jar"))
    edited = replace(snap.install, digests={**snap.install.digests, jar.path: "0" * 64})
    v = resources.install_dir(C, replace(snap, install=edited))
    assert v.status == "drifted" and v.details.restore == (jar.path,)
    assert "content differs" in v.actual
    # hashed again with the same content (touched): still in sync
    same = replace(snap.install, digests={**snap.install.digests, jar.path: jar.sha256})
    assert resources.install_dir(C, replace(snap, install=same)).in_sync
    # the managed files are not the release's to judge
    managed = replace(snap.install, digests={**snap.install.digests, "conf/workers": "1" * 64})
    assert resources.install_dir(C, replace(snap, install=managed)).in_sync
    # an extraction without a record of verified digests gets one
    unrecorded = resources.install_dir(C, replace(snap, install=replace(snap.install, recorded=0)))
    assert unrecorded.status == "drifted" and unrecorded.details.record and not unrecorded.details.restore


def test_install_dir_without_completion_marker_is_redone_from_scratch() -> None:
    snap = CONVERGED["server07"]
    v = resources.install_dir(C, replace(snap, install=replace(snap.install, marker=None)))
    assert v.status == "drifted" and v.details.fresh and "marker" in v.actual
    assert resources.install_dir(C, BARE["server07"]).details.fresh


def test_launcher_patched_unpatched_and_unknown() -> None:
    assert resources.launcher(C, CONVERGED["server06"]).in_sync
    unpatched = C.tarball.launcher
    v = resources.launcher(C, with_file(CONVERGED["server06"], "launcher", unpatched))
    assert v.status == "drifted" and v.content == C.launcher
    assert v.diff and "-  nohup ssh" in v.diff and " -tt ${worker}" in v.diff
    unknown = resources.launcher(C, with_file(CONVERGED["server06"], "launcher", "ssh ${worker} x\n"))
    assert unknown.status == "drifted" and unknown.details.unknown_shape
    # one declaration whatever the node's shape: the drift report tells corrective from intentional
    assert unknown.fingerprint == v.fingerprint == resources.launcher(C, CONVERGED["server06"]).fingerprint


def test_services_needs_the_worker_live_on_the_master() -> None:
    assert resources.services(
        C, "server06", CONVERGED["server06"], {"server08": CONVERGED["server08"]}
    ).in_sync
    master = CONVERGED["server08"]
    listed = dict(master.services.listed.ages)
    del listed["server06"]
    not_listed = replace(master, services=replace(master.services, listed=WorkerList(listed)))
    v = resources.services(C, "server06", CONVERGED["server06"], {"server08": not_listed})
    assert v.status == "drifted" and v.actual == "worker runs, but the master does not list it"
    # a 1.x master keeps listing a dead worker for five minutes: listed is not live
    silent = replace(master, services=replace(master.services, listed=WorkerList({**listed, "server06": 45})))
    v = resources.services(C, "server06", CONVERGED["server06"], {"server08": silent})
    assert v.status == "drifted" and v.actual == "worker runs, but the master has not heard from it for 45 s"
    assert v.details.silent
    recent = replace(master, services=replace(master.services, listed=WorkerList({**listed, "server06": 3})))
    assert resources.services(C, "server06", CONVERGED["server06"], {"server08": recent}).in_sync
    down = replace(CONVERGED["server07"], services=replace(CONVERGED["server07"].services, worker_pids=()))
    assert resources.services(C, "server07", down, {"server08": master}).status == "missing"


def test_converged_recording_is_in_sync_everywhere_and_bare_nowhere() -> None:
    for name in C.names:
        conv = resources.node_verdicts(C, name, CONVERGED)
        assert all(v.in_sync for v in conv.values()), {r: v.actual for r, v in conv.items() if not v.in_sync}
        bare = resources.node_verdicts(C, name, BARE)
        # bare hosts have everything to do, but no old release to remove
        assert [r for r, v in bare.items() if v.in_sync] == ["old_releases"]


def test_the_files_other_resources_manage_are_theirs_alone() -> None:
    """conf/workers is shipped, but its owner, mode and content are workers_file's business."""
    snap = CONVERGED["server06"]
    entries = dict(snap.install.entries or {})
    entries["conf/workers"] = replace(entries["conf/workers"], owner="alluxio", mode="600", size=1)
    install = replace(
        snap.install, entries=entries, digests={**snap.install.digests, "conf/workers": "2" * 64}
    )
    assert resources.install_dir(C, replace(snap, install=install)).in_sync


def ft_cluster():  # server08 and server07 masters, with ZooKeeper and a shared journal
    return C.model_copy(
        update={
            "masters": ("server08", "server07"),
            "zookeeper": "10.0.1.8:2181",
            "journal_folder": "/mnt/shared/journal/",
        }
    )


def test_fault_tolerant_masters_one_leads_the_others_stand_by_and_workers_count_on_the_leader() -> None:
    ft = ft_cluster()
    leader = CONVERGED["server08"]  # serves: its REST API answered
    master_jvm = leader.services.master_pids
    standby = replace(
        CONVERGED["server07"],
        services=replace(
            CONVERGED["server07"].services,
            master_pids=master_jvm,
            homes={**CONVERGED["server07"].services.homes, **leader.services.homes},
        ),
    )
    nodes = {**CONVERGED, "server07": standby}
    assert resources.services(ft, "server08", leader, nodes).actual.startswith("master (leads)")
    v = resources.services(ft, "server07", standby, nodes)
    assert v.actual.startswith("master (standby)") and v.in_sync
    assert resources.services(ft, "server06", CONVERGED["server06"], nodes).in_sync  # live on the leader
    # the leader killed, the standby serving now: the dead one is named down, workers count on the new one
    dead = replace(leader, services=replace(leader.services, master_pids=(), listed=None))
    took_over = replace(standby, services=replace(standby.services, listed=leader.services.listed))
    after = {**CONVERGED, "server08": dead, "server07": took_over}
    v = resources.services(ft, "server08", dead, after)
    assert v.details.down == ("master",) and "master down" in v.actual
    assert resources.services(ft, "server07", took_over, after).actual.startswith("master (leads)")
    assert resources.services(ft, "server06", CONVERGED["server06"], after).in_sync
    # two serving at once: an error on both; none serving: said on the first master
    both = {**CONVERGED, "server07": took_over}
    v = resources.services(ft, "server07", took_over, both)
    assert not v.in_sync and "ERROR: 2 masters serve at once (server08, server07)" in v.actual
    headless = {**nodes, "server08": replace(leader, services=replace(leader.services, listed=None))}
    v = resources.services(ft, "server08", headless["server08"], headless)
    assert not v.in_sync and "no master leads (none serves)" in v.actual
    assert not resources.services(ft, "server06", CONVERGED["server06"], headless).in_sync


def test_a_shared_journal_is_formatted_once_and_never_over_what_may_be_a_journal() -> None:
    from facts.journal import JournalFolder

    ft = ft_cluster()

    def journal(folder: JournalFolder, releases: tuple[str, ...] = ()) -> resources.Verdict:
        snap = replace(BARE["server08"], shared_journal=folder)
        snap = replace(snap, releases=replace(snap.releases, journals=releases))
        return resources.journal(ft, snap)

    assert journal(JournalFolder("/mnt/shared/journal/", "dir", ("_format_1",), ("BlockMaster",))).in_sync
    for fresh in (
        JournalFolder("/mnt/shared/journal/", "missing"),
        JournalFolder("/mnt/shared/journal/", "dir"),
    ):
        assert journal(fresh).details.format
    written = journal(JournalFolder("/mnt/shared/journal/", "dir", (), ("FileSystemMaster",)))
    assert (
        not written.details.format
        and "holds FileSystemMaster but no format marker" in written.details.refuse_journal
    )
    assert written.details.left_alone
    one_masters = journal(JournalFolder("/mnt/shared/journal/", "missing"), ("alluxio-1.2.0",))
    assert (
        "the journal is in /opt/alluxio-1.2.0/journal (one master's): move its contents" in one_masters.actual
    )
    assert "not a folder" in journal(JournalFolder("/mnt/shared/journal/", "other")).actual


def test_a_master_on_a_host_that_is_no_master_is_retired_and_its_worker_kept() -> None:
    stray = replace(
        CONVERGED["server07"],
        services=replace(
            CONVERGED["server07"].services, master_pids=CONVERGED["server08"].services.master_pids
        ),
    )
    v = resources.services(C, "server07", stray, {**CONVERGED, "server07": stray})
    assert v.details.retire_master and not v.details.retire and not v.in_sync
    assert "a master runs here, on no master of the inventory" in v.actual
