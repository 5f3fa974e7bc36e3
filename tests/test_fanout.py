"""The tarball's fan-out (operations/fanout.py): the chain's outcomes and its budget, who copies
from whom when the chain did not deliver (real greenlets standing in for pyinfra's one greenlet
per host), the commands the master runs; and both in the lab."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import subprocess
from pathlib import Path

import gevent
import pytest

from bench.inventories import cluster_of
from demo_release import build
from facts.release import sidecar
from lab import Lab, topology
from operations import release
from operations.fanout import (
    ATTEMPTS,
    FANOUT,
    RELAY,
    Chain,
    Fanout,
    chain_command,
    chain_outcomes,
    chain_settings,
    copy_command,
    receive,
)
from tests.labutil import MASTER as POST_MASTER
from tests.labutil import converge, host, wait_worker_count
from tests.recorded import cluster

C = cluster()

MASTER = "m"
POST = {"server08": "10.0.1.13", "server06": "10.0.1.11", "server07": "10.0.1.12"}


def spread(n: int, fails: set[tuple[str, str]] = frozenset(), holders: tuple[str, ...] = ()):  # type: ignore[assignment]
    """Copy to n nodes, each copy taking one tick per copy its source sends at the same time (a
    shared link); return (edges, finish tick of each node, sends per source)."""
    fanout = Fanout(MASTER)
    for h in holders:
        fanout.add_holder(h)
    busy: dict[str, int] = {}
    edges: list[tuple[str, str, bool]] = []
    finished: dict[str, float] = {}

    def copy(source: str, target: str) -> tuple[bool, str]:
        busy[source] = busy.get(source, 0) + 1
        gevent.sleep(0.01 * busy[source])  # two copies at once share the source's link
        busy[source] -= 1
        ok = (source, target) not in fails
        edges.append((source, target, ok))
        if ok:
            finished[target] = len(edges)
        return ok, "" if ok else "refused"

    def one(target: str) -> None:
        receive(fanout, target, lambda source: copy(source, target))

    gevent.joinall([gevent.spawn(one, f"n{i:02d}") for i in range(n)], raise_error=True)
    sends: dict[str, int] = {}
    for source, _, _ in edges:
        sends[source] = sends.get(source, 0) + 1
    return edges, finished, sends


@pytest.mark.parametrize("n", [3, 7, 31, 63])
def test_every_node_gets_it_and_no_node_sends_more_than_two_copies(n: int) -> None:
    edges, finished, sends = spread(n)
    assert len(finished) == n
    assert max(sends.values()) <= FANOUT
    assert sends[MASTER] == min(n, FANOUT)
    assert len(edges) == n  # each node received once


def test_a_node_only_passes_on_what_it_received_and_verified() -> None:
    edges, _, _ = spread(31)
    holders = {MASTER}
    for source, target, ok in edges:
        assert source in holders, f"{source} sent before it held a verified copy"
        if ok:
            holders.add(target)


def test_it_spreads_in_rounds_that_double() -> None:
    """A tree, not a loop from the master: the longest chain of copies grows with log2(N)."""
    edges, _, _ = spread(63)
    depth = {MASTER: 0}
    for source, target, ok in edges:
        if ok:
            depth[target] = depth[source] + 1
    assert max(depth.values()) <= math.ceil(math.log2(64)) + 1


def test_a_failed_copy_is_tried_from_another_holder() -> None:
    # n00's first copy, from the master, fails; it gets the tarball from another holder
    edges, finished, sends = spread(7, fails={(MASTER, "n00")})
    assert "n00" in finished
    tries = [(s, ok) for s, t, ok in edges if t == "n00"]
    assert tries[0] == (MASTER, False) and tries[-1][1] and tries[-1][0] != MASTER
    assert max(sends.values()) <= FANOUT


def test_a_node_whose_every_source_fails_gives_up_and_the_others_still_finish() -> None:
    fails = {(s, "n00") for s in [MASTER, *(f"n{i:02d}" for i in range(7))]}
    edges, finished, _ = spread(7, fails=fails)
    assert "n00" not in finished and len(finished) == 6
    tries = [e[0] for e in edges if e[1] == "n00"]
    assert len(tries) == ATTEMPTS and MASTER in tries  # the master is always among the tries


def test_relays_that_cannot_send_are_given_up_and_the_master_sends_to_everyone() -> None:
    nodes = [f"n{i:02d}" for i in range(15)]
    fails = {(s, t) for s in nodes for t in nodes}  # no relay can send (agent forwarding refused)
    edges, finished, sends = spread(15, fails=fails)
    assert len(finished) == 15
    assert all(s == MASTER for s, _, ok in edges if ok)
    assert all(sends.get(n, 0) <= 2 for n in nodes)  # a relay that failed twice is not asked again
    assert len([e for e in edges if not e[2]]) <= 2 * 15


def test_nodes_that_had_it_already_are_sources_too() -> None:
    _, finished, sends = spread(4, holders=("old1", "old2"))
    assert len(finished) == 4
    assert sends.get(MASTER, 0) < 2  # the relays that hold it go first


def test_the_master_copies_directly_and_a_relay_through_the_masters_agent() -> None:
    direct = copy_command(MASTER, MASTER, "server07", "/opt/a.tgz", "/opt/.a.tgz.part", "/root/.ssh")
    assert "scp -q $K -o BatchMode=yes -o StrictHostKeyChecking=yes" in direct
    assert direct.endswith("/opt/a.tgz server07:/opt/.a.tgz.part")
    assert "ssh-agent" not in direct
    relay = copy_command("server06", MASTER, "server07", "/opt/a.tgz", "/opt/.a.tgz.part", "/root/.ssh")
    assert 'eval "$(ssh-agent -s)"' in relay and "trap 'ssh-agent -k" in relay
    assert "ssh-keygen -F server07 -f /root/.ssh/known_hosts" in relay
    assert "| ssh -A $K -o BatchMode=yes -o StrictHostKeyChecking=yes" in relay and " server06 " in relay
    assert 'UserKnownHostsFile="$k"' in relay and "server07:/opt/.a.tgz.part" in relay
    assert "id_rsa" not in relay  # the key is never named, let alone sent: the agent signs


def test_curve25519_is_preferred_only_where_the_client_accepts_the_option(tmp_path: Path) -> None:
    """OpenSSH 8.2+ takes "^" (this machine's does); an older client keeps its default."""
    direct = copy_command(MASTER, MASTER, "server07", "/opt/a.tgz", "/opt/.a.tgz.part", "/root/.ssh")
    prelude = direct.split("; scp ")[0]
    said = subprocess.run(["sh", "-c", f'{prelude}; echo "[$K]"'], capture_output=True, text=True).stdout
    assert said.strip() == "[-o KexAlgorithms=^curve25519-sha256]"
    old_ssh = tmp_path / "ssh"
    old_ssh.write_text("#!/bin/sh\necho 'Bad key types' >&2; exit 255\n")
    old_ssh.chmod(0o755)
    said = subprocess.run(
        ["sh", "-c", f'PATH={tmp_path}:$PATH; {prelude}; echo "[$K]"'], capture_output=True, text=True
    ).stdout
    assert said.strip() == "[]"


def test_hostile_names_are_quoted() -> None:
    relay = copy_command("a;b", MASTER, "c d", "/opt/x y.tgz", "/opt/.x.part", "/root/.ssh")
    assert "-F 'c d'" in relay and relay.endswith(" 'a;b' " + relay.split(" 'a;b' ")[1])
    assert "'\"'\"'c d'\"'\"':/opt/.x.part" in relay  # quoted again inside the relay's command


# ----- the chain --------------------------------------------------------------------------------
def test_the_relay_is_valid_shell() -> None:
    for shell in ("sh", "bash"):
        checked = subprocess.run([shell, "-n"], input=RELAY, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("received", ["whole", "corrupted", "short"])
def test_a_node_renames_only_a_copy_whose_stream_hashed_and_measured_right(
    received: str, tmp_path: Path
) -> None:
    """The relay as the chain's last node, in a real shell, with the install step the converge
    gives it (operations/release.py): only the declared bytes are renamed into place."""
    data = bytes(range(256)) * 4096
    digest = hashlib.sha256(data).hexdigest()
    model = C.model_copy(
        update={
            "install_root": str(tmp_path),
            "tarball": C.tarball.model_copy(update={"sha256": digest, "size": len(data)}),
        }
    )
    part = release._chain_part(model)
    settings = chain_settings(["me"], part, release._install_tarball(model, part, hashed=True))
    stream = {"whole": data, "corrupted": data[:99] + b"X" + data[100:], "short": data[:-1]}[received]
    r, cfg = (base64.b64encode(t.encode()).decode() for t in (RELAY, settings))
    done = subprocess.run(
        ["sh", "-c", RELAY, "relay", r, cfg, "", "1"], input=stream, capture_output=True, timeout=30
    )
    said = done.stdout.decode().strip()
    final = Path(model.remote_tarball)
    if received == "whole":
        assert said == "ok me" and final.read_bytes() == data
        assert Path(sidecar(str(final))).read_text().startswith(f"{digest} {len(data)} ")
        assert sorted(tmp_path.iterdir()) == sorted([final, Path(sidecar(str(final)))])
    else:
        assert said.startswith("bad me tarball corrupted in transfer"), said
        assert list(tmp_path.iterdir()) == []  # neither the copy nor its part left


def test_the_chains_command_links_every_hop_then_streams_from_the_first_node() -> None:
    targets = ["n1", "a;b", "c d"]
    command = chain_command(targets, "/opt/x y.tgz", "/opt/.x.chain", "true", "/root/.ssh")
    assert "for h in n1 'a;b' 'c d'; do" in command  # linked in this order, each by its predecessor
    assert '$(kh "$h") $i link"' in command and "wait; fi; p=$h; done; wait;" in command
    assert "first=n1;" in command and "< '/opt/x y.tgz'" in command
    assert "id_rsa" not in command
    settings = base64.b64decode(re.search(r" C=(\S+) ", command).group(1)).decode()
    assert "N=3\nH1=n1\nH2='a;b'\nH3='c d'\n" in settings
    assert "PART=/opt/.x.chain" in settings and re.search(r"SOCK=/tmp/\.alluxio-chain-[0-9a-f]{16}", settings)
    again = chain_command(targets, "/opt/x y.tgz", "/opt/.x.chain", "true", "/root/.ssh")
    assert (
        re.search(r"SOCK=\S+", settings).group(0)
        not in base64.b64decode(re.search(r" C=(\S+) ", again).group(1)).decode()
    )  # each run its own links


def test_the_chains_lines_say_who_has_a_verified_copy_and_why_the_others_do_not() -> None:
    targets = ["n1", "n2", "n3", "n4", "n5"]
    lines = [
        "ok n5\r",  # through a pseudo-terminal
        "bad n4 tarball corrupted in transfer (sha256 abc), removed",
        "lost n3 Permission denied (publickey).",  # n2 could not log in to n3
        "ok n2",
        "ok n1",
        "ok intruder",
        "some noise",
    ]
    said = chain_outcomes("m", targets, lines)
    assert said["n1"] == (True, "") and said["n2"] == (True, "")
    assert said["n3"] == (False, "n2 could not pass it on to n3: Permission denied (publickey).")
    assert said["n4"] == (False, "tarball corrupted in transfer (sha256 abc), removed")
    assert said["n5"] == (True, "")
    assert "intruder" not in said
    nothing = chain_outcomes("m", targets, [])
    assert all(not ok and why == "the chain ended before it" for ok, why in nothing.values())


def test_the_chain_runs_once_for_all_its_nodes_and_a_failure_sends_everyone_elsewhere() -> None:
    chain = Chain("m", ["n1", "n2", "n3"])
    runs: list[list[str]] = []

    def run(targets: list[str]) -> list[str]:
        runs.append(targets)
        gevent.sleep(0.01)
        return ["ok n3", "ok n2", "ok n1"]

    jobs = [gevent.spawn(chain.outcome, t, run) for t in ("n2", "n1", "n3")]
    gevent.joinall(jobs, raise_error=True)
    assert runs == [["n1", "n2", "n3"]] and all(j.value == (True, "") for j in jobs)
    assert chain.before("n1") == "m" and chain.before("n3") == "n2"

    broken = Chain("m", ["n1", "n2"])

    def fails(targets: list[str]) -> list[str]:
        raise ConnectionError("master gone")

    assert broken.outcome("n2", fails) == (False, "the chain failed: master gone")
    assert broken.outcome("n1", fails) == (False, "the chain failed: master gone")


def test_a_node_the_chain_missed_gets_a_copy_and_no_node_sends_more_than_two_in_all() -> None:
    """n3 refused to log in onwards: n4..n7 get copies from the holders, whose forward along the
    chain counts towards their two."""
    targets = [f"n{i}" for i in range(1, 8)]
    chain = Chain(MASTER, targets)
    chain.outcome("n1", lambda _: ["lost n4 Permission denied", "ok n3", "ok n2", "ok n1"])
    budget = chain.sent()
    assert budget == {MASTER: 1, "n1": 1, "n2": 1, "n3": 1}
    fanout = Fanout(MASTER)
    for name, sent in budget.items():
        fanout.add_holder(name, sent)
    sends = dict(budget)

    def copy(source: str) -> tuple[bool, str]:
        sends[source] += 1
        gevent.sleep(0.01)
        return True, ""

    def one(target: str) -> None:
        source, _ = receive(fanout, target, copy)
        assert source is not None
        sends.setdefault(target, 0)

    gevent.joinall([gevent.spawn(one, t) for t in targets[3:]], raise_error=True)
    assert max(sends.values()) <= FANOUT, sends
    assert Chain(MASTER, []).sent() == {}  # no chain: the master's budget is untouched


# ----- in the lab -------------------------------------------------------------------------------
def test_in_the_lab_the_tarball_streams_along_the_chain_and_holders_cover_a_broken_hop(
    lab: Lab, tmp_path: Path
) -> None:
    """Eight nodes: every other node gets the tarball along the chain, so no link carries it
    more than about once (a tree would make the master send it twice); then, with the chain's
    third node refusing agent forwarding (it cannot log in onwards), the nodes after it get
    copies from the holders, the run converges and no link carries it more than twice."""
    extra = topology.extra_hosts(5)
    for name, address in extra.items():
        lab.add(name, address)
    try:
        hosts = {**POST, **extra}
        inventory = cluster_of(tmp_path / "eight", hosts, POST_MASTER)
        tarball = build(tmp_path / "release", pad_mb=32)  # big enough to dominate each link's counter
        size, digest = tarball.stat().st_size, hashlib.sha256(tarball.read_bytes()).hexdigest()
        lab.reset(list(POST))
        before = {n: lab.sent_bytes(n) for n in hosts}
        run = converge(lab, tarball, inventory=inventory).ok()
        sent = {n: lab.sent_bytes(n) - before[n] for n in hosts}
        assert max(sent.values()) <= 1.2 * size, {n: round(b / size, 2) for n, b in sent.items()}
        hops = dict(re.findall(r"\[(\w+)\] tarball copied from (\w+) along the chain", run.stderr))
        assert sorted(hops) == sorted(set(hosts) - {POST_MASTER}), run.stderr[-3000:]
        order = [POST_MASTER]
        while len(order) < len(hosts):  # each node's copy came from the one before it
            order += [t for t, s in hops.items() if s == order[-1]]
        assert sorted(order) == sorted(hosts)
        assert wait_worker_count(lab, len(hosts), master=POST_MASTER) == len(hosts)

        broken = order[3]
        lab.reset(list(hosts))  # all of them: the master's known_hosts must not outlive their keys
        lab.exec(broken, ["sh", "-c", "sed -i '1i AllowAgentForwarding no' /etc/ssh/sshd_config"], check=True)
        lab.stop(broken)
        lab.start(broken)
        before = {n: lab.sent_bytes(n) for n in hosts}
        run = converge(lab, tarball, inventory=inventory).ok()
        sent = {n: lab.sent_bytes(n) - before[n] for n in hosts}
        assert max(sent.values()) <= 2.2 * size, {n: round(b / size, 2) for n, b in sent.items()}
        along = dict(re.findall(r"\[(\w+)\] tarball copied from (\w+) along the chain", run.stderr))
        assert along == {order[i]: order[i - 1] for i in (1, 2, 3)}, run.stderr[-3000:]
        held = dict(re.findall(r"\[(\w+)\] tarball copied from (\w+)$", run.stderr, re.M))
        assert sorted(held) == sorted(order[4:])  # from a holder: one before the break, or one that got it so
        assert set(held.values()) <= set(order) and all(t != s for t, s in held.items())
        assert f"{broken} could not pass it on to {order[4]}" in run.stderr
        for name in hosts:
            assert host(lab, name).file(f"/opt/{tarball.name}").sha256sum == digest
        assert wait_worker_count(lab, len(hosts), master=POST_MASTER) == len(hosts)
    finally:
        for name in extra:
            lab.remove(name)
        lab.reset(list(POST))
