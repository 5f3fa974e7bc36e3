"""SSH trust: authorized_keys, the master's key pair and known_hosts, a node's host keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from pyinfra.api import FactBase
from typing_extensions import override

from facts.probe import (
    ABSENT,
    FileState,
    Item,
    PathStat,
    items_command,
    parse_probe,
    parse_stat,
    stat_command,
)

SSH_DIR = "/root/.ssh"
# The identities OpenSSH's client tries by default, in its order.
IDENTITIES = ("id_rsa", "id_ecdsa", "id_ed25519")
KEY_TYPES = re.compile(
    r"^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)$"
)
_TOKEN = re.compile(r'(?:[^\s"]|"(?:\\.|[^"\\])*")+')
# The tarball's chain (runtime/fanout.py): each hop's one-run key ends its authorized line
# with CHAIN_TAG-RUN-HOP, and a node keeps its link to the next at CHAIN_SOCKETS + RUN. Either,
# once no converge runs, is a leftover of a run that was killed.
CHAIN_TAG = "alluxio-chain"
CHAIN_SOCKETS = "/tmp/.alluxio-chain-"
_CHAIN_LINE = re.compile(rf" {CHAIN_TAG}-[0-9a-f]+-\d+$")


def is_chain_key(line: str) -> bool:
    """An authorized_keys line of one of the chain's hop keys."""
    return bool(_CHAIN_LINE.search(line.rstrip("\r\n")))


@dataclass(frozen=True)
class PublicKey:
    """A key as ``type blob``; comments and options do not make two keys differ."""

    type: str
    blob: str

    @property
    def line(self) -> str:
        return f"{self.type} {self.blob}"


def parse_public_key(text: str) -> PublicKey | None:
    """The first ``type blob`` of a line, skipping options before it (quotes respected)."""
    tokens = _TOKEN.findall(text.split("\n", 1)[0])
    for i, token in enumerate(tokens[:-1]):
        if KEY_TYPES.match(token):
            try:
                base64.b64decode(tokens[i + 1], validate=True)
            except binascii.Error:
                return None
            return PublicKey(token, tokens[i + 1])
    return None


@dataclass(frozen=True)
class AuthorizedKeysFile:
    ssh_dir: PathStat
    file: FileState
    keys: tuple[PublicKey, ...]  # every key of every parseable line, in file order


class ChainSockets(FactBase[tuple[str, ...]]):
    """
    Returns the control sockets of the tarball's chain on this node (its links to the next node,
    see ``runtime/fanout.py``), found by the shell's own glob.
    """

    @override
    @staticmethod
    def default() -> tuple[str, ...]:
        return ()

    @override
    def command(self) -> str:
        return f'for s in {CHAIN_SOCKETS}*; do [ -S "$s" ] && echo "socket $s"; done'

    @override
    def process(self, output: Iterable[str]) -> tuple[str, ...]:
        return tuple(line.split(" ", 1)[1] for line in output if line.startswith("socket /"))


class AuthorizedKeys(FactBase[AuthorizedKeysFile]):
    """
    Returns ``~/.ssh`` (type, mode, owner) and ``authorized_keys`` exactly, with its keys.
    Options (``from="..."``, ``command="..."``) and comments are skipped when reading keys.
    """

    @override
    @staticmethod
    def default() -> AuthorizedKeysFile:
        return AuthorizedKeysFile(PathStat("absent"), ABSENT, ())

    def items(self, ssh_dir: str = SSH_DIR) -> list[Item]:
        return [("stat", ssh_dir), ("probe", f"{ssh_dir}/authorized_keys")]

    @override
    def command(self, ssh_dir: str = SSH_DIR) -> str:
        return items_command(self.items(ssh_dir))

    @override
    def process(self, output: Iterable[str]) -> AuthorizedKeysFile:
        lines = [*list(output), "", ""]
        file = parse_probe(lines[1])
        keys = tuple(
            key
            for line in (file.text or "").splitlines()
            if line.strip() and not line.lstrip().startswith("#")
            for key in [parse_public_key(line)]
            if key
        )
        return AuthorizedKeysFile(parse_stat(lines[0]), file, keys)


@dataclass(frozen=True)
class Identity:
    """One default identity of the master: its private key (never its bytes) and public key."""

    name: str  # id_rsa ...
    private: PathStat
    public_file: PublicKey | None  # from NAME.pub
    derived: PublicKey | None  # `ssh-keygen -y` of the private key; None if encrypted/absent

    @property
    def public(self) -> PublicKey | None:
        return self.derived or self.public_file


@dataclass(frozen=True)
class KeyPairs:
    ssh_dir: PathStat
    identities: tuple[Identity, ...]

    @property
    def usable(self) -> Identity | None:
        """The identity ssh would offer first: a private key whose public half is known."""
        return next((i for i in self.identities if i.private.kind == "file" and i.public), None)


