"""The tarball's fan-out (runtime/fanout.py): the chain's outcomes and its budget, who copies
from whom when the chain did not deliver (real greenlets standing in for pyinfra's one greenlet
per host), the commands the master runs; and both in the lab."""

from __future__ import annotations

import base64
import hashlib
import math
import os
import re
import secrets
import socket
import subprocess
from pathlib import Path

import gevent
import pytest

from bench.inventories import cluster_of
from demo_release import build
from facts.release import partial, sidecar
from lab import Lab, topology
from layout import MARKER
from operations import release
from runtime.fanout import (
    ATTEMPTS,
    FANOUT,
    RELAY,
    Chain,
    Fanout,
    chain_command,
    chain_outcomes,
    chain_settings,
    copy_command,
    deadline,
    receive,
)
from tarball import read as read_tarball
from tests.labutil import MASTER as POST_MASTER
from tests.labutil import chain_leftovers, converge, host, wait_worker_count
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


def test_the_master_copies_directly_with_its_own_key_within_a_deadline_by_size() -> None:
    direct = copy_command("/opt/a.tgz", "server07", "/opt/.a.tgz.part", 1 << 27)
    assert "timeout 190 scp -q $K -o BatchMode=yes -o StrictHostKeyChecking=yes" in direct  # 60 + 128 + 2
    assert "/opt/a.tgz server07:/opt/.a.tgz.part; rc=$?" in direct
    assert "ssh-agent" not in direct and " -A " not in direct
    assert deadline(1 << 27, 64) > deadline(1 << 27) > deadline(1 << 20)


