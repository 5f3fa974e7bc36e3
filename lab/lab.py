"""A cluster of real SSH hosts on one machine (BRIEF section 3).

Every lab host is a network namespace (``alab-<name>``, address on a bridge) plus private mount,
UTS, IPC and PID namespaces whose PID 1 is ``hostinit.py``: it overlays ``/etc``, binds the host's
own ``/root``, ``/opt``, ``/tmp`` and ``/mnt``, and runs a real ``sshd``. The bridge lives in the
control namespace (``alab-ctl``), from which deploys run. The machine's own network namespace gets
no interface or address of the lab, only an ``unreachable`` route for the lab's subnet, so nothing
addressed to a lab host can leave the machine even by mistake.

All state lives under one folder (``ALLUXIO_LAB_DIR``, default ``/var/lib/alluxio-lab``):
``state.json`` (hosts and their PID 1), ``control/ssh`` (the control key pair and a known_hosts of
every lab host) and ``hosts/<name>/`` (the host's ``etc`` overlay layer, ``root``, ``opt``,
``tmp``, ``mnt``, ``backups`` (its ``/var/backups``) and ``sshd.log``).
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lab import processes, topology
from lab.hostfiles import ETC_HOSTS, SSHD_CONFIG, SUDOERS

PREFIX = "alab-"  # the namespaces of the default lab; ALLUXIO_LAB_PREFIX names another's
BRIDGE = "br0"
HOSTINIT = Path(__file__).with_name("hostinit.py")

# command -> Debian package, checked before anything is built.
REQUIRED_COMMANDS = {
    "ip": "iproute2",
    "sshd": "openssh-server",
    "ssh": "openssh-client",
    "ssh-keygen": "openssh-client",
    "rsync": "rsync",
    "sudo": "sudo",
    "unshare": "util-linux",
    "nsenter": "util-linux",
    "mount": "mount",
    "ps": "procps",
    "tc": "iproute2",
}

# A link rate as tc writes it: 100mbit, 1gbit, 500kbit.
LINK_RATE = re.compile(r"[1-9][0-9]*(\.[0-9]+)?[kmg]?bit")

# Older userlands a host can be given (lab/floor.sh): the post's CentOS 6 and its successor 7.
FLOORS = ("centos6", "centos7")
FLOOR_PROGRAMS = ("tee", "sha256sum", "ssh-keygen", "ssh", "scp")
ROOT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # sshd's default for root


class LabError(Exception):
    """Something the operator must fix; the message says what."""


def _run(argv: Sequence[str], check: bool = True, **kwargs: Any) -> subprocess.CompletedProcess:
    result = subprocess.run(list(argv), capture_output=True, text=True, **kwargs)
    if check and result.returncode != 0:
        raise LabError(f"{' '.join(argv)} failed ({result.returncode}): {result.stderr.strip()}")
    return result


def default_root() -> Path:
    return Path(os.environ.get("ALLUXIO_LAB_DIR", "/var/lib/alluxio-lab"))


def default_prefix() -> str:
    prefix = os.environ.get("ALLUXIO_LAB_PREFIX", PREFIX)
    # Namespace names become file names under /run/netns: keep them plain and short.
    if not (prefix.endswith("-") and prefix[:-1].isalnum() and len(prefix) <= 8):
        raise LabError(f"ALLUXIO_LAB_PREFIX={prefix!r}: expected up to 7 letters or digits and '-'")
    return prefix


class Lab:
    """The lab under ``root``; every method is safe to call on a half-built lab."""

    def __init__(self, root: Path | None = None, prefix: str | None = None) -> None:
        self.root = root or default_root()
        # Labs with different prefixes (and roots) coexist: the same addresses, each behind
        # its own control namespace and bridge.
        self.prefix = prefix or default_prefix()
        self.control_ns = f"{self.prefix}ctl"
        self.state_file = self.root / "state.json"
        self.control_ssh = self.root / "control" / "ssh"

    # ----- state -------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {"hosts": {}}

    def _save(self, state: Mapping[str, Any]) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.state_file)

    def is_up(self) -> bool:
        """True when this lab (its folder or its namespaces) exists on this machine."""
        return bool(self.hosts()) or bool(self._namespaces())

    def namespace(self, name: str) -> str:
        """The network namespace of lab host ``name``."""
        return f"{self.prefix}{name}"

    def owner(self) -> int | None:
        """PID of the process that claimed the lab (see ``claim``), if it still runs."""
        pid = self._state().get("owner")
        return pid if isinstance(pid, int) and processes.alive(pid) else None

    def claim(self, pid: int) -> None:
        """Record ``pid`` as the lab's user: a lab whose owner has died is stale (a killed
        test session's) and may be taken down by the next one."""
        state = self._state()
        state["owner"] = pid
        self._save(state)

    def hosts(self) -> dict[str, str]:
        """Lab host name -> IP address."""
        return {name: h["ip"] for name, h in self._state()["hosts"].items()}

    def host_dir(self, name: str) -> Path:
        return self.root / "hosts" / name

    def init_pid(self, name: str) -> int:
        try:
            return int(self._state()["hosts"][name]["pid"])
        except KeyError:
            raise LabError(f"{name} is not a lab host (hosts: {', '.join(self.hosts())})") from None

    @property
    def control_hosts(self) -> Path:
        return self.root / "control" / "hosts"

    @property
    def control_key(self) -> Path:
        return self.control_ssh / "id_ed25519"

    # ----- checks ------------------------------------------------------------------------
    @staticmethod
    def preflight() -> None:
        if os.geteuid() != 0:
            raise LabError("the lab needs root (namespaces, mounts): run it as root")
        missing = sorted({pkg for cmd, pkg in REQUIRED_COMMANDS.items() if not _which(cmd)})
        if missing:
            raise LabError(
                f"missing Debian package(s): {', '.join(missing)}; "
                f"install with: apt-get install -y {' '.join(missing)}"
            )

    # ----- lifecycle ---------------------------------------------------------------------
    def up(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """Bring up the post's hosts (plus ``extra``); repair what is half-built."""
        self.preflight()
        wanted = {**topology.POST_HOSTS, **(extra or {})}
        for name, ip in wanted.items():
            topology.validate(name, ip)
        _check_unique(wanted)
        known = self.hosts()
        if any(known.get(n, ip) != ip for n, ip in wanted.items()):
            self.down()  # a host changed address: rebuild rather than patch
            known = {}
        self._ensure_control()
        self._build([(n, ip) for n, ip in {**known, **wanted}.items() if not self._healthy(n)])
        return self.hosts()

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

    def add(self, name: str, ip: str) -> None:
        """Add one host beyond the post's (the lab must be up)."""
        self.preflight()
        topology.validate(name, ip)
        hosts = self.hosts()
        if not hosts:
            raise LabError("the lab is not up: run `python -m lab up` first")
        if name in hosts:
            raise LabError(f"{name} is already a lab host ({hosts[name]})")
        owner = next((n for n, a in hosts.items() if a == ip), None)
        if owner:
            raise LabError(f"address {ip} is already in use by {owner}")
        self._build([(name, ip)])

    def remove(self, name: str) -> None:
        """Remove one host and everything it had."""
        self.init_pid(name)  # refuse unknown names
        self._destroy_host(name)
        self._write_known_hosts()

    def reset(self, names: Iterable[str] | None = None) -> None:
        """Rebuild hosts as bare as ``up`` made them (all hosts by default)."""
        hosts = self.hosts()
        if not hosts:
            raise LabError("the lab is not up: run `python -m lab up` first")
        chosen = list(names) if names is not None else list(hosts)
        for name in chosen:
            self.init_pid(name)  # refuse unknown names before touching anything
        for name in chosen:
            self._destroy_host(name)
        self._build([(n, hosts[n]) for n in chosen])

    def down(self) -> None:
        """Remove every namespace, process, route and folder the lab made. Idempotent."""
        for host in self._state()["hosts"].values():
            processes.kill(int(host["pid"]))  # its PID namespace dies with it; unshare then exits
        for ns in self._namespaces():
            self._kill_namespace(ns)
        for ns in self._namespaces():
            _run(["ip", "netns", "del", ns], check=False)
        processes.reap_children()
        if not _other_labs(self.control_ns):  # the route guards every lab on the machine
            _run(["ip", "route", "del", "unreachable", str(topology.SUBNET)], check=False)
        if self.root.exists():
            shutil.rmtree(self.root)

    def stop(self, name: str) -> None:
        """Kill the host's sshd (by its pid file): connections are refused until ``start``."""
        self.exec(name, ["sh", "-c", 'p=$(cat /run/sshd.pid) && kill "$p" && rm -f /run/sshd.pid'])
        self._wait_listening(name, listening=False)

    def start(self, name: str) -> None:
        """Start the host's sshd again (no-op when it runs)."""
        if not self._sshd_running(name):
            self.exec(name, ["/usr/sbin/sshd", "-E", str(self.host_dir(name) / "sshd.log")])
        self._wait_listening(name)

    def set_floor(self, name: str, floor: str | None) -> None:
        """Give host ``name`` an older userland for root's sessions (``floor``, one of
        :data:`FLOORS`; None: the host's own): wrappers first on the PATH sshd gives root, which
        refuse what that floor's tools lack with their own messages and log every call to
        ``/root/.floor/calls`` (see ``lab/floor.sh``). Only the client tools are old: sshd
        stays the host's."""
        if floor is not None and floor not in FLOORS:
            raise LabError(f"floor {floor!r}: one of {', '.join(FLOORS)}")
        d = self.host_dir(name) / "root" / ".floor"
        config = self.host_dir(name) / "etc" / "ssh" / "sshd_config"
        lines = [line for line in config.read_text().splitlines() if not line.startswith("SetEnv PATH=")]
        if floor is None:
            shutil.rmtree(d, ignore_errors=True)
        else:
            (d / "bin").mkdir(parents=True, exist_ok=True)
            (d / "floor").write_text(f"{floor}\n")
            (d / "calls").write_text("")
            for program in FLOOR_PROGRAMS:
                shutil.copy(Path(__file__).with_name("floor.sh"), d / "bin" / program)
                os.chmod(d / "bin" / program, 0o755)
            lines.append(f"SetEnv PATH=/root/.floor/bin:{ROOT_PATH}")
        config.write_text("\n".join(lines) + "\n")
        self.stop(name)
        self.start(name)

    def set_journal_replay(self, name: str, seconds: int) -> None:
        """Make the demo master of host ``name`` take ``seconds`` to replay its journal before
        it serves, as a real one with a large namespace does (0: at once). A setting of the
        lab, read by the demo master at its start; the tool never sees it."""
        setting = self.host_dir(name) / "etc" / "alluxio-demo" / "journal-replay-seconds"
        if seconds <= 0:
            setting.unlink(missing_ok=True)
            return
        setting.parent.mkdir(parents=True, exist_ok=True)
        setting.write_text(f"{seconds}\n")

    def floor_calls(self, name: str) -> list[str]:
        """Every call of a floor tool on ``name`` since its floor was set: "PROGRAM ARGS"."""
        calls = self.host_dir(name) / "root" / ".floor" / "calls"
        return calls.read_text().splitlines() if calls.exists() else []

    def add_operator(
        self, user: str = "ops", password: str | None = None, root_from_control: bool = False
    ) -> None:
        """On every host, an operator account as most sites have: ``user`` logs in with the lab's
        control key and may run anything through sudo (without a password, or with
        ``password``), under the hosts' ``Defaults requiretty``; and unless
        ``root_from_control``, root may no longer log in from the control side
        (``PermitRootLogin no`` for its address), while the hosts' root still reach each other."""
        key = Path(f"{self.control_key}.pub").read_text().strip()
        rule = f"{user} ALL=(ALL:ALL) {'' if password else 'NOPASSWD: '}ALL"
        setup = (
            f"id -u {user} >/dev/null 2>&1 || useradd -m -s /bin/bash {user}; "
            f"mkdir -p /home/{user}/.ssh && echo '{key}' > /home/{user}/.ssh/authorized_keys && "
            f"chmod 700 /home/{user}/.ssh && chmod 600 /home/{user}/.ssh/authorized_keys && "
            f"chown -R {user}:{user} /home/{user}/.ssh && "
            f"grep -qxF '{rule}' /etc/sudoers || echo '{rule}' >> /etc/sudoers"
        )
        # a password for sudo, or none at all: "*", not the locked "!" sshd turns away
        setup += f" && echo '{user}:{password}' | chpasswd" if password else f" && usermod -p '*' {user}"
        for name in self.hosts():
            done = self.exec(name, ["sh", "-c", setup])
            if done.returncode != 0:
                raise LabError(f"{name}: could not add the operator {user}: {done.stderr.strip()}")
            if not root_from_control:
                # inside the host: its /etc is an overlay, not to be written behind its back
                deny = f"Match Address {topology.CONTROL_IP}\n    PermitRootLogin no\n"
                conf = "/etc/ssh/sshd_config"
                script = f"grep -q '^Match Address' {conf} || printf '{deny}' >> {conf}"
                self.exec(name, ["sh", "-c", script], check=True)
                self.stop(name)
                self.start(name)

    def rekey(self, name: str) -> None:
        """Give a host new host keys, as a reinstall would; the control side learns them (an
        operator who reinstalled a node checks its new key before trusting it)."""
        # Inside the host: its /etc is an overlay, whose upper layer must not be written behind
        # its back while mounted.
        regenerate = "rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub && ssh-keygen -q -A"
        done = self.exec(name, ["sh", "-c", regenerate])
        if done.returncode != 0:
            raise LabError(f"{name}: could not make new host keys: {done.stderr.strip()}")
        self.stop(name)
        self.start(name)
        self._write_known_hosts()

    # ----- running commands --------------------------------------------------------------
    def run_argv(self, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run in the control namespace, with the lab's ssh dir as ~/.ssh.

        The control side resolves lab host names through its own hosts file. The bind mounts
        live in the private mount namespace ``ip netns exec`` creates, so the machine's own
        ~/.ssh and /etc/hosts are untouched; ssh, scp and pyinfra there trust the lab's host keys
        and use the lab's control key like an operator's workstation would.
        """
        home_ssh = Path(pwd.getpwuid(os.getuid()).pw_dir) / ".ssh"
        script = (
            'mkdir -p "$1" && mount --bind "$2" "$1" && mount --bind "$3" /etc/hosts && shift 3 && exec "$@"'
        )
        return [
            "ip",
            "netns",
            "exec",
            self.control_ns,
            "sh",
            "-c",
            script,
            "sh",
            str(home_ssh),
            str(self.control_ssh),
            str(self.control_hosts),
            *argv,
        ]

    def run(self, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
        return subprocess.run(self.run_argv(argv), **kwargs)

    def exec_argv(self, name: str, argv: Sequence[str]) -> list[str]:
        """``argv`` wrapped to run inside host ``name`` (all its namespaces, cwd /root)."""
        pid = str(self.init_pid(name))
        return ["nsenter", "-t", pid, "-m", "-u", "-i", "-n", "-p", "--wd=/root", "--", *argv]

    def exec(self, name: str, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess:
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        return subprocess.run(self.exec_argv(name, argv), **kwargs)

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

    def _healthy(self, name: str) -> bool:
        host = self._state()["hosts"].get(name)
        if not host or not processes.alive(int(host["pid"])):
            return False
        if self.namespace(name) not in self._namespaces():
            return False
        if not self._sshd_running(name):
            self.start(name)  # a stopped sshd is repaired, not rebuilt
        return True

    def _sshd_running(self, name: str) -> bool:
        probe = 'test -s /run/sshd.pid && kill -0 "$(cat /run/sshd.pid)"'
        return self.exec(name, ["sh", "-c", probe]).returncode == 0

    def _wait_listening(self, name: str, listening: bool = True) -> None:
        """Wait until port 22 in the host's network namespace is (not) listening.

        A daemonising sshd returns before it binds, so "started" is not yet "answers".
        """
        tcp = Path(f"/proc/{self.init_pid(name)}/net/tcp")  # the netns of the host's PID 1
        deadline = time.monotonic() + 10
        while processes.listens_on(tcp, 22) != listening:
            if time.monotonic() > deadline:
                raise LabError(f"{name}: sshd {'never' if listening else 'still'} listens on 22")
            time.sleep(0.02)

    def _build(self, hosts: Sequence[tuple[str, str]]) -> None:
        started = []
        for name, ip in hosts:
            self._destroy_host(name)
            self._prepare_files(name)
            self._plumb(name, ip)
            started.append((name, ip, self._spawn(name)))
        state = self._state()
        for name, ip, proc in started:
            pid = self._wait_ready(name, proc)
            state["hosts"][name] = {"ip": ip, "pid": pid}
        self._save(state)
        for name, _, _ in started:
            self._wait_listening(name)
        self._write_known_hosts()

    def _prepare_files(self, name: str) -> None:
        d = self.host_dir(name)
        for sub, mode in (
            ("etc", 0o755),
            ("etc.work", 0o755),
            ("root", 0o700),
            ("opt", 0o755),
            ("tmp", 0o1777),
            ("mnt", 0o755),
            ("backups", 0o755),
            ("home", 0o755),
        ):
            (d / sub).mkdir(parents=True, exist_ok=True)
            os.chmod(d / sub, mode)
        etc = d / "etc"
        (etc / "hostname").write_text(f"{name}\n")
        (etc / "hosts").write_text(ETC_HOSTS)
        sudoers = etc / "sudoers"
        sudoers.write_text(SUDOERS)
        os.chmod(sudoers, 0o440)
        ssh = etc / "ssh"
        ssh.mkdir(exist_ok=True)
        # Opaque: none of the machine's /etc/ssh (its host keys above all) shows through.
        os.setxattr(ssh, "trusted.overlay.opaque", b"y")
        for keep in ("ssh_config", "moduli"):
            if Path("/etc/ssh", keep).exists():
                shutil.copy(Path("/etc/ssh", keep), ssh / keep)
        (ssh / "sshd_config").write_text(SSHD_CONFIG)
        for kind, bits in (("ed25519", []), ("ecdsa", ["-b", "256"]), ("rsa", ["-b", "2048"])):
            key = ssh / f"ssh_host_{kind}_key"
            _run(
                [
                    "ssh-keygen",
                    "-q",
                    "-t",
                    kind,
                    *bits,
                    "-N",
                    "",
                    "-C",
                    f"root@{name}",
                    "-f",
                    str(key),
                ]
            )
        dot_ssh = d / "root" / ".ssh"
        dot_ssh.mkdir(mode=0o700)
        auth = dot_ssh / "authorized_keys"
        auth.write_text(Path(f"{self.control_key}.pub").read_text())
        os.chmod(auth, 0o600)

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

    def _spawn(self, name: str) -> subprocess.Popen:
        d = self.host_dir(name)
        (d / "ready").unlink(missing_ok=True)
        python = os.path.realpath(sys.executable)  # hostinit needs only the standard library
        argv = [
            "ip",
            "netns",
            "exec",
            self.namespace(name),
            "unshare",
            "--mount",
            "--uts",
            "--ipc",
            "--pid",
            "--fork",
            "--mount-proc",
            "--propagation",
            "private",
            python,
            "-I",
            str(HOSTINIT),
            str(d),
            name,
        ]
        with open(d / "init.log", "ab") as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                cwd="/",
            )

    def _wait_ready(self, name: str, proc: subprocess.Popen) -> int:
        ready = self.host_dir(name) / "ready"
        deadline = time.monotonic() + 20
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                log = (self.host_dir(name) / "init.log").read_text(errors="replace")
                raise LabError(f"host {name} did not start:\n{log}")
            time.sleep(0.02)
        # `ip netns exec` execs unshare, whose only child is the host's PID 1.
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        return int(children[0])

    def _write_known_hosts(self) -> None:
        lines = []
        for name, ip in sorted(self.hosts().items()):
            for pub in sorted((self.host_dir(name) / "etc" / "ssh").glob("ssh_host_*_key.pub")):
                kind, key = pub.read_text().split()[:2]
                lines.append(f"{name},{ip} {kind} {key}\n")
        (self.control_ssh / "known_hosts").write_text("".join(lines))
        names = "".join(f"{ip}\t{name}\n" for name, ip in sorted(self.hosts().items()))
        self.control_hosts.write_text(ETC_HOSTS + names)

    def _destroy_host(self, name: str) -> None:
        ns = self.namespace(name)
        host = self._state()["hosts"].get(name)
        if host:
            processes.kill(int(host["pid"]))
        if ns in self._namespaces():
            self._kill_namespace(ns)
            _run(["ip", "netns", "del", ns], check=False)
        state = self._state()
        if state["hosts"].pop(name, None) is not None:
            self._save(state)
        if self.host_dir(name).exists():
            shutil.rmtree(self.host_dir(name))

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


def _check_unique(hosts: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for name, ip in hosts.items():
        if ip in seen:
            raise LabError(f"address {ip} is already in use by {seen[ip]} (wanted for {name})")
        seen[ip] = name


def _which(cmd: str) -> bool:
    return shutil.which(cmd, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is not None
