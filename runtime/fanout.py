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
master last; a holder whose copies failed twice sends no more. A copy from a holder is a chain
of one hop. No node but the master ever holds a credential that opens a shell anywhere: see
"Trust, while the chain runs" below.
"""

from __future__ import annotations

import base64
import re
import secrets
import shlex
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from gevent.event import Event

from facts.ssh import CHAIN_SOCKETS, CHAIN_TAG
from scripts import program

FANOUT = 2  # copies one node sends in all: no link carries the tarball more than twice
# The slowest link a copy is waited for (8 Mbit/s): a copy or stream slower than that, or one that
# stalls, is cut and the holders deliver. Plus a minute for the logins and the checks, and a
# moment per hop.
MIN_RATE = 1 << 20
DEADLINE_SLACK = 60
HOP_SECONDS = 2
ATTEMPTS = 3  # sources tried for one node before its copy fails
SSH_OPTIONS = (
    "-o BatchMode=yes -o StrictHostKeyChecking=yes -o ConnectTimeout=10 "
    # a copy that stalls (a link gone quiet) fails within a minute and is tried elsewhere
    "-o ServerAliveInterval=15 -o ServerAliveCountMax=4"
)


# Shell: K holds the option that puts the classical curve25519 key exchange first, where the
# client can say so (OpenSSH 8.1+'s "^"; older ones keep their default). OpenSSH 9's default, the
# post-quantum sntrup761 hybrid, costs about three times the CPU per login (measured: 200 ms
# against 69 ms of both ends' CPU), and the fan-out logs in once or twice per node; what these
# sessions carry is a public release, checked by its sha256 at the other end.
_KEX = "-o KexAlgorithms=^curve25519-sha256"
PREFER_CURVE25519 = f'K=; ssh -G {_KEX} x < /dev/null > /dev/null 2>&1 && K="{_KEX}"'

# Shell: $sha hashes files or stdin as sha256sum does (the digest first): with OpenSSL where the
# node has it, which uses the CPU's SHA instructions (measured: 0.17 s against 0.96 s of CPU for
# the 128 MiB release), with coreutils otherwise.
PICK_SHA256 = 'sha=sha256sum; command -v openssl > /dev/null 2>&1 && sha="openssl dgst -sha256 -r"'


# Shell: $ut follows a file as it grows while a process lives (GNU tail's --pid), or the
# command fails. It polls five times a second where it can ("---disable-inotify", GNU tail's
# own switch since coreutils 7.5) rather than wake at every write: a stream arriving in small
# writes costs what reads it half as much again with inotify (measured at 8 MB/s in 16 KiB
# writes: 1.04 s against 1.50 s of CPU to unpack the 128 MiB release, 0.89 s from a whole
# file), and from 7.5 to 8.23 tail's inotify code stopped following a file renamed while
# followed (coreutils' own test of it says so): CentOS 7 has 8.22.
PICK_TAIL = (
    "{ ut='tail ---disable-inotify'; $ut --pid=$$ -c 0 /dev/null; } 2> /dev/null || "
    "{ ut=tail; tail --pid=$$ -c 0 /dev/null 2> /dev/null; }"
)


@dataclass(frozen=True)
class Unpacking:
    """The nodes that extract the release afresh unpack the tarball from their own copy as it
    arrives (GNU ``tail`` following the file), into a hidden folder that is kept, renamed to
    ``stage``, only once their copy's hash and size proved it the declared tarball; otherwise
    it is removed. So the extraction overlaps the stream and nothing unverified is used.

    No more than ``bound`` bytes of tar, the declared tar's own size, are unpacked of any
    stream, so an unverified one cannot fill a disk by decompressing; and GNU tar keeps every
    member inside the folder (it refuses ``..`` and absolute names, and makes a link only at the
    end; tried with GNU tar 1.34)."""

    nodes: frozenset[str]
    stage: str
    bound: int

    @property
    def _parent(self) -> str:
        return shlex.quote(self.stage.rpartition("/")[0] or "/")

    def start(self) -> str:
        """Shell: start unpacking ``$part`` while process ``$w`` writes it; sets ``u`` (the
        folder) and ``x`` (the unpacking's process) when it started, and ``ut`` (the master's
        chain shell has a ``t`` of its own: its keys' type)."""
        stage, parent = shlex.quote(self.stage), self._parent
        return (
            f"if {PICK_TAIL}; then mkdir -p {parent} && u=$(mktemp -d {stage}.XXXXXX) && "
            f'{{ {{ $ut -c +1 -s 0.2 -f --pid=$w "$part" | gzip -dc | head -c {self.bound} '
            f'| tar -xf - -C "$u"; }} < /dev/null > /dev/null 2>&1 & x=$!; }}; fi'
        )

    def end(self) -> str:
        """Shell, once the copy is checked (``kept`` set if it verified): keep what was unpacked
        if the copy verified and the unpacking succeeded, else remove it (and its parent, if
        that is left empty)."""
        stage, parent = shlex.quote(self.stage), self._parent
        return (
            f'if [ -n "$x" ] && wait $x && [ -n "$kept" ]; then rm -rf {stage} && mv "$u" {stage} && u=; fi; '
            f'if [ -n "$u" ]; then rm -rf "$u"; rmdir {parent} 2> /dev/null; fi; u='
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


def deadline(size: int, hops: int = 1) -> int:
    """Seconds a copy of ``size`` bytes along ``hops`` may take before it is cut (and the
    holders deliver): at :data:`MIN_RATE`, plus the logins. A link slower than that is not
    waited for; a stream that stalls (a node that stops reading) is cut at the same time."""
    return int(DEADLINE_SLACK + size / MIN_RATE + HOP_SECONDS * hops)


def copy_command(path: str, target: str, part: str, size: int) -> str:
    """Shell for the master: copy its ``path`` to ``target``:``part`` with its own key (a copy
    from another holder goes along a chain of one hop, see RELAY), cut at its deadline."""
    to = f"{shlex.quote(target)}:{shlex.quote(part)}"
    limit = deadline(size)
    return (
        f"{PREFER_CURVE25519}; timeout {limit} scp -q $K {SSH_OPTIONS} {shlex.quote(path)} {to}; rc=$?; "
        f'[ $rc -ne 124 ] || echo "the copy took longer than {limit} s (slower than {MIN_RATE >> 20} MiB/s)" '
        ">&2; "
        "exit $rc"
    )


# ----- the chain --------------------------------------------------------------------------------
# Trust, while the chain runs: the master's root logs in to the nodes with its own key, as the
# post's trust allows. A node never logs in with the master's key or agent: each hop (from node
# J-1 to node J; node 0 is the source) has a key pair of its own, made on the master for this
# run, authorized on node J only from node J-1's address, for one forced command (RELAY as node
# J, its settings fixed by the master), with no pty, no forwarding of ports, agents or X11. Node
# J-1 gets the private key on stdin, logs in once ("link") and keeps that connection as an
# OpenSSH control socket; the key file is removed at once, and node J's forced command removes
# the key's line from its authorized_keys on that first use. So while the tarball streams no
# chain key is authorized anywhere, and each node can do one thing only: hand a stream to its
# successor's receive step, which checks the stream's sha256 before anything uses it.
#
# The relay itself is shell: runtime/relay.sh (what it does, step by step, is said there).
RELAY = program(__file__, "relay.sh")
LINKS_AT_ONCE = 16  # hops the master links at the same time
# Where the hop key may be used from, and for what alone (no "restrict": OpenSSH 7.2+).
HOP_OPTIONS = "no-pty,no-port-forwarding,no-agent-forwarding,no-X11-forwarding"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def chain_settings(
    source: str,
    targets: list[str],
    part: str,
    install: str,
    ssh_dir: str,
    path: str,
    run: str,
    unpacking: Unpacking | None = None,
) -> str:
    """The chain's settings (RELAY's CFG, shell): its nodes (H0 the source), where each writes,
    how each verifies and installs, which unpack as it arrives and how, how each logs in
    onwards, how it hashes, this run's names."""
    unpackers = unpacking.nodes if unpacking else frozenset()
    return "\n".join(
        [
            f"N={len(targets)}",
            *(f"H{i}={shlex.quote(t)}" for i, t in enumerate([source, *targets])),
            f"PART={shlex.quote(part)}",
            f"INSTALL={shlex.quote(install)}",
            f"X='{' '.join(str(i) for i, t in enumerate(targets, 1) if t in unpackers)}'",
            f"UNPACK={shlex.quote(unpacking.start() if unpacking else '')}",
            f"UNPACKED={shlex.quote(unpacking.end() if unpacking else '')}",
            f"SSH_OPTIONS={shlex.quote(SSH_OPTIONS)}",
            PREFER_CURVE25519,
            f"SOCK={CHAIN_SOCKETS}{run}",  # one run's links, nobody else's
            f"TAG={CHAIN_TAG}-{run}",
            f"AK={shlex.quote(ssh_dir + '/authorized_keys')}",
            f"SRC={shlex.quote(path)}",
            PICK_SHA256,
        ]
    )


_PLAIN = re.compile(r"^[A-Za-z0-9._-]+$")  # names and addresses the master's shell lists unquoted


def chain_command(
    source: str,
    targets: list[str],
    addresses: dict[str, str],
    path: str,
    part: str,
    install: str,
    ssh_dir: str,
    master: str,
    size: int,
    upload: bool = False,
    unpacking: Unpacking | None = None,
) -> str:
    """Shell for the master: stream ``path`` (``size`` bytes) from ``source`` (the master, or a
    node that holds it) along ``targets`` (see RELAY). First every hop's key is made here and
    authorized on its node, usable only from its predecessor's address in ``addresses``; then
    every hop is linked (``LINKS_AT_ONCE`` at a time); then the stream runs, cut at its
    :func:`deadline`. However the command ends, a hop key still authorized (its hop never
    linked) is removed and a link that never streamed is closed. Each node writes a file of its
    own beside ``part``, hashing it as it arrives, and then runs ``install``, which finds that
    file in ``$part`` and its hash in ``$got``, and must fail unless they are the declared
    tarball's; the nodes in ``unpacking`` unpack it meanwhile (see :class:`Unpacking`).

    ``upload``: the tarball is not on the master yet but arrives on this command's stdin (the
    operator's upload, the chain's first hop; see :func:`_upload_stream`)."""
    nodes = [source, *targets]
    for word in [*nodes, *(addresses[n] for n in nodes[:-1])]:
        if not _PLAIN.match(word):
            raise ValueError(f"not a host name or address: {word!r}")
    run = secrets.token_hex(8)
    cfg = _b64(chain_settings(source, targets, part, install, ssh_dir, path, run, unpacking))
    known = shlex.quote(f"{ssh_dir}/known_hosts")
    ak = shlex.quote(f"{ssh_dir}/authorized_keys")
    first = 1 if source != master else 2  # the master reaches node 1 with its own key
    # hop J: NUMBER:FROM:TO:FROM'S ADDRESS
    hops = " ".join(
        f"{j}:{nodes[j - 1]}:{nodes[j]}:{addresses[nodes[j - 1]]}" for j in range(first, len(nodes))
    )
    each_hop = (
        "for hop in $hops; do j=${hop%%:*}; r=${hop#*:}; p=${r%%:*}; r=${r#*:}; h=${r%%:*}; a=${r#*:}; "
    )
    relay = '"sh -c \\"\\$(echo $R | base64 -d)\\" relay $C'
    ssh = f"ssh $K {SSH_OPTIONS}"
    remove = f"\"sed -i '/ {CHAIN_TAG}-{run}-$j\\$/d' {ak}\""  # $j: this hop's, on the master
    close = f"ssh -o ControlPath={CHAIN_SOCKETS}{run} -O exit next"
    append = f'[ -z "$(tail -c1 {ak})" ] || echo >> {ak}; cat >> {ak}'
    # the authorized line's forced command, as sshd reads it (a quote inside is \")
    forced = "$Q\\$(echo $R | base64 -d)$Q"  # Q is a backslash and a quote
    line = f'"from=\\"$a\\",command=\\"sh -c {forced} relay $C $j\\",{HOP_OPTIONS} $(cat "$e/k$j.pub")"'
    start = (
        f"{PREFER_CURVE25519}; e=$(mktemp -d) || exit 1; R={_b64(RELAY)}; C={cfg}; hops='{hops}'; Q='\\\"'; "
        f'kh() {{ ssh-keygen -F "$1" -f {known} | grep -v "^#" | base64 -w0; }}; '
        # ed25519 where the master's OpenSSH has it (6.5+: its nodes' are alike), RSA otherwise
        "t=rsa; ssh -Q key 2>/dev/null | grep -qx ssh-ed25519 && t=ed25519; "
        # however it ends: a hop that never linked has its key removed where it is authorized; a
        # node that linked but never streamed (the chain broke before it) has its link closed
        f'cleanup() {{ b=; {each_hop}if [ ! -s "$e/l$j" ]; then {ssh} "$h" {remove}; '
        'elif ! grep -Eq "^(ok|bad|sent) $p( |$)" "$e/out" 2>/dev/null; then '
        f'{ssh} "$p" {shlex.quote(close)}; fi < /dev/null > /dev/null 2>&1 & b="$b $!"; done; waitfor $b; '
        'rm -rf "$e"; }; '
        # waits for the jobs named, never for all: an upload may be arriving meanwhile
        'waitfor() { [ $# -eq 0 ] || wait "$@"; }; '
    )
    # (uploaded: the master's own partial copy goes too, unless it was installed, and so does
    # what it unpacked, unless that was kept)
    own_copy = 'rm -f "$mp"; [ -z "$u" ] || rm -rf "$u"'
    start += f"trap 'cleanup; {own_copy}' EXIT; " if upload else "trap cleanup EXIT; "
    authorize = (
        f'b=; {each_hop}{{ ssh-keygen -q -t $t -N "" -C "{CHAIN_TAG}-{run}-$j" -f "$e/k$j" < /dev/null '
        f'&& printf \'%s\\n\' {line} | {ssh} "$h" {shlex.quote(append)} > /dev/null 2>&1; }} & b="$b $!"; '
        "done; waitfor $b; "
    )
    link = (
        f'i=0; b=; {each_hop}{{ {ssh} "$p" {relay} $((j - 1)) link $(kh "$h")" < "$e/k$j" > "$e/a$j" 2>&1; '
        'grep "^linked" "$e/a$j" > "$e/l$j"; } & b="$b $!"; '
        f"i=$((i + 1)); [ $((i % {LINKS_AT_ONCE})) -ne 0 ] || {{ waitfor $b; b=; }}; done; waitfor $b; "
        # why a hop did not link, before anything the stream says about it
        f'{each_hop}[ -s "$e/l$j" ] || echo "lost $h $(grep -v "^linked" "$e/a$j" | sed "s/^lost $h //" '
        "| tr '\\n' ' ' | cut -c1-300)\"; done; "
    )
    limit = deadline(size, len(targets))
    if upload:
        own = unpacking if unpacking and source in unpacking.nodes else None  # the master unpacks
        receive, stream = _upload_stream(source, targets, path, part, install, ssh, relay, limit, own)
        hops_first = authorize + link if targets else ""
        return start + receive + hops_first + stream + ' > "$e/out"; cat "$e/out"'
    if source == master:
        stream = f'timeout {limit} {ssh} {targets[0]} {relay} 1 stream" < {shlex.quote(path)} 2> "$e/x"'
    else:
        stream = f'timeout {limit} {ssh} {source} {relay} 0 send" < /dev/null 2> "$e/x"'
    # cut at its deadline, the chain says so; a stalled node's onward link is closed by cleanup
    stream = (
        f'{{ {stream}; rc=$?; [ $rc -ne 124 ] || echo "lost {targets[0]} the stream took longer than '
        f'{limit} s (slower than {MIN_RATE >> 20} MiB/s, or stalled)"; '
        f"[ $rc -eq 0 ] || [ $rc -eq 124 ] || "
        f"echo \"lost {targets[0]} $(tr '\\n' ' ' < \"$e/x\" | cut -c1-300)\"; }}"
    )
    return start + authorize + link + stream + ' > "$e/out"; cat "$e/out"'


def _upload_stream(
    master: str,
    targets: list[str],
    path: str,
    part: str,
    install: str,
    ssh: str,
    relay: str,
    limit: int,
    unpacking: Unpacking | None,
) -> tuple[str, str]:
    """Shell for the master when the tarball arrives on stdin: (what starts receiving it, first
    thing, so that the upload goes on while the hops are linked; what streams it on and
    installs the master's own copy).

    The master writes what arrives to a file of its own beside ``part``, hashing it as it
    arrives (and unpacking it, if ``unpacking``); node 1 is sent that file as it grows (``tail
    --pid``), so a node downstream that stalls never stalls the upload: the master's copy
    completes and is verified (``install``) whatever the chain does, and the onward stream is
    cut ``limit`` seconds after the upload ended. Where ``tail`` cannot follow a writer (not
    GNU's), the verified ``path`` goes on once it is complete."""
    folder = shlex.quote(part.rpartition("/")[0] or "/")
    receive = (
        f"exec 3<&0 < /dev/null; mkdir -p {folder} && mp=$(mktemp {shlex.quote(part)}.XXXXXX) || exit 1; "
        # $c: the hasher, which ends once tee has written the whole copy
        f'{PICK_SHA256}; tee "$mp" <&3 2> "$e/t" | $sha > "$e/sum" & c=$!; exec 3<&-; '
        f"part=$mp; w=$c; x=; u=; {unpacking.start() + '; ' if unpacking else ''}"
    )
    own = (
        f'wait $c; got=$(cut -c1-64 < "$e/sum"); kept=; if ({install}) 2> "$e/i"; then kept=1; '
        f'r="ok {master}"; else rm -f "$mp"; '
        f'r="bad {master} $(cat "$e/i" "$e/t" | tr \'\\n\' \' \' | cut -c1-300)"; fi; '
        f'{unpacking.end() + "; " if unpacking else ""}echo "$r"; '
    )
    if not targets:
        return receive, f"{{ {own}}}"
    onward = f'timeout 86400 {ssh} {targets[0]} {relay} 1 stream" 2> "$e/x"'
    stream = (
        f'{{ if {PICK_TAIL}; then $ut -c +1 -s 0.2 -f --pid=$c "$mp" '
        f"| {onward} & o=$!; {own}"
        f"else {own}{onward} < {shlex.quote(path)} & o=$!; fi; "
        # the onward stream has its deadline's time once the upload ended (a kill: status 143)
        f"(sleep {limit}; kill $o) > /dev/null 2>&1 & w=$!; wait $o; rc=$?; kill $w 2> /dev/null; "
        f'[ $rc -ne 143 ] || echo "lost {targets[0]} the stream took longer than {limit} s after the '
        f'upload ended (slower than {MIN_RATE >> 20} MiB/s, or stalled)"; '
        f"[ $rc -eq 0 ] || [ $rc -eq 143 ] || "
        f"echo \"lost {targets[0]} $(tr '\\n' ' ' < \"$e/x\" | cut -c1-300)\"; }}"
    )
    return receive, stream


def chain_outcomes(source: str, targets: list[str], lines: list[str]) -> dict[str, tuple[bool, str]]:
    """Each target's outcome, from the lines the chain sent back: (verified, what went wrong)."""
    said: dict[str, tuple[bool, str]] = {}
    lost: dict[str, str] = {}
    for line in lines:
        word, _, rest = line.strip().partition(" ")
        name, _, why = rest.partition(" ")
        if word in ("ok", "bad") and name in targets:
            said[name] = (word == "ok", why.strip())
        elif word == "lost" and name in targets:  # the first reason given: why a hop did not link
            lost.setdefault(name, why.strip() or "no message")
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

    def run(self, run: Callable[[list[str]], list[str]]) -> None:
        """Run the chain unless it ran: ``run(targets)`` runs it and returns the lines it sent
        back."""
        if not self.started:
            self.started = True
            try:
                self.outcomes = chain_outcomes(self.source, self.targets, run(self.targets))
            except Exception as error:  # a lost connection to the master, say: every node falls back
                self.outcomes = {t: (False, f"the chain failed: {error}") for t in self.targets}
            finally:
                self._done.set()

    def outcome(self, target: str, run: Callable[[list[str]], list[str]]) -> tuple[bool, str]:
        """(verified, what went wrong) for ``target``, the chain run first unless it ran."""
        self.run(run)
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
