"""The tarball's fan-out (operations/fanout.py): who copies from whom, with real greenlets
standing in for pyinfra's one greenlet per host; and the commands the master runs."""

from __future__ import annotations

import math
import re
from pathlib import Path

import gevent
import pytest

from bench.inventories import cluster_of
from demo_release import build
from lab import Lab, topology
from operations.fanout import ATTEMPTS, FANOUT, Fanout, copy_command, receive
from tests.labutil import MASTER as POST_MASTER
from tests.labutil import converge, host, wait_worker_count

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
    assert direct.startswith("scp -q -o BatchMode=yes -o StrictHostKeyChecking=yes")
    assert direct.endswith("/opt/a.tgz server07:/opt/.a.tgz.part")
    assert "ssh-agent" not in direct
    relay = copy_command("server06", MASTER, "server07", "/opt/a.tgz", "/opt/.a.tgz.part", "/root/.ssh")
    assert relay.startswith('eval "$(ssh-agent -s)"') and "trap 'ssh-agent -k" in relay
    assert "ssh-keygen -F server07 -f /root/.ssh/known_hosts" in relay
    assert "| ssh -A -o BatchMode=yes -o StrictHostKeyChecking=yes" in relay and " server06 " in relay
    assert 'UserKnownHostsFile="$k"' in relay and "server07:/opt/.a.tgz.part" in relay
    assert "id_rsa" not in relay  # the key is never named, let alone sent: the agent signs


def test_hostile_names_are_quoted() -> None:
    relay = copy_command("a;b", MASTER, "c d", "/opt/x y.tgz", "/opt/.x.part", "/root/.ssh")
    assert "-F 'c d'" in relay and relay.endswith(" 'a;b' " + relay.split(" 'a;b' ")[1])
    assert "'\"'\"'c d'\"'\"':/opt/.x.part" in relay  # quoted again inside the relay's command


# ----- in the lab -------------------------------------------------------------------------------
def test_in_the_lab_the_tarball_spreads_as_a_tree_and_survives_relays_that_cannot_send(
    lab: Lab, tmp_path: Path
) -> None:
    """Eight nodes: no link carries the tarball more than about twice, relays pass it on; then,
    with agent forwarding refused by every node (no relay can log in onwards), every copy falls
    back to another holder (the master) and the run still converges."""
    extra = topology.extra_hosts(5)
    for name, address in extra.items():
        lab.add(name, address)
    try:
        hosts = {**POST, **extra}
        inventory = cluster_of(tmp_path / "eight", hosts, POST_MASTER)
        tarball = build(tmp_path / "release", pad_mb=32)  # big enough to dominate each link's counter
        size = tarball.stat().st_size
        lab.reset(list(POST))
        before = {n: lab.sent_bytes(n) for n in hosts}
        run = converge(lab, tarball, inventory=inventory).ok()
        sent = {n: lab.sent_bytes(n) - before[n] for n in hosts}
        assert max(sent.values()) <= 2.2 * size, {n: round(b / size, 2) for n, b in sent.items()}
        sources = re.findall(r"\[(\w+)\] tarball copied from (\w+)", run.stderr)
        assert sorted(t for t, _ in sources) == sorted(set(hosts) - {POST_MASTER}), sources
        assert [s for _, s in sources].count(POST_MASTER) <= 2 and {s for _, s in sources} - {POST_MASTER}
        assert wait_worker_count(lab, len(hosts), master=POST_MASTER) == len(hosts)

        others = sorted(set(hosts) - {POST_MASTER})
        lab.reset(list(hosts))  # all of them: the master's known_hosts must not outlive their keys
        for name in others:  # a site that forbids agent forwarding: relays cannot send
            refuse = "sed -i '1i AllowAgentForwarding no' /etc/ssh/sshd_config"
            lab.exec(name, ["sh", "-c", refuse], check=True)
            lab.stop(name)
            lab.start(name)
        run = converge(lab, tarball, inventory=inventory).ok()
        sources = re.findall(r"\[(\w+)\] tarball copied from (\w+)", run.stderr)
        assert sorted(t for t, _ in sources) == others and {s for _, s in sources} == {POST_MASTER}
        assert re.search(r"copy from server\d+ failed", run.stderr), run.stderr[-3000:]
        for name in others:
            assert host(lab, name).file(f"/opt/{tarball.name}").exists
    finally:
        for name in extra:
            lab.remove(name)
        lab.reset(list(POST))
