"""How the tarball spreads from the master to the other nodes: along a chain, each node passing
it on while it receives it; a tree of verified holders for whatever the chain did not deliver.

The post copies the tarball from the master to every worker in turn, so the master's one link
carries it N-1 times and the copy takes N-1 times as long as one. Here it leaves the master
once, to the first node of a chain: every node writes what arrives to its ``.chain`` file,
hashes it as it arrives and streams it on to the next node at the same time (``tee``), so every
link carries it once and the whole chain takes about as long as one copy, whatever N (its hops
are linked all at once before the stream starts, so that it does not wait for one login after
another: see RELAY). Each node
checks its own copy (sha256 of what it received, and its size) before it renames it into place;
a node's bytes flow on before its copy is verified, but nothing is used anywhere until that
node's own copy is verified.

A node that the chain did not deliver to (a hop that could not log in onwards, a copy that did
not verify, a node that went away) gets a verified copy from a holder instead: the master, the
nodes the chain delivered to, the nodes that had it; each holder sends at most ``FANOUT`` copies
in all (its forward along the chain counts), a failed copy is tried from another holder, the
master last; a holder whose copies failed twice sends no more. Both go over the cluster's own
trust: the master's root logs in to a node with its agent forwarded (``ssh -A``; the private key
stays on the master), and that node logs in onwards, checking the next node's host key against
the master's ``known_hosts`` entry for it.
"""

from __future__ import annotations

import base64
import secrets
import shlex
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from gevent.event import Event

FANOUT = 2  # copies one node sends in all: no link carries the tarball more than twice
ATTEMPTS = 3  # sources tried for one node before its copy fails
SSH_OPTIONS = (
    "-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 "
    # a copy that stalls (a link gone quiet) fails within a minute and is tried elsewhere
    "-o ServerAliveInterval=15 -o ServerAliveCountMax=4"
)


# Shell: K holds the option that puts the classical curve25519 key exchange first, where the
# client can say so (OpenSSH 8.2+'s "^"; older ones keep their default). OpenSSH 9's default, the
# post-quantum sntrup761 hybrid, costs about three times the CPU per login (measured: 200 ms
# against 69 ms of both ends' CPU), and the fan-out logs in once or twice per node; what these
# sessions carry is a public release, checked by its sha256 at the other end.
_KEX = "-o KexAlgorithms=^curve25519-sha256"
PREFER_CURVE25519 = f'K=; ssh -G {_KEX} x > /dev/null 2>&1 && K="{_KEX}"'

# Shell: $h hashes files or stdin as sha256sum does (the digest first): with OpenSSL where the
# node has it, which uses the CPU's SHA instructions (measured: 0.17 s against 0.96 s of CPU for
# the 128 MiB release), with coreutils otherwise.
PICK_SHA256 = 'h=sha256sum; command -v openssl > /dev/null 2>&1 && h="openssl dgst -sha256 -r"'

