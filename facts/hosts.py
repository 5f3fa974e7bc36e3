"""``/etc/hosts``: the file exactly, and its lines parsed."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache

from pyinfra.api import FactBase
from typing_extensions import override

from facts.probe import ABSENT, FileState, Item, items_command, parse_probe


@dataclass(frozen=True)
class HostsLine:
    """One line, its end of line kept. ``address`` is None for comments and blank lines."""

    raw: str
    address: str | None
    names: tuple[str, ...]


@lru_cache(maxsize=16)  # every node's file lists every node, and converged they are the same
def parse_hosts(text: str) -> tuple[HostsLine, ...]:
    """Split hosts-file text into lines: comments, blank lines, CRLF, tabs, several names on a
    line, IPv6 and duplicates are all kept as they are; only entries get an address."""
    lines = []
    for raw in text.splitlines(keepends=True):
        words = raw.split("#", 1)[0].split()
        if words:
            lines.append(HostsLine(raw, words[0], tuple(words[1:])))
        else:
            lines.append(HostsLine(raw, None, ()))
    return tuple(lines)


@dataclass(frozen=True)
class HostsFile:
    file: FileState
    lines: tuple[HostsLine, ...]

    def resolves(self, name: str) -> str | None:
        """The address ``name`` resolves to here: the first entry naming it, as glibc does."""
        return self._first.get(name)

    @cached_property
    def _first(self) -> dict[str, str]:
        # one pass, not one per name: every node's file lists every node
        first: dict[str, str] = {}
        for line in self.lines:
            for name in line.names:
                if line.address is not None:
                    first.setdefault(name, line.address)
        return first


class EtcHosts(FactBase[HostsFile]):
    """
    Returns ``/etc/hosts`` (or ``path``) exactly, with its lines parsed.

    .. code:: python

        HostsFile(file=FileState("file", "644", "root", "root", b"127.0.0.1 localhost\\n"),
                  lines=(HostsLine("127.0.0.1 localhost\\n", "127.0.0.1", ("localhost",)),))
    """

    @override
    @staticmethod
    def default() -> HostsFile:
        return HostsFile(ABSENT, ())

    def items(self, path: str = "/etc/hosts") -> list[Item]:
        return [("probe", path)]

    @override
    def command(self, path: str = "/etc/hosts") -> str:
        return items_command(self.items(path))

    @override
    def process(self, output: Iterable[str]) -> HostsFile:
        file = parse_probe(next(iter(output), ""))
        return HostsFile(file, parse_hosts(file.text or ""))