class KeyPair(FactBase[KeyPairs]):
    """
    Returns the default identities in ``~/.ssh``: the private key's type, mode and owner, the
    public key in ``NAME.pub`` and the public key derived from the private one on the host
    (``ssh-keygen -y``). The private key's bytes never leave the host.
    """

    @override
    @staticmethod
    def default() -> KeyPairs:
        return KeyPairs(PathStat("absent"), ())

    @override
    def command(self, ssh_dir: str = SSH_DIR) -> str:
        d = shlex.quote(ssh_dir)
        return (
            f"{stat_command(ssh_dir)}; for k in {' '.join(IDENTITIES)}; do p={d}/$k; "
            "if [ -f \"$p\" ]; then s=$(stat -c 'file %a %U %G' \"$p\" | tr ' ' :); "
            "v=$(ssh-keygen -y -P '' -f \"$p\" 2>/dev/null | base64 -w0); else s=absent; v=; fi; "
            'if [ -f "$p.pub" ]; then u=$(head -n 1 "$p.pub" | base64 -w0); else u=; fi; '
            'echo "$k $s ${u:--} ${v:--}"; done'
        )

    @override
    def process(self, output: Iterable[str]) -> KeyPairs:
        lines = list(output)
        identities = []
        for line in lines[1:]:
            words = line.split()
            if len(words) != 4 or words[0] not in IDENTITIES:
                continue
            identities.append(
                Identity(
                    words[0],
                    parse_stat(words[1].replace(":", " ")),
                    _decode_key(words[2]),
                    _decode_key(words[3]),
                )
            )
        return KeyPairs(parse_stat(lines[0] if lines else ""), tuple(identities))


def _decode_key(word: str) -> PublicKey | None:
    if word == "-":
        return None
    try:
        return parse_public_key(base64.b64decode(word, validate=True).decode())
    except (binascii.Error, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class KnownHost:
    """One known_hosts entry. ``patterns`` are plain names/addresses or ``|1|salt|hash``."""

    raw: str
    marker: str | None  # @cert-authority / @revoked
    patterns: tuple[str, ...]
    key: PublicKey | None

    def matches(self, host: str) -> bool:
        """Does this entry name ``host`` (port 22), plainly or hashed?"""
        for pattern in self.patterns:
            negated = pattern.startswith("!")
            if pattern.startswith("|1|"):
                if _hashed_match(pattern, host):
                    return True
            elif pattern.lstrip("!") == host and not negated:
                return True
        return False


def _hashed_match(pattern: str, host: str) -> bool:
    try:
        _, _, salt, digest = pattern.split("|")
        mac = hmac.new(base64.b64decode(salt), host.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(base64.b64encode(mac).decode(), digest)
    except (ValueError, binascii.Error):
        return False


def parse_known_hosts(text: str) -> tuple[KnownHost, ...]:
    entries = []
    for raw in text.splitlines(keepends=True):
        words = raw.split()
        if not words or words[0].startswith("#"):
            continue
        marker = words.pop(0) if words[0].startswith("@") else None
        if not words:
            continue
        entries.append(
            KnownHost(raw, marker, tuple(words[0].split(",")), parse_public_key(" ".join(words[1:])))
        )
    return tuple(entries)


@dataclass(frozen=True)
class KnownHostsFile:
    file: FileState
    entries: tuple[KnownHost, ...]

    def keys_for(self, host: str) -> tuple[PublicKey, ...]:
        """Keys accepted for ``host``: plain entries (not revoked, not CA) naming it."""
        plain, hashed = self._index
        return plain.get(host, ()) + tuple(
            k for patterns, k in hashed if any(_hashed_match(p, host) for p in patterns)
        )

    @cached_property
    def _index(self) -> tuple[dict[str, tuple[PublicKey, ...]], list[tuple[tuple[str, ...], PublicKey]]]:
        """Plain names -> keys, and the hashed entries (one known_hosts of many nodes is read
        for every node's every alias: a scan each time grows with the square of the cluster)."""
        plain: dict[str, tuple[PublicKey, ...]] = {}
        hashed = []
        for e in self.entries:
            if e.key is None or e.marker is not None:
                continue
            names = [p for p in e.patterns if not p.startswith(("!", "|1|"))]
            for name in dict.fromkeys(names):
                plain[name] = (*plain.get(name, ()), e.key)
            if any(p.startswith("|1|") for p in e.patterns):
                hashed.append((tuple(p for p in e.patterns if p.startswith("|1|")), e.key))
        return plain, hashed


class KnownHosts(FactBase[KnownHostsFile]):
    """Returns ``~/.ssh/known_hosts`` exactly, with its entries parsed (hashed ones too)."""

    @override
    @staticmethod
    def default() -> KnownHostsFile:
        return KnownHostsFile(ABSENT, ())

    def items(self, ssh_dir: str = SSH_DIR) -> list[Item]:
        return [("probe", f"{ssh_dir}/known_hosts")]

    @override
    def command(self, ssh_dir: str = SSH_DIR) -> str:
        return items_command(self.items(ssh_dir))

    @override
    def process(self, output: Iterable[str]) -> KnownHostsFile:
        file = parse_probe(next(iter(output), ""))
        return KnownHostsFile(file, parse_known_hosts(file.text or ""))


class HostKeys(FactBase[tuple[PublicKey, ...]]):
    """Returns the host's own public host keys (``/etc/ssh/ssh_host_*_key.pub``)."""

    @override
    @staticmethod
    def default() -> tuple[PublicKey, ...]:
        return ()

    @override
    def command(self) -> str:
        return "cat /etc/ssh/ssh_host_*_key.pub 2>/dev/null || true"

    @override
    def process(self, output: Iterable[str]) -> tuple[PublicKey, ...]:
        keys = (parse_public_key(line) for line in output)
        return tuple(sorted({k for k in keys if k}, key=lambda k: k.type))
