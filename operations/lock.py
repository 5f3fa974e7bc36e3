"""One converge at a time per cluster: a lock on the master, taken before the first change.

A converge with something to change takes ``/etc/alluxio-reconcile/lock`` on the master (an
atomic ``mkdir``) when its first operation starts, and gives it back when its last operation
ends. A second converge started meanwhile stops before its first operation, naming who holds
the lock and since when; it changes nothing. A lock left by a converge that died expires after
an hour (or can be removed by hand). A run with nothing to change, a dry run and the drift
report take no lock: they only read.
"""

from __future__ import annotations

import getpass
import os
import shlex
import socket
import time

from pyinfra import state
from pyinfra.api import Host, State
from pyinfra.api.exceptions import PyinfraError
from pyinfra.api.state import BaseStateCallback

from cluster import current
from facts.node import run_of

LOCK = "/etc/alluxio-reconcile/lock"
EXPIRES_MINUTES = 60


def acquire_command(owner: str) -> str:
    d = shlex.quote(LOCK)
    return (
        f"mkdir -p {shlex.quote(LOCK.rpartition('/')[0])} && "
        f'if mkdir {d} 2>/dev/null || {{ [ -n "$(find {d} -maxdepth 0 -mmin +{EXPIRES_MINUTES})" ] '
        f"&& rm -rf {d} && mkdir {d}; }}; then echo {shlex.quote(owner)} > {d}/owner; "
        f'else echo "held by $(cat {d}/owner 2>/dev/null || echo unknown)" >&2; exit 1; fi'
    )


def release_command(owner: str) -> str:
    d = shlex.quote(LOCK)
    return f'if [ "$(cat {d}/owner 2>/dev/null)" = {shlex.quote(owner)} ]; then rm -rf {d}; fi'


class ConvergeLock(BaseStateCallback):
    """pyinfra callbacks taking the lock at the first operation and releasing it after the last."""

    def __init__(self, master: Host) -> None:
        self.master = master
        since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.owner = f"{getpass.getuser()}@{socket.gethostname()} pid {os.getpid()} since {since}"
        self.held = False

    def operation_start(self, state: State, op_hash: str) -> None:  # type: ignore[override]
        if self.held:
            return
        ok, output = self.master.run_shell_command(acquire_command(self.owner))
        if not ok:
            raise PyinfraError(
                f"another converge is running on this cluster ({self.master.name}:{LOCK} "
                f"{output.stderr.strip()}); nothing was changed. Run again when it is done "
                f"(a lock older than {EXPIRES_MINUTES} minutes is taken over)."
            )
        self.held = True

    def operation_end(self, state: State, op_hash: str) -> None:  # type: ignore[override]
        if self.held and op_hash == state.get_op_order()[-1]:
            self.master.run_shell_command(release_command(self.owner))
            self.held = False


def one_converge_at_a_time(anything_to_change: bool) -> None:
    """Register the lock for this run (once) when the run has something to change."""
    memo = run_of(state).memo
    if anything_to_change and "lock" not in memo:
        memo["lock"] = ConvergeLock(state.inventory.get_host(current().master))
        state.add_callback_handler(memo["lock"])
