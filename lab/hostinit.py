"""PID 1 of one lab host: private mounts, hostname, sshd, and a zombie reaper.

Started by ``lab`` inside fresh mount, UTS, IPC and PID namespaces (and the host's own network
namespace). Standard library only, and everything is imported before the mounts change, because
the project directory may be hidden by them (``/root`` or ``/tmp`` are replaced).

Usage: hostinit.py HOST_DIR HOSTNAME
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

SHARED = "/mnt/shared"  # lab.common.SHARED (standard library only here)


def mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def setup(host_dir: str, hostname: str) -> None:
    # /etc is an overlay so that rename-based writes (sed -i, atomic replace) work as on a
    # real host; the host's own files (hosts, hostname, ssh/, sudoers) sit in the upper layer.
    mount(
        "-t",
        "overlay",
        "overlay",
        "-o",
        f"lowerdir=/etc,upperdir={host_dir}/etc,workdir={host_dir}/etc.work",
        "/etc",
    )
    for name in ("root", "opt", "tmp", "mnt"):
        mount("--bind", f"{host_dir}/{name}", f"/{name}")
    # the lab's stand-in for an NFS export every host mounts (a shared journal's folder)
    lab_root = os.path.dirname(os.path.dirname(os.path.abspath(host_dir)))
    mount("--bind", f"{lab_root}/shared", SHARED)
    # /var is the machine's, but for the folder where a host keeps its backups
    os.makedirs("/var/backups", exist_ok=True)
    mount("--bind", f"{host_dir}/backups", "/var/backups")
    os.makedirs("/home", exist_ok=True)
    mount("--bind", f"{host_dir}/home", "/home")  # its own users' homes
    # sshd's pid file and privilege-separation dir must not be shared between hosts.
    mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run")
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    hide_other_hosts(host_dir)
    socket.sethostname(hostname)


def hide_other_hosts(host_dir: str) -> None:
    """The lab's folder holds every host's files (their /root, private keys included) and the
    control side's key: inside this host only its own folder is left at its usual path, so that
    no host reads another's files through the machine's file system."""
    lab_root = os.path.dirname(os.path.dirname(os.path.abspath(host_dir)))
    keep = "/run/alluxio-lab-host"
    os.makedirs(keep)
    mount("--bind", host_dir, keep)
    mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", lab_root)
    os.makedirs(host_dir)
    mount("--move", keep, host_dir)


def start_sshd(host_dir: str) -> None:
    # Daemonised sshd writes /run/sshd.pid; its orphans are reaped below.
    subprocess.run(["/usr/sbin/sshd", "-E", f"{host_dir}/sshd.log"], check=True)


def reap_forever() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        try:
            os.wait()
        except ChildProcessError:
            time.sleep(1)


def main() -> None:
    host_dir, hostname = sys.argv[1], sys.argv[2]
    setup(host_dir, hostname)
    start_sshd(host_dir)
    with open(f"{host_dir}/ready", "w") as ready:
        ready.write(f"{os.getpid()}\n")
    reap_forever()


if __name__ == "__main__":
    main()
