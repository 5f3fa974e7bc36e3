"""How the tarball spreads from the master to the other nodes: as a tree, not from one node.

The post copies the tarball from the master to every worker in turn, so the master's one link
carries it N-1 times. Here every node that holds a verified copy passes it on, each sending it to
at most ``FANOUT`` others: the master's link carries it twice whatever N, and the number of
copies in flight doubles with each round. A relay is reached the way the master reaches every
node, over the cluster's own trust: the master's root logs in to the relay with its agent
forwarded (``ssh -A``; the private key stays on the master) and the relay copies to the target,
checking the target's host key against the master's ``known_hosts`` entry for it. Each copy is
checked against the sha256 on the target before it is used or passed on; a failed copy is tried
again from another holder, the master last; a relay whose copies failed twice sends no more.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from gevent.event import Event

FANOUT = 2  # copies one node sends: the master's link carries the tarball twice, whatever N
ATTEMPTS = 3  # sources tried for one node before its copy fails
SSH_OPTIONS = (
    "-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 "
    # a copy that stalls (a link gone quiet) fails within a minute and is tried elsewhere
    "-o ServerAliveInterval=15 -o ServerAliveCountMax=4"
)


@dataclass
class Fanout:
    """The holders of a verified tarball in this run and what each has sent.

    ``source`` and ``done`` are called from the greenlets pyinfra runs one per host; they never
    yield between reading and updating, so no lock is needed."""

    master: str
    sent: dict[str, int] = field(default_factory=dict)  # holder -> copies it was asked to send
    failed: dict[str, int] = field(default_factory=dict)  # holder -> copies of it that failed
    in_flight: int = 0
    _wake: Event = field(default_factory=Event)

    def __post_init__(self) -> None:
        self.sent.setdefault(self.master, 0)

    def add_holder(self, name: str) -> None:
        self.sent.setdefault(name, 0)
        self._wake.set()

    def _usable(self, holder: str) -> bool:
        # A relay whose copies failed twice (to two nodes) cannot send: it forbids agent
        # forwarding, say. The master is always worth a try.
        return holder == self.master or self.failed.get(holder, 0) < 2

    def _pick(self, tried: Collection[str], over_budget: bool) -> str | None:
        candidates = [
            h
            for h in self.sent
            if h not in tried and self._usable(h) and (over_budget or self.sent[h] < FANOUT)
        ]
        if not candidates:
            return None
        # The holder that has sent least (its link is the freest), relays before the master
        # (whose link also serves everything else), then the earliest holder.
        order = list(self.sent)
        return min(candidates, key=lambda h: (self.sent[h], h == self.master, order.index(h)))

    def source(self, tried: Collection[str] = ()) -> str | None:
        """A holder to copy from (waiting for one to be free); the master for the last of
        ``ATTEMPTS`` tries unless it was tried, whatever it has sent; None when there is none
        left to try."""
        if len(tried) >= ATTEMPTS:
            return None
        while True:
            if len(tried) == ATTEMPTS - 1 and self.master in self.sent and self.master not in tried:
                choice: str | None = self.master
            else:
                choice = self._pick(tried, over_budget=False)
                if choice is None and self.in_flight == 0:
                    # nothing in flight will free a holder: one sends beyond its share
                    choice = self._pick(tried, over_budget=True)
                    if choice is None:
                        return None
            if choice is not None:
                self.sent[choice] += 1
                self.in_flight += 1
                return choice
            self._wake.clear()
            self._wake.wait()

    def done(self, source: str, target: str, ok: bool) -> None:
        """A copy from ``source`` ended; a verified ``target`` becomes a holder."""
        self.in_flight -= 1
        if ok:
            self.sent.setdefault(target, 0)
        else:
            self.failed[source] = self.failed.get(source, 0) + 1
        self._wake.set()


def receive(
    fanout: Fanout, target: str, copy: Callable[[str], tuple[bool, str]]
) -> tuple[str | None, list[str]]:
    """Get ``target`` a verified copy: ``copy(source)`` copies, verifies and renames, returning
    (ok, what went wrong); a failed copy is tried from another holder. Returns the source that
    worked (None if none did) and what each failed try said."""
    tried: list[str] = []
    failures: list[str] = []
    while (source := fanout.source(tried)) is not None:
        tried.append(source)
        ok, said = copy(source)
        fanout.done(source, target, ok)
        if ok:
            return source, failures
        failures.append(f"copy from {source} failed: {said or 'no message'}")
    return None, failures


def copy_command(source: str, master: str, target: str, path: str, part: str, ssh_dir: str) -> str:
    """Shell for the master: copy ``path`` from ``source`` to ``target``:``part``."""
    scp = f"scp -q {SSH_OPTIONS}"
    if source == master:
        return f"{scp} {shlex.quote(path)} {shlex.quote(target)}:{shlex.quote(part)}"
    # On the relay: the target's host key from the master's known_hosts (piped in), the master's
    # agent for the login; the relay keeps neither.
    on_relay = (
        'k=$(mktemp) && cat > "$k" && '
        f'{scp} -o UserKnownHostsFile="$k" {shlex.quote(path)} {shlex.quote(target)}:{shlex.quote(part)}; '
        'rc=$?; rm -f "$k"; exit $rc'
    )
    known = shlex.quote(f"{ssh_dir}/known_hosts")
    return (
        "eval \"$(ssh-agent -s)\" >/dev/null && trap 'ssh-agent -k >/dev/null' EXIT "
        "&& ssh-add -q 2>/dev/null "
        f"&& ssh-keygen -F {shlex.quote(target)} -f {known} | grep -v '^#' "
        f"| ssh -A {SSH_OPTIONS} {shlex.quote(source)} {shlex.quote(on_relay)}"
    )
