"""The oldest node userlands the tool supports (issue 24): the post's CentOS 6 and CentOS 7, as
lab hosts whose root sessions get those releases' client tools (lab/floor.sh refuses what they
lack, with their own messages, and logs every call). On each: bare hosts to a healthy cluster
in one run, the tarball along the chain where the floor allows it and from a holder where it
does not (the run says which and why), a second run that changes nothing, drift exit 0, and an
upgrade; and no call the floor refused was anything but one of the tool's own probes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from demo_release import build
from lab import Lab
from tests.labutil import chain_leftovers, changed_pairs, converge, drift, not_in_sync, wait_worker_count

NODES = ("server06", "server07", "server08")
# The node-side calls that may meet a floor's refusal: the tool's probes, each with a fallback
# (README, "Supported node userlands").
PROBES = (
    r"tee -p",  # coreutils 8.24: then plain tee with SIGPIPE ignored
    r"ssh -G -o KexAlgorithms=\^curve25519-sha256 x",  # OpenSSH 6.8 / 8.1: the default key exchange
    r"ssh -Q key",  # OpenSSH 6.3: RSA hop keys
    r"ssh -o ControlPersist=300 -V",  # OpenSSH 5.6: no links, the holders deliver
)


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("floor")
    return {v: build(folder / v, pad_mb=2, version=v) for v in ("1.2.0", "1.3.0")}


@pytest.mark.parametrize("floor", ["centos7", "centos6"])
def test_a_floor_userland_converges_no_ops_reports_and_upgrades(
    floor: str, lab: Lab, releases: dict[str, Path]
) -> None:
    lab.reset()
    try:
        for name in NODES:
            lab.set_floor(name, floor)
        run = converge(lab, releases["1.2.0"]).ok()
        along = dict(re.findall(r"\[(\w+)\] tarball copied from (\w+) along the chain", run.stderr))
        held = dict(re.findall(r"\[(\w+)\] tarball copied from (\w+)$", run.stderr, re.M))
        if floor == "centos7":  # OpenSSH 7.4 keeps links: the chain delivers to both
            assert sorted(along) == ["server06", "server07"], run.stderr[-3000:]
        else:  # OpenSSH 5.3 has no ControlPersist: the first node along the chain, the other from a holder
            assert len(along) == 1 and len(held) == 1, run.stderr[-3000:]
            assert "OpenSSH cannot keep a link open (ControlPersist: OpenSSH 5.6)" in run.stderr
        assert wait_worker_count(lab, 3) == 3
        again = converge(lab, releases["1.2.0"]).ok()
        assert changed_pairs(again) == set(), changed_pairs(again)
        code, document, _ = drift(lab, releases["1.2.0"])
        assert code == 0, not_in_sync(document)
        converge(lab, releases["1.3.0"]).ok()  # an upgrade: the tarball moves again
        assert wait_worker_count(lab, 3) == 3
        code, document, _ = drift(lab, releases["1.3.0"])
        assert code == 0, not_in_sync(document)
        calls = {name: lab.floor_calls(name) for name in NODES}
        every = [c for cs in calls.values() for c in cs]
        refused = {c.removeprefix("refused ") for c in every if c.startswith("refused ")}
        assert refused, calls  # the floor was in the way
        assert all(any(re.fullmatch(p, c) for p in PROBES) for c in refused), refused
        assert any(c.startswith("tee ") for c in every)  # the relays ran on it
        for name in NODES:  # no chain key, link or relay of ours left behind
            assert chain_leftovers(lab, name) == "", name
            relays = lab.exec(name, ["sh", "-c", "ps -eo args= | grep -c '[r]elay ' || true"]).stdout.strip()
            assert relays == "0", name
    finally:
        for name in NODES:
            lab.set_floor(name, None)
