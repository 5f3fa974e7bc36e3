"""Workers known as 1.x knows them (issue 25): a 1.x worker registers under the canonical name
of its address, so with the usual CentOS hosts lines (FQDN first) the master lists
``server06.dc1.example``, not the inventory's ``server06``; and Debian's ``127.0.1.1`` line is
loopback and skipped. The tool recognises a listed worker by its address as the master resolves
it: a cold converge, a no-op, drift exit 0 and a rolling restart count each worker live."""

from __future__ import annotations

import json
from pathlib import Path

from lab import Lab
from tests.labutil import MASTER, changed_pairs, converge, drift, fetch, not_in_sync, wait_until

NODES = {"server06": "10.0.1.11", "server07": "10.0.1.12", "server08": "10.0.1.13"}
BASE = "127.0.0.1\tlocalhost\n" + "".join(f"{ip} {n}.dc1.example {n}\n" for n, ip in NODES.items())


def listed(lab: Lab) -> dict[str, int]:
    infos = json.loads(fetch(lab, f"http://{MASTER}:19999/v1/api/master/worker_info_list"))
    return {w["address"]["host"]: w["lastContactSec"] for w in infos}


def test_workers_listed_by_fqdn_are_live_by_their_address(lab: Lab, tarball: Path) -> None:
    lab.reset()
    for name in NODES:
        # FQDN first on every node, as CentOS writes them; on server07 also Debian's own line
        text = BASE + (f"127.0.1.1 {name}.dc1.example {name}\n" if name == "server07" else "")
        lab.exec(name, ["sh", "-c", f"printf '%s' '{text}' > /etc/hosts"], check=True)
    converge(lab, tarball).ok()  # its health step counts all three live
    fqdns = sorted(f"{n}.dc1.example" for n in NODES)
    assert sorted(wait_until(lambda: listed(lab), "the master's list")) == fqdns
    again = converge(lab, tarball).ok()
    assert changed_pairs(again) == set(), changed_pairs(again)
    code, document, _ = drift(lab, tarball)
    assert code == 0, not_in_sync(document)
    # a worker-only change: one at a time, each awaited live by its address
    rolled = converge(
        lab, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_JAVA_OPTS": "-Dreconcile.test=fqdn"}'
    ).ok()
    restarted = {h for op, hosts in rolled.changed().items() if "one at a time" in op for h in hosts}
    assert restarted == set(NODES), rolled.changed()
    assert sorted(name for name, age in listed(lab).items() if age <= 3) == fqdns
    code, document, _ = drift(
        lab, tarball, "--data", 'alluxio_env={"ALLUXIO_WORKER_JAVA_OPTS": "-Dreconcile.test=fqdn"}'
    )
    assert code == 0, not_in_sync(document)
