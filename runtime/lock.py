"""One converge at a time per cluster: a lock on the master, taken before the first change.

A converge with something to change takes ``/etc/alluxio-reconcile/lock`` on the master (an
atomic ``mkdir``) when its first operation starts, and gives it back however the run ends:
after its last operation, or when pyinfra disconnects from the master after a failure, an
exception or Ctrl-C. A second converge started meanwhile stops before its first operation,
naming who holds the lock and since when; it changes nothing. A lock whose holder provably died
(it names this machine and a PID that no longer runs here) is taken over, saying so; one left
by another machine expires after an hour (or can be removed by hand). A lock that cannot be
taken at all (a read-only or full file system, no permission) is reported as that. A run with
nothing to change, a dry run and the drift report take no lock: they only read.
"""

from __future__ import annotations

import getpass
import os
import re
import shlex
import socket
import time
from pathlib import Path

from pyinfra import logger, state
from pyinfra.api import Host, State
from pyinfra.api.state import BaseStateCallback

from layout import LOCK
from refusal import RefusedError
from runtime import privilege, pyinfra_patches
from runtime.declaration import current
from runtime.run import run_of
from scripts import program

EXPIRES_MINUTES = 60
_OWNER = re.compile(r"^(?P<user>\S+)@(?P<host>\S+) pid (?P<pid>\d+) since \S+$")


_LOCK_SH = program(__file__, "lock.sh")


def acquire_command(owner: str, take_over: str | None = None) -> str:
    """Shell printing ``acquired``, ``held OWNER`` or ``error MESSAGE`` (first line). With
    ``take_over``, a lock still held by exactly that owner is removed first (``lock.sh``)."""
    args = ("acquire", LOCK, owner, take_over or "", str(EXPIRES_MINUTES))
    return f"sh -c {shlex.quote(_LOCK_SH)} lock.sh " + " ".join(shlex.quote(a) for a in args)


def release_command(owner: str) -> str:
    return f"sh -c {shlex.quote(_LOCK_SH)} lock.sh " + " ".join(
        shlex.quote(a) for a in ("release", LOCK, owner)
    )


def dead_holder(holder: str, here: str) -> bool:
    """True when ``holder`` names this machine and a PID that does not run here: gone, or a
    zombie (killed, not yet reaped by its parent: ``kill(pid, 0)`` still succeeds on it)."""
    match = _OWNER.match(holder)
    if not match or match.group("host") != here:
        return False
    pid = int(match.group("pid"))
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as someone else's: see whether it is a zombie
        pass
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # no /proc to ask: it exists
    return stat.rpartition(")")[2].split()[:1] == ["Z"]  # the state follows the command's name


class ConvergeLock(BaseStateCallback):
    """Takes the lock at the first operation; gives it back after the last one, or whenever
    pyinfra disconnects from the master first (the run failed or was interrupted)."""

    def __init__(self, master: Host) -> None:
        self.master = master
        self.here = socket.gethostname()
        since = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        self.owner = f"{getpass.getuser()}@{self.here} pid {os.getpid()} since {since}"
        self.held = False
        # pyinfra disconnects every host however the run ends (its CLI's `finally`): the
        # master's connection is still open at that point, and the lock goes with it.
        pyinfra_patches.before_disconnect(master, self.release)

    def _acquire(self, take_over: str | None = None) -> tuple[str, str]:
        ok, output = privilege.run(self.master.state, self.master, acquire_command(self.owner, take_over))
        # the status line, wherever it is: through a pty, sudo's own warnings come first
        lines = [line.rstrip("\r") for line in output.stdout_lines]
        status_line = next(
            (ln for ln in reversed(lines) if ln.split(" ", 1)[0] in ("acquired", "held", "error")), ""
        )
        status, _, rest = status_line.partition(" ")
        if not ok or not status:
            return "error", (output.stderr or output.stdout or "no answer").strip()
        return status, rest.strip()

    def operation_start(self, state: State, op_hash: str) -> None:  # type: ignore[override]
        if self.held or self.master.name in run_of(state).unreadable:
            return  # a master whose state cannot be read changes nothing: its run fails there
        status, detail = self._acquire()
        if status == "held" and dead_holder(detail, self.here):
            logger.warning(
                f"{self.master.print_prefix}took over {LOCK}: its holder ({detail}) is not running on "
                "this machine any more"
            )
            status, detail = self._acquire(take_over=detail)
        if status == "held":
            raise RefusedError(
                f"another converge is running on this cluster ({self.master.name}:{LOCK} held by "
                f"{detail}); nothing was changed. Run again when it is done (a lock older than "
                f"{EXPIRES_MINUTES} minutes is taken over)."
            )
        if status == "error":
            raise RefusedError(
                f"cannot take the converge lock {self.master.name}:{LOCK}: {detail}; nothing was changed"
            )
        self.held = True

    def operation_end(self, state: State, op_hash: str) -> None:  # type: ignore[override]
        if self.held and op_hash == state.get_op_order()[-1]:
            self.release()

    def release(self) -> None:
        if self.held:
            self.held = False
            privilege.run(self.master.state, self.master, release_command(self.owner))


def one_converge_at_a_time(anything_to_change: bool) -> None:
    """Register the lock for this run (once) when the run has something to change."""
    memo = run_of(state).memo
    if anything_to_change and "lock" not in memo:
        memo["lock"] = ConvergeLock(state.inventory.get_host(current().master))
        state.add_callback_handler(memo["lock"])
