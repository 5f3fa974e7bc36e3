"""What tests make of a lab host beyond a bare one: an older userland (lab/floor.sh), a slow
demo master, an operator's sudo user, a new host key."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from lab import topology
from lab.common import FLOOR_PROGRAMS, FLOORS, ROOT_PATH, ZOOKEEPER_PORT, LabError

# Debian's ZooKeeper server, with the least it needs (no admin server: no Jetty)
ZOOKEEPER_JARS = tuple(
    f"/usr/share/java/{j}.jar" for j in ("zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-nop")
)


class Scenarios:
    """The scenario half of :class:`lab.lab.Lab` (which holds the hosts they change)."""

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
        self._demo_setting(name, "journal-replay-seconds", seconds)

    def set_worker_start(self, name: str, seconds: int) -> None:
        """Make the demo worker of host ``name`` take ``seconds`` after its JVM starts before it
        registers with the master, as a real one does on a loaded host or with a large cache to
        scan (0: at once). A setting of the lab, read by the demo worker at its start."""
        self._demo_setting(name, "worker-start-seconds", seconds)

    def _demo_setting(self, name: str, setting: str, seconds: int) -> None:
        # written from inside the host: its /etc is an overlay, which need not see a file
        # written into its upper folder from outside once it has looked the name up
        path = f"/etc/alluxio-demo/{setting}"
        script = f"rm -f {path}" if seconds <= 0 else f"mkdir -p /etc/alluxio-demo && echo {seconds} > {path}"
        self.exec(name, ["sh", "-c", script], check=True)

    def start_zookeeper(self, name: str = "server03", tick_ms: int = 2000) -> str:
        """Run a real ZooKeeper server (Debian's ``zookeeper`` package) on lab host ``name``,
        standalone, with its stock settings but ``tick_ms`` (a client's session, and so a dead
        leader's lead, expires within 20 ticks: 40 s with the stock 2000). Its data lives in
        the host's /root/zookeeper; it stops with the host. Returns its connect string."""
        self.stop_zookeeper(name)
        ip = self.hosts()[name]
        folder = self.host_dir(name) / "root" / "zookeeper"
        (folder / "data").mkdir(parents=True, exist_ok=True)
        (folder / "zoo.cfg").write_text(
            f"tickTime={tick_ms}\ninitLimit=10\nsyncLimit=5\ndataDir=/root/zookeeper/data\n"
            f"clientPort={ZOOKEEPER_PORT}\nclientPortAddress={ip}\nadmin.enableServer=false\n"
        )
        missing = [j for j in ZOOKEEPER_JARS if not Path(j).is_file()]
        if missing:
            raise LabError(f"{', '.join(missing)} missing: apt-get install zookeeper")
        main = "org.apache.zookeeper.server.ZooKeeperServerMain"
        server = f"java -cp {':'.join(ZOOKEEPER_JARS)} {main} zoo.cfg"
        start = f"cd /root/zookeeper && {{ nohup {server} > zookeeper.out 2>&1 & }} && echo $! > pid"
        self.exec(name, ["sh", "-c", start], check=True)
        deadline = time.monotonic() + 30
        while "Mode: standalone" not in self.zookeeper_says(name, "srvr"):
            if time.monotonic() > deadline:
                log = (folder / "zookeeper.out").read_text(errors="replace")[-2000:]
                raise LabError(f"ZooKeeper on {name} did not answer within 30 s:\n{log}")
            time.sleep(0.2)
        return f"{ip}:{ZOOKEEPER_PORT}"

    def stop_zookeeper(self, name: str = "server03") -> None:
        """Stop the ZooKeeper server ``start_zookeeper`` ran on ``name`` (by its PID), if any."""
        pid = self.host_dir(name) / "root" / "zookeeper" / "pid"
        if pid.exists():
            self.exec(name, ["sh", "-c", f"kill -9 {int(pid.read_text())} 2>/dev/null; true"])
            pid.unlink()

    def zookeeper_says(self, name: str, command: str) -> str:
        """The answer of the ZooKeeper server on ``name`` to a four-letter ``command`` ("" if none)."""
        ip = self.hosts()[name]
        ask = f"exec 3<>/dev/tcp/{ip}/{ZOOKEEPER_PORT} && printf {command} >&3 && cat <&3"
        return self.exec(name, ["timeout", "5", "bash", "-c", ask]).stdout

    def zookeeper_cli(self, name: str, *command: str) -> str:
        """ZooKeeper's own command-line client (``zkCli.sh``), run on ``name`` against its server."""
        server = f"{self.hosts()[name]}:{ZOOKEEPER_PORT}"
        argv = ["timeout", "30", "/usr/share/zookeeper/bin/zkCli.sh", "-server", server, *command]
        done = self.exec(name, argv)
        return done.stdout

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