def test_a_stream_that_stalls_is_cut_at_its_deadline_and_the_chain_says_so(tmp_path: Path) -> None:
    """The master's stream, in a real shell, with a first node that never answers (an ssh that
    hangs) and a deadline of one second: the command ends, naming the node and why."""
    command = chain_command(
        "m", ["n1"], {"m": "10.0.0.1", "n1": "10.0.0.2"}, "/dev/null", "/p", "true", str(tmp_path), "m", 1
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ssh").write_text('#!/bin/sh\ncase "$*" in *stream*) exec sleep 30 ;; esac\nexit 255\n')
    (bin_dir / "ssh").chmod(0o755)
    fast = command.replace("timeout 62 ", "timeout 1 ")
    assert fast != command
    done = subprocess.run(
        ["sh", "-c", fast],
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (
        done.stdout.strip() == "lost n1 the stream took longer than 62 s (slower than 1 MiB/s, or stalled)"
    ), done.stdout


def test_curve25519_is_preferred_only_where_the_client_accepts_the_option(tmp_path: Path) -> None:
    """OpenSSH 8.2+ takes "^" (this machine's does); an older client keeps its default."""
    direct = copy_command("/opt/a.tgz", "server07", "/opt/.a.tgz.part", 1 << 27)
    prelude = direct.split("; timeout ")[0]
    said = subprocess.run(["sh", "-c", f'{prelude}; echo "[$K]"'], capture_output=True, text=True).stdout
    assert said.strip() == "[-o KexAlgorithms=^curve25519-sha256]"
    old_ssh = tmp_path / "ssh"
    old_ssh.write_text("#!/bin/sh\necho 'Bad key types' >&2; exit 255\n")
    old_ssh.chmod(0o755)
    said = subprocess.run(
        ["sh", "-c", f'PATH={tmp_path}:$PATH; {prelude}; echo "[$K]"'], capture_output=True, text=True
    ).stdout
    assert said.strip() == "[]"


def test_names_the_masters_shell_would_not_take_literally_are_refused() -> None:
    addresses = {"m": "10.0.0.1", "a;b": "10.0.0.2", "c": "10.0.0.3"}
    with pytest.raises(ValueError, match=re.escape("not a host name or address: 'a;b'")):
        chain_command(
            "m", ["a;b", "c"], addresses, "/opt/x.tgz", "/opt/.x.chain", "true", "/root/.ssh", "m", 1
        )
    with pytest.raises(ValueError, match=re.escape("not a host name or address: '10.0.0.1 x'")):
        chain_command(
            "m", ["c"], {"m": "10.0.0.1 x", "c": "10.0.0.3"}, "/o", "/p", "true", "/root/.ssh", "m", 1
        )


# ----- the chain --------------------------------------------------------------------------------
def test_the_relay_is_valid_shell() -> None:
    for shell in ("sh", "bash"):
        checked = subprocess.run([shell, "-n"], input=RELAY, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr


def _relay(cfg: str, *args: str, env: dict[str, str] | None = None, stream: bytes = b"") -> str:
    done = subprocess.run(
        ["sh", "-c", RELAY, "relay", base64.b64encode(cfg.encode()).decode(), *args],
        input=stream, capture_output=True, timeout=30, env=env,
    )  # fmt: skip
    return done.stdout.decode().strip()


def _model(tmp_path: Path, data: bytes):  # type: ignore[no-untyped-def]
    digest = hashlib.sha256(data).hexdigest()
    return C.model_copy(
        update={
            "install_root": str(tmp_path),
            "tarball": C.tarball.model_copy(update={"sha256": digest, "size": len(data)}),
        }
    )


@pytest.mark.parametrize("received", ["whole", "corrupted", "short"])
def test_a_node_renames_only_a_copy_whose_stream_hashed_and_measured_right(
    received: str, tmp_path: Path
) -> None:
    """The relay as the chain's last node, in a real shell, with the install step the converge
    gives it (operations/release.py): only the declared bytes are renamed into place."""
    data = bytes(range(256)) * 4096
    model = _model(tmp_path, data)
    part = release._chain_part(model)
    install = release._install_tarball(model, chain=True)
    settings = chain_settings("m", ["me"], part, install, "/nonexistent", "/nonexistent", "0123")
    stream = {"whole": data, "corrupted": data[:99] + b"X" + data[100:], "short": data[:-1]}[received]
    stale = Path(part + ".Ab12Cd")  # a half-written copy an interrupted run left beside it
    stale.write_bytes(b"stale")
    said = _relay(settings, "1", "stream", stream=stream)
    final = Path(model.remote_tarball)
    if received == "whole":
        assert said == "ok me" and final.read_bytes() == data
        record = Path(sidecar(str(final))).read_text()
        assert record.startswith(f"{hashlib.sha256(data).hexdigest()} {len(data)} ")
        assert sorted(tmp_path.iterdir()) == sorted([final, Path(sidecar(str(final)))])
    else:
        assert said.startswith("bad me tarball corrupted in transfer"), said
        assert list(tmp_path.iterdir()) == [stale]  # nothing of this copy is left


@pytest.mark.parametrize("received", ["whole", "short"])
def test_the_master_keeps_an_upload_only_once_its_own_copy_hashed_right(
    received: str, tmp_path: Path
) -> None:
    """The chain's command as the master runs it for an upload (no node after it here), in a
    real shell, fed on stdin as the operator's connection feeds it: the master's own copy is
    renamed into place only if it is the declared tarball, and nothing else is left."""
    data = bytes(range(256)) * 4096
    model = _model(tmp_path, data)
    install = release._install_tarball(model, chain=True)
    command = chain_command(
        "m", [], {"m": "10.0.0.1"}, model.remote_tarball, release._chain_part(model), install,
        str(tmp_path / "ssh"), "m", len(data), upload=True,
    )  # fmt: skip
    stream = data if received == "whole" else data[: len(data) // 2]  # the connection cut halfway
    said = subprocess.run(["sh", "-c", command], input=stream, capture_output=True, timeout=60)
    lines = said.stdout.decode().split()
    final = Path(model.remote_tarball)
    if received == "whole":
        assert lines == ["ok", "m"] and final.read_bytes() == data, said
        assert sorted(tmp_path.iterdir()) == sorted([final, Path(sidecar(str(final)))])
    else:
        assert lines[:2] == ["bad", "m"] and b"tarball corrupted in transfer" in said.stdout, said
        assert list(tmp_path.iterdir()) == []  # the partial copy is gone


def _release_tarball(tmp_path: Path, padding: int = 200000) -> tuple[bytes, Path]:
    """A small release tarball (its top folder the recorded cluster's release), its bytes and
    where it lies."""
    top = tmp_path / "src" / C.release
    (top / "bin").mkdir(parents=True)
    (top / "bin" / "alluxio-workers.sh").write_text("ssh -t ${worker}\n")
    (top / "lib.jar").write_bytes(os.urandom(padding))  # incompressible: many gzip blocks
    (top / "bin" / "alluxio-workers.sh").chmod(0o755)
    out = tmp_path / "release.tar.gz"
    subprocess.run(["tar", "-czf", str(out), "-C", str(top.parent), C.release], check=True)
    return out.read_bytes(), out


def _unpacking_model(tmp_path: Path, data: bytes, tar_size: int):  # type: ignore[no-untyped-def]
    root = tmp_path / "opt"
    root.mkdir()
    model = _model(root, data)
    return model.model_copy(update={"tarball": model.tarball.model_copy(update={"tar_size": tar_size})}), root


def _tar_size(path: Path) -> int:
    return len(subprocess.run(["gzip", "-dc", str(path)], capture_output=True, check=True).stdout)


@pytest.mark.parametrize("received", ["whole", "corrupted", "short", "larger than declared"])
def test_a_node_that_extracts_afresh_unpacks_as_it_streams_and_keeps_it_only_once_verified(
    received: str, tmp_path: Path
) -> None:
    """The relay as the chain's last node, listed to unpack: the release unpacked from its own
    copy as it grew is kept, renamed to its place, only if that copy verified; an unverified
    stream's unpacking is removed, and none unpacks more than the declared tar's size."""
    data, tarball = _release_tarball(tmp_path)
    size = _tar_size(tarball)
    model, root = _unpacking_model(tmp_path, data, size // 2 if received == "larger than declared" else size)
    unpacking = release.Unpacking(frozenset({"me"}), release._unpacked(model), model.tarball.tar_size)
    install = release._install_tarball(model, chain=True)
    settings = chain_settings("m", ["me"], release._chain_part(model), install, "/n", "/n", "0123", unpacking)
    cut = len(data) // 2
    stream = {"corrupted": data[:cut] + bytes([data[cut] ^ 1]) + data[cut + 1 :], "short": data[:cut]}
    said = _relay(settings, "1", "stream", stream=stream.get(received, data))
    stage = Path(release._unpacked(model))
    if received == "whole":
        assert said == "ok me", said
        assert sorted(p.name for p in root.iterdir()) == sorted(
            [Path(model.remote_tarball).name, Path(sidecar(model.remote_tarball)).name,
             Path(partial(model.install_dir)).name]
        )  # fmt: skip
        assert [p.name for p in stage.parent.iterdir()] == [stage.name]
        unpacked = stage / C.release
        assert (unpacked / "lib.jar").read_bytes() == (tmp_path / "src" / C.release / "lib.jar").read_bytes()
        assert (unpacked / "bin" / "alluxio-workers.sh").stat().st_mode & 0o777 == 0o755
    elif received == "larger than declared":  # the copy is the tarball; its unpacking stopped short
        assert said == "ok me", said
        assert Path(model.remote_tarball).read_bytes() == data
        assert not stage.parent.exists()
    else:
        assert said.startswith("bad me tarball corrupted in transfer"), said
        assert list(root.iterdir()) == []  # neither the copy nor anything unpacked of it


@pytest.mark.parametrize("received", ["whole", "short"])
def test_the_master_unpacks_an_upload_as_it_arrives_and_keeps_it_only_once_verified(
    received: str, tmp_path: Path
) -> None:
    data, tarball = _release_tarball(tmp_path)
    model, root = _unpacking_model(tmp_path, data, _tar_size(tarball))
    unpacking = release.Unpacking(frozenset({"m"}), release._unpacked(model), model.tarball.tar_size)
    command = chain_command(
        "m", [], {"m": "10.0.0.1"}, model.remote_tarball, release._chain_part(model),
        release._install_tarball(model, chain=True), str(tmp_path / "ssh"), "m", len(data),
        upload=True, unpacking=unpacking,
    )  # fmt: skip
    stream = data if received == "whole" else data[: len(data) // 2]
    said = subprocess.run(["sh", "-c", command], input=stream, capture_output=True, timeout=60)
    stage = Path(release._unpacked(model))
    if received == "whole":
        assert said.stdout.decode().split() == ["ok", "m"], said
        assert (stage / C.release / "lib.jar").read_bytes() == (
            tmp_path / "src" / C.release / "lib.jar"
        ).read_bytes()
    else:
        assert said.stdout.decode().split()[:2] == ["bad", "m"], said
        assert list(root.iterdir()) == []


def test_the_extraction_takes_what_was_unpacked_as_it_streamed_and_nothing_else(tmp_path: Path) -> None:
    """After the chain, a node's fresh extraction (operations/release.py) swaps in the release
    it unpacked as the tarball streamed, verified file by file, without reading the tarball
    again; whatever else an interrupted run left in the extraction's folder goes."""
    data, tarball = _release_tarball(tmp_path)
    root = tmp_path / "opt"
    root.mkdir()
    model = C.model_copy(update={"install_root": str(root), "tarball": read_tarball(str(tarball), C.release)})
    unpacking = release.Unpacking(frozenset({"me"}), release._unpacked(model), model.tarball.tar_size)
    install = release._install_tarball(model, chain=True)
    settings = chain_settings("m", ["me"], release._chain_part(model), install, "/n", "/n", "0123", unpacking)
    assert _relay(settings, "1", "stream", stream=data) == "ok me"
    Path(model.remote_tarball).write_bytes(b"not a tarball")  # were it read again, extraction fails
    left = Path(partial(model.install_dir))
    (left / C.release).mkdir()  # an interrupted extraction's, and another tarball's unpacking
    (left / f"unpacked-{'0' * 64}" / C.release).mkdir(parents=True)
    Path(release._sums_path(model)).write_text(release._expected_sums(model))
    done = subprocess.run(["sh", "-c", release._fresh_extraction(model)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    installed = Path(model.install_dir)
    assert (installed / "lib.jar").read_bytes() == (tmp_path / "src" / C.release / "lib.jar").read_bytes()
    assert (installed / MARKER).read_text().startswith(f"{model.tarball.sha256} {C.release}\n")
    assert not left.exists()


def test_a_forced_login_runs_the_receive_step_or_nothing(tmp_path: Path) -> None:
    """A hop key's forced command takes the step its client asks for: "stream" and "link" only;
    "link" removes that hop's own line from authorized_keys and no other."""
    ak = tmp_path / "authorized_keys"
    ak.write_text("ssh-rsa AAAA alluxio@server08\nfrom=\"x\" ssh-ed25519 BBBB alluxio-chain-0123-2\n"
                  "ssh-ed25519 CCCC alluxio-chain-0123-3\n")  # fmt: skip
    part = str(tmp_path / ".x.chain")
    settings = chain_settings("m", ["a", "me", "c"], part, "false", str(tmp_path), "/x", "0123")
    for asked in ("touch /tmp/pwned", "send", "sh", ""):
        said = _relay(settings, "2", env={"SSH_ORIGINAL_COMMAND": asked, "PATH": "/usr/bin:/bin"})
        assert said == f"bad me refused to run: {asked}".strip(), said
    assert not Path("/tmp/pwned").exists()
    assert _relay(settings, "2", env={"SSH_ORIGINAL_COMMAND": "link", "PATH": "/usr/bin:/bin"}) == "linked"
    assert ak.read_text() == "ssh-rsa AAAA alluxio@server08\nssh-ed25519 CCCC alluxio-chain-0123-3\n"


@pytest.mark.parametrize("step", ["tee", "mktemp", "hasher", "onward ssh", "a tee without -p", "no link"])
def test_a_relay_failing_at_a_step_ends_and_says_so(step: str, tmp_path: Path) -> None:
    """The relay answers (within the test's timeout) whichever of its own steps fails: a tee
    that refuses its options, a copy that cannot be made, a hasher that dies, a next hop that
    cannot be reached (this node's own copy is still made and checked)."""
    data = b"x" * 100000
    model = _model(tmp_path, data)
    install = release._install_tarball(model, chain=True)
    run = secrets.token_hex(8)
    settings = chain_settings("m", ["me", "next"], release._chain_part(model), install, "/n", "/n", run)
    link = socket.socket(socket.AF_UNIX)  # this node's link to the next, as the link step leaves it
    if step != "no link":
        link.bind(f"/tmp/.alluxio-chain-{run}")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    broken = {"tee": ("tee", "echo \"tee: invalid option -- 'p'\" >&2; exit 1"),
              "mktemp": ("mktemp", "exit 1"),
              "hasher": ("sha256sum", "exit 3"),
              "onward ssh": ("ssh", "cat > /dev/null; echo 'ssh: connect to host next port 22: No route to host' >&2; exit 255"),
              # coreutils before 8.24 (CentOS 7's 8.22)
              "a tee without -p": ("tee", "[ \"$1\" = -p ] && { echo \"tee: invalid option -- 'p'\" >&2; exit 1; }; exec /usr/bin/tee \"$@\"")}  # fmt: skip
    name, body = broken.get(step, ("true", "exit 0"))
    (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
    (bin_dir / name).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    said = _relay(settings.replace("command -v openssl", "false"), "1", "stream", env=env, stream=data)
    link.close()
    if step != "no link":
        os.unlink(f"/tmp/.alluxio-chain-{run}")
    if step == "no link":  # the link step failed (no ControlPersist, say): no login onwards, the copy made
        assert said.splitlines() == ["lost next me has no link to it", "ok me"], said
        assert Path(model.remote_tarball).read_bytes() == data
    elif step == "onward ssh":
        assert said.splitlines() == [
            "lost next ssh: connect to host next port 22: No route to host ",
            "ok me",
        ], said
        assert Path(model.remote_tarball).read_bytes() == data
    elif step == "a tee without -p":  # the next hop (a name that does not resolve) is lost, not the copy
        assert said.splitlines()[-1] == "ok me", said
        assert Path(model.remote_tarball).read_bytes() == data
    else:
        assert said.splitlines()[-1].startswith("bad me "), said
        assert not Path(model.remote_tarball).exists()


def test_the_chains_command_authorizes_a_key_per_hop_links_them_then_streams() -> None:
    targets = ["n1", "n2", "n3"]
    addresses = {"m": "10.0.0.1", "n1": "10.0.0.2", "n2": "10.0.0.3", "n3": "10.0.0.4"}
    args = ("/opt/x y.tgz", "/opt/.x.chain", "true", "/root/.ssh", "m")
    command = chain_command("m", targets, addresses, *args, 1000)
    # hop 1 is the master's own login; hops 2 and 3 have keys, usable only from their predecessor
    assert "hops='2:n1:n2:10.0.0.2 3:n2:n3:10.0.0.3'" in command
    assert "ssh-agent" not in command and " -A " not in command and "id_rsa" not in command
    assert 'ssh-keygen -q -t $t -N "" -C "alluxio-chain-' in command
    assert "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding" in command
    assert '$((j - 1)) link $(kh "$h")" < "$e/k$j"' in command  # each hop's key to its predecessor only
    assert "1 stream\" < '/opt/x y.tgz'" in command and "trap cleanup EXIT" in command
    settings = base64.b64decode(re.search(r" C=(\S+);", command).group(1)).decode()
    assert "N=3\nH0=m\nH1=n1\nH2=n2\nH3=n3\n" in settings
    assert "PART=/opt/.x.chain" in settings and re.search(r"SOCK=/tmp/\.alluxio-chain-[0-9a-f]{16}", settings)
    again = chain_command("m", targets, addresses, *args, 1000)
    assert re.search(r"TAG=\S+", settings).group(0) not in again  # each run its own keys and links
    for shell in ("sh", "bash"):
        checked = subprocess.run([shell, "-n"], input=command, capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
    # from a holder: its hop has a key too, and the holder sends
    holder = chain_command("n1", ["n2"], addresses, *args, 1000)
    assert "hops='1:n1:n2:10.0.0.2'" in holder and ' 0 send" < /dev/null' in holder


def test_an_authorized_line_holds_the_forced_command_as_sshd_reads_it(tmp_path: Path) -> None:
    """The master's shell writes each hop's line: its forced command, quoted for sshd, is the
    relay with this hop's settings, and the line fits OpenSSH 5.3's 8 KiB line buffer."""
    addresses = {"m": "10.0.0.1", "n1": "10.0.0.2", "n2": "10.0.0.3"}
    install = release._install_tarball(C, chain=True)
    command = chain_command(
        "m", ["n1", "n2"], addresses, "/opt/x.tgz", "/opt/.x.chain", install, "/root/.ssh", "m", 1
    )
    prelude = command.partition("kh() {")[0]
    start = command.index("printf '%s\\n' ") + len("printf '%s\\n' ")
    line_expr = command[start : command.index('.pub")"', start) + len('.pub")"')]
    (tmp_path / "k2.pub").write_text("ssh-ed25519 AAAAC3Nza alluxio-chain-run-2\n")
    script = f'{prelude}e={tmp_path}; j=2; a=10.0.0.2; printf "%s\\n" {line_expr}'
    line = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True).stdout.rstrip(
        "\n"
    )
    assert len(line) < 8192, len(line)
    found = re.match(
        r'from="10\.0\.0\.2",command="((?:[^"\\]|\\.)*)",(\S+) ssh-ed25519 AAAAC3Nza alluxio-chain-run-2$',
        line,
    )
    assert found and found.group(2) == "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding", line
    forced = found.group(1).replace('\\"', '"')
    assert forced.startswith('sh -c "$(echo ') and forced.endswith(
        " relay " + re.search(r" C=(\S+);", command).group(1) + " 2"
    )
    relay = subprocess.run(
        ["sh", "-c", f"echo {forced.split()[3]} | base64 -d"], capture_output=True, text=True
    ).stdout
    assert relay == RELAY


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
    fourth node refusing logins from the third (it cannot pass it on), the nodes after it get
    copies from the holders, the run converges and no link carries it more than twice; no chain
    key or link is left anywhere."""
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
        after = order[4]
        deny = f"sed -i '1i DenyUsers root@{hosts[broken]}' /etc/ssh/sshd_config"
        lab.exec(after, ["sh", "-c", deny], check=True)
        lab.stop(after)
        lab.start(after)
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
            assert chain_leftovers(lab, name) == "", name
        assert wait_worker_count(lab, len(hosts), master=POST_MASTER) == len(hosts)
    finally:
        for name in extra:
            lab.remove(name)
        lab.reset(list(POST))


def test_however_the_chain_ends_a_hop_key_never_used_is_removed_and_a_link_never_used_closed(
    tmp_path: Path,
) -> None:
    """The master's cleanup, in a real shell, with an ssh that runs the remote command here: hop
    2 never linked (its key is removed from n2's authorized_keys, the others' lines stay); hop 3
    linked but n2 never streamed (n2's link is closed)."""
    addresses = {"m": "10.0.0.1", "n1": "10.0.0.2", "n2": "10.0.0.3", "n3": "10.0.0.4"}
    command = chain_command("m", ["n1", "n2", "n3"], addresses, "/x", "/p", "true", str(tmp_path), "m", 1)
    run = re.search(
        r"TAG=alluxio-chain-([0-9a-f]+)", base64.b64decode(re.search(r" C=(\S+);", command).group(1)).decode()
    ).group(1)
    ak = tmp_path / "authorized_keys"
    theirs = "ssh-rsa AAAA operator\n"
    ak.write_text(f"{theirs}ssh-ed25519 BBBB alluxio-chain-{run}-2\nssh-ed25519 CCCC alluxio-chain-{run}-3\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "ssh.log"
    (bin_dir / "ssh").write_text(f'#!/bin/sh\neval "last=\\${{$#}}"; echo "$*" >> {log}; sh -c "$last"\n')
    (bin_dir / "ssh").chmod(0o755)
    prelude = command.split("trap cleanup EXIT; ")[0]
    script = f'{prelude}mkdir -p "$e"; echo "linked n3" > "$e/l3"; cleanup'
    subprocess.run(["sh", "-c", script], env={"PATH": f"{bin_dir}:/usr/bin:/bin"}, check=True, timeout=30)
    assert (
        ak.read_text() == f"{theirs}ssh-ed25519 CCCC alluxio-chain-{run}-3\n"
    )  # hop 3 linked: its line is its own forced command's to remove
    calls = log.read_text().splitlines()
    assert any(c.endswith(f"n2 ssh -o ControlPath=/tmp/.alluxio-chain-{run} -O exit next") for c in calls), (
        calls
    )