# The master's key loaded into an agent of its own, for this command only: relays log in onwards
# through it (ssh -A) and never see the key.
_WITH_AGENT = (
    "eval \"$(ssh-agent -s)\" >/dev/null && trap 'ssh-agent -k >/dev/null' EXIT && ssh-add -q 2>/dev/null"
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

    def add_holder(self, name: str, sent: int = 0) -> None:
        """``name`` holds a verified copy; ``sent``: copies it has sent already (along the chain)."""
        self.sent[name] = max(self.sent.get(name, 0), sent)
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
    scp = f"scp -q $K {SSH_OPTIONS}"
    if source == master:
        return f"{PREFER_CURVE25519}; {scp} {shlex.quote(path)} {shlex.quote(target)}:{shlex.quote(part)}"
    # On the relay: the target's host key from the master's known_hosts (piped in), the master's
    # agent for the login; the relay keeps neither.
    on_relay = (
        f'{PREFER_CURVE25519}; k=$(mktemp) && cat > "$k" && '
        f'{scp} -o UserKnownHostsFile="$k" {shlex.quote(path)} {shlex.quote(target)}:{shlex.quote(part)}; '
        'rc=$?; rm -f "$k"; exit $rc'
    )
    known = shlex.quote(f"{ssh_dir}/known_hosts")
    return (
        f"{PREFER_CURVE25519}; {_WITH_AGENT} "
        f"&& ssh-keygen -F {shlex.quote(target)} -f {known} | grep -v '^#' "
        f"| ssh -A $K {SSH_OPTIONS} {shlex.quote(source)} {shlex.quote(on_relay)}"
    )


# ----- the chain --------------------------------------------------------------------------------
# Run on node I of the chain as ``sh -c "$(echo R | base64 -d)" relay R CFG KH I [link]``. R is
# this script, CFG the chain's settings (N, H1..HN, PART, INSTALL, SSH_OPTIONS, K, SOCK, h), KH
# the known_hosts lines of the chain's nodes (all base64, so no quoting on the way).
# With "link": log in to node I+1 once, through the master's forwarded agent, and keep that
# connection open at SOCK, so that the chain's hop from here starts at once (the master links
# every hop at the same time, before the stream starts, instead of one login after another).
# Without: the tarball on stdin is written to PART while it is hashed (through a fifo) and
# streamed on to node I+1 (over the link if there is one); then INSTALL (with $got, the stream's
# sha256) verifies and renames. One line per node goes back up the chain: "ok NAME", "bad NAME
# why", or "lost NEXT why" when NEXT was not reached.
RELAY = r"""R=$1 CFG=$2 KH=$3 I=$4
eval "$(echo "$CFG" | base64 -d)"
eval "ME=\$H$I"
J=$((I + 1)); eval "NEXT=\${H$J:-}"
T=$(mktemp -d) || { echo "bad $ME no temporary folder"; exit 1; }
trap 'rm -rf "$T"' EXIT
echo "$KH" | base64 -d > "$T/k"
if [ "${5:-}" = link ]; then
  ssh -A $K $SSH_OPTIONS -o UserKnownHostsFile="$T/k" -o ControlMaster=yes -o ControlPath="$SOCK" \
    -o ControlPersist=300 -fN "$NEXT" < /dev/null > /dev/null 2>&1
  exit
fi
if ! mkdir -p "${PART%/*}" || ! mkfifo "$T/f"; then echo "bad $ME cannot write ${PART%/*}"; exit 1; fi
$h < "$T/f" > "$T/s" &
if [ -n "$NEXT" ]; then
  ONWARD="sh -c \"\$(echo $R | base64 -d)\" relay $R $CFG $KH $J"
  { tee -p "$T/f" "$PART" || : > "$T/w"; } |
    ssh -A $K $SSH_OPTIONS -o UserKnownHostsFile="$T/k" -o ControlPath="$SOCK" "$NEXT" "$ONWARD" 2> "$T/e" ||
    echo "lost $NEXT $(tr '\n' ' ' < "$T/e" | cut -c1-300)"
  ssh -o ControlPath="$SOCK" -O exit "$NEXT" > /dev/null 2>&1
else
  tee "$T/f" > "$PART" || : > "$T/w"
fi
wait
got=$(cut -d' ' -f1 < "$T/s")
if [ -e "$T/w" ]; then echo "bad $ME could not write $PART"; rm -f "$PART"
elif (eval "$INSTALL") 2> "$T/i"; then echo "ok $ME"
else echo "bad $ME $(tr '\n' ' ' < "$T/i" | cut -c1-300)"; fi
"""
LINKS_AT_ONCE = 16  # hops the master links at the same time


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def chain_settings(targets: list[str], part: str, install: str) -> str:
    """The chain's settings (RELAY's CFG, shell): its nodes, where each writes, how each
    verifies and installs, how it logs in onwards, how it hashes."""
    return "\n".join(
        [
            f"N={len(targets)}",
            *(f"H{i}={shlex.quote(t)}" for i, t in enumerate(targets, 1)),
            f"PART={shlex.quote(part)}",
            f"INSTALL={shlex.quote(install)}",
            f"SSH_OPTIONS={shlex.quote(SSH_OPTIONS)}",
            PREFER_CURVE25519,
            f"SOCK=/tmp/.alluxio-chain-{secrets.token_hex(8)}",  # one run's links, nobody else's
            PICK_SHA256,
        ]
    )


def chain_command(targets: list[str], path: str, part: str, install: str, ssh_dir: str) -> str:
    """Shell for the master: link every hop of the chain through ``targets`` (``LINKS_AT_ONCE``
    at a time), then stream ``path`` along it (see RELAY); each node writes ``part`` and then
    runs ``install``, which finds the sha256 of what it received in ``$got`` and must fail
    unless the copy is good."""
    known = shlex.quote(f"{ssh_dir}/known_hosts")
    names = " ".join(shlex.quote(t) for t in targets)
    relay = '"sh -c \\"\\$(echo $R | base64 -d)\\" relay $R $C'
    return (
        f"{PREFER_CURVE25519}; {_WITH_AGENT} && e=$(mktemp) && R={_b64(RELAY)} "
        f"&& C={_b64(chain_settings(targets, part, install))} "
        # the known_hosts lines of the named nodes, base64
        f'&& kh() {{ for t in "$@"; do ssh-keygen -F "$t" -f {known} | grep -v "^#"; done | base64 -w0; }} '
        "|| exit 1; "
        # every hop linked first, a link told only its next node's host key
        f'i=0; p=; for h in {names}; do if [ -n "$p" ]; then i=$((i + 1)); '
        f'ssh -A $K {SSH_OPTIONS} "$p" {relay} $(kh "$h") $i link" < /dev/null > /dev/null 2>&1 & '
        f"[ $((i % {LINKS_AT_ONCE})) -ne 0 ] || wait; fi; p=$h; done; wait; "
        f"first={shlex.quote(targets[0])}; "
        f'{{ ssh -A $K {SSH_OPTIONS} "$first" {relay} $(kh {names}) 1" < {shlex.quote(path)} 2> "$e" '
        '|| echo "lost $first $(tr "\\n" " " < "$e" | cut -c1-300)"; }; '
        'rm -f "$e"'
    )


def chain_outcomes(source: str, targets: list[str], lines: list[str]) -> dict[str, tuple[bool, str]]:
    """Each target's outcome, from the lines the chain sent back: (verified, what went wrong)."""
    said: dict[str, tuple[bool, str]] = {}
    lost: dict[str, str] = {}
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        name, _, why = rest.partition(" ")
        if word in ("ok", "bad") and name in targets:
            said[name] = (word == "ok", why.strip())
        elif word == "lost" and name in targets:
            lost[name] = why.strip() or "no message"
    outcomes: dict[str, tuple[bool, str]] = {}
    before, cause = source, "the chain ended before it"
    for target in targets:
        if target in lost:
            cause = f"{before} could not pass it on to {target}: {lost[target]}"
        outcomes[target] = said.get(target) or (False, cause)
        before = target
    return outcomes


@dataclass
class Chain:
    """This run's chain: the first of its targets' greenlets to ask runs it for all, the others
    wait for the outcome."""

    source: str
    targets: list[str]
    outcomes: dict[str, tuple[bool, str]] = field(default_factory=dict)
    started: bool = False
    _done: Event = field(default_factory=Event)

    def outcome(self, target: str, run: Callable[[list[str]], list[str]]) -> tuple[bool, str]:
        """(verified, what went wrong) for ``target``; ``run(targets)`` runs the chain and
        returns the lines it sent back."""
        if not self.started:
            self.started = True
            try:
                self.outcomes = chain_outcomes(self.source, self.targets, run(self.targets))
            except Exception as error:  # a lost connection to the master, say: every node falls back
                self.outcomes = {t: (False, f"the chain failed: {error}") for t in self.targets}
            finally:
                self._done.set()
        self._done.wait()
        return self.outcomes.get(target, (False, "the chain did not run"))

    def before(self, target: str) -> str:
        """Who sent ``target`` its copy along the chain."""
        i = self.targets.index(target)
        return self.targets[i - 1] if i else self.source

    def sent(self) -> dict[str, int]:
        """Copies each verified node (and the source) sent along the chain: one, to the next."""
        if not self.targets:
            return {}
        holders = [self.source, *(t for t in self.targets if self.outcomes.get(t, (False,))[0])]
        return {h: int(h != self.targets[-1]) for h in holders}
