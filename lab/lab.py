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
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from lab import processes, topology
from lab.common import LabError
from lab.common import run as _run
from lab.hostfiles import ETC_HOSTS, SSHD_CONFIG, SUDOERS
from lab.network import Network, _other_labs
from lab.scenarios import Scenarios

PREFIX = "alab-"  # the namespaces of the default lab; ALLUXIO_LAB_PREFIX names another's
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


def default_root() -> Path:
    return Path(os.environ.get("ALLUXIO_LAB_DIR", "/var/lib/alluxio-lab"))


def default_prefix() -> str:
    prefix = os.environ.get("ALLUXIO_LAB_PREFIX", PREFIX)
    # Namespace names become file names under /run/netns: keep them plain and short.
    if not (prefix.endswith("-") and prefix[:-1].isalnum() and len(prefix) <= 8):
        raise LabError(f"ALLUXIO_LAB_PREFIX={prefix!r}: expected up to 7 letters or digits and '-'")
    return prefix


class Lab(Network, Scenarios):
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
        if names is None:  # a whole new world: its shared folder empty too
            shutil.rmtree(self.root / "shared", ignore_errors=True)
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
        (d / "mnt" / "shared").mkdir()  # where the lab's shared folder is mounted
        (self.root / "shared").mkdir(exist_ok=True)
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


def _check_unique(hosts: Mapping[str, str]) -> None:
    seen: dict[str, str] = {}
    for name, ip in hosts.items():
        if ip in seen:
            raise LabError(f"address {ip} is already in use by {seen[ip]} (wanted for {name})")
        seen[ip] = name


def _which(cmd: str) -> bool:
    return shutil.which(cmd, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin") is not None
