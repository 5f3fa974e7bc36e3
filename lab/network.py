"""The lab's network: the control namespace and its bridge, each host's link (a veth pair, its
address and MAC), link caps (tc), the counters, and taking namespaces down. The machine's own
namespace gets only an unreachable route for the lab's subnet."""

from __future__ import annotations

import json
import os
import time

from lab import processes, topology
from lab.common import BRIDGE, LINK_RATE, LabError
from lab.common import run as _run


class Network:
    """The network half of :class:`lab.lab.Lab` (which holds the state it reads)."""

    def cap_links(self, rate: str | None) -> None:
        """Cap every host's link at ``rate`` (tc's form: ``100mbit``) each way, as a NIC would:
        what a host sends (its ``eth0``) and what it receives (the bridge's side of its pair), so
        that copies between hosts meet a network bottleneck, not only the machine's shared
        cores. None removes the caps. Hosts added later get the same cap."""
        if rate is not None and not LINK_RATE.fullmatch(rate):
            raise LabError(f"link rate {rate!r}: expected a rate as tc writes it, e.g. 100mbit or 1gbit")
        state = self._state()
        state["link_rate"] = rate
        self._save(state)
        for name, ip in self.hosts().items():
            self._cap(name, ip, rate)

    def link_rate(self) -> str | None:
        return self._state().get("link_rate")

    def _cap(self, name: str, ip: str, rate: str | None) -> None:
        for ns, dev in ((self.namespace(name), "eth0"), (self.control_ns, _veth(ip))):
            if rate is None:
                _run(["ip", "netns", "exec", ns, "tc", "qdisc", "del", "dev", dev, "root"], check=False)
            else:
                # a token bucket: a burst of 256 KiB, packets queued at most 100 ms beyond it
                tbf = ["tbf", "rate", rate, "burst", "256kb", "latency", "100ms"]
                _run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", dev, "root", *tbf])

    def sent_bytes(self, name: str) -> int:
        """Bytes host ``name`` has sent on its link (its eth0's counter)."""
        out = _run(["ip", "-n", self.namespace(name), "-j", "-s", "link", "show", "eth0"]).stdout
        return int(json.loads(out)[0]["stats64"]["tx"]["bytes"])

    # ----- internals ---------------------------------------------------------------------
    def _namespaces(self) -> list[str]:
        out = _run(["ip", "netns", "list"], check=False).stdout
        return [line.split()[0] for line in out.splitlines() if line.startswith(self.prefix)]

    def _ensure_control(self) -> None:
        if self.control_ns not in self._namespaces():
            _run(["ip", "netns", "add", self.control_ns])
        ns = ["ip", "-n", self.control_ns]
        _run([*ns, "link", "set", "lo", "up"])
        if _run([*ns, "link", "show", BRIDGE], check=False).returncode != 0:
            _run([*ns, "link", "add", BRIDGE, "type", "bridge"])
            _run([*ns, "addr", "add", f"{topology.CONTROL_IP}/24", "dev", BRIDGE])
        # A fixed address: a bridge takes its lowest port's otherwise, which changes as hosts
        # come and go, and hosts would keep sending to the old one from their ARP cache.
        _run([*ns, "link", "set", BRIDGE, "address", _mac(str(topology.CONTROL_IP))])
        _run([*ns, "link", "set", BRIDGE, "up"])
        # Belt and braces: from the machine's own namespace the lab's subnet is unreachable.
        _run(["ip", "route", "replace", "unreachable", str(topology.SUBNET)])
        if not self.control_key.exists():
            self.control_ssh.mkdir(parents=True, exist_ok=True, mode=0o700)
            _run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    "ed25519",
                    "-N",
                    "",
                    "-C",
                    "lab-control",
                    "-f",
                    str(self.control_key),
                ]
            )

    def _plumb(self, name: str, ip: str) -> None:
        ns = self.namespace(name)
        veth = _veth(ip)
        # A namespace being torn down can keep its veth pair a moment: remove it from our side.
        _run(["ip", "-n", self.control_ns, "link", "del", veth], check=False)
        _run(["ip", "netns", "add", ns])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        _run(
            [
                "ip",
                "-n",
                self.control_ns,
                "link",
                "add",
                veth,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                ns,
            ]
        )
        _run(["ip", "-n", self.control_ns, "link", "set", veth, "master", BRIDGE, "up"])
        # The same MAC for the same address, whenever the host is rebuilt: the other hosts' and
        # the control side's ARP caches stay right (a new MAC went unanswered for up to a minute).
        _run(["ip", "-n", ns, "link", "set", "eth0", "address", _mac(ip)])
        _run(["ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        rate = self._state().get("link_rate")
        if rate:
            self._cap(name, ip, rate)

    def _kill_namespace(self, ns: str) -> None:
        """SIGKILL every process in network namespace ``ns``, by PID, and wait for them."""
        try:
            target = os.stat(f"/run/netns/{ns}")
        except OSError:
            return
        for _ in range(100):
            pids = [
                pid for pid in processes.pids() if processes.same_netns(pid, target) and processes.alive(pid)
            ]
            if not pids:
                return
            for pid in pids:
                processes.kill(pid)
            time.sleep(0.05)
            processes.reap_children()
        raise LabError(f"processes in {ns} survived SIGKILL: {pids}")


def _mac(ip: str) -> str:
    """A locally administered MAC address derived from an IPv4 address."""
    return "02:00:" + ":".join(f"{int(octet):02x}" for octet in ip.split("."))


def _veth(ip: str) -> str:
    """The control side's end of a host's link: unique per address, within IFNAMSIZ."""
    return f"vl{ip.rsplit('.', 1)[1]}"


def _other_labs(control_ns: str) -> list[str]:
    """Control namespaces of other labs on this machine (every lab's ends in ``-ctl``)."""
    out = _run(["ip", "netns", "list"], check=False).stdout
    names = [line.split()[0] for line in out.splitlines() if line.strip()]
    return [ns for ns in names if ns.endswith("-ctl") and ns != control_ns]
