"""What one SSH connection costs the control process, which the simulated cluster skips:
pyinfra's own connect (paramiko: key exchange, host key check, authentication) to real sshds.

    python -m bench.handshake COUNT ADDRESS...    # prints one JSON line

It opens COUNT connections, one after the other, to the ADDRESSes in turn (each is a host of
its own to pyinfra), keeps them all open, and reports the process's CPU seconds per connection
and its resident memory per open connection; then closes them.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # as pyinfra's command line does: paramiko's threads are greenlets

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

from pyinfra.api import Config, Inventory, State  # noqa: E402


def resident() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def main() -> None:
    count, addresses = int(sys.argv[1]), sys.argv[2:]
    names = [(f"h{i}", {"ssh_hostname": addresses[i % len(addresses)]}) for i in range(count)]
    state = State(Inventory((names, {})), Config())
    hosts = list(state.inventory)
    for host in hosts[:1]:  # the first one pays for loading the keys and modules: not counted
        host.connect(raise_exceptions=True)
    memory, cpu, wall = resident(), time.process_time(), time.monotonic()
    for host in hosts[1:]:
        host.connect(raise_exceptions=True)
    used, took, grown = time.process_time() - cpu, time.monotonic() - wall, resident() - memory
    for host in hosts:
        host.disconnect()
    n = max(1, count - 1)
    print(json.dumps({"connections": n, "cpu_s": used / n, "wall_s": took / n, "memory_bytes": grown / n}))


if __name__ == "__main__":
    main()
