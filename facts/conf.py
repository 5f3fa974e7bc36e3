"""Alluxio's configuration files on a node: ``conf/workers`` and ``conf/alluxio-env.sh``."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

from alluxio_site import SHADOWING_FOLDERS, SITE_FILE
from facts.probe import ABSENT, FileState, Item, items_command, parse_probe

_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_workers(text: str) -> tuple[str, ...]:
    """Hosts as the launcher reads them: ``#`` comments and blank lines dropped, CRLF/tabs ok."""
    return tuple(w for line in text.splitlines() for w in line.split("#", 1)[0].split())


def parse_env(text: str) -> dict[str, str]:
    """``NAME=value`` assignments of a shell file, values unquoted as the shell would."""
    settings = {}
    for line in text.splitlines():
        match = _ASSIGNMENT.match(line.rstrip("\r"))
        if match:
            try:
                words = shlex.split(match.group(2), comments=True)
            except ValueError:
                words = [match.group(2)]
            settings[match.group(1)] = words[0] if words else ""
    return settings


@dataclass(frozen=True)
class WorkersState:
    file: FileState
    hosts: tuple[str, ...]


class WorkersFile(FactBase[WorkersState]):
    """Returns ``conf/workers`` exactly and the hosts it names."""

    @override
    @staticmethod
    def default() -> WorkersState:
        return WorkersState(ABSENT, ())

    def items(self, install_dir: str) -> list[Item]:
        return [("probe", f"{install_dir}/conf/workers")]

    @override
    def command(self, install_dir: str) -> str:
        return items_command(self.items(install_dir))

    @override
    def process(self, output: Iterable[str]) -> WorkersState:
        file = parse_probe(next(iter(output), ""))
        return WorkersState(file, parse_workers(file.text or ""))


@dataclass(frozen=True)
class EnvState:
    file: FileState
    settings: dict[str, str]


class AlluxioEnv(FactBase[EnvState]):
    """Returns ``conf/alluxio-env.sh`` exactly and the variables it assigns."""

    @override
    @staticmethod
    def default() -> EnvState:
        return EnvState(ABSENT, {})

    def items(self, install_dir: str) -> list[Item]:
        return [("probe", f"{install_dir}/conf/alluxio-env.sh")]

    @override
    def command(self, install_dir: str) -> str:
        return items_command(self.items(install_dir))

    @override
    def process(self, output: Iterable[str]) -> EnvState:
        file = parse_probe(next(iter(output), ""))
        return EnvState(file, parse_env(file.text or ""))


def parse_properties(data: bytes) -> dict[str, str]:
    """Keys and values as ``java.util.Properties.load`` reads a file: ISO 8859-1, ``#``/``!``
    comments, ``=``, ``:`` or blanks between key and value, ``\\`` continuing a line, and the
    escapes ``\\t \\n \\r \\f \\uXXXX``."""
    text = data.decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].lstrip(" \t\f")
        i += 1
        if not line or line[0] in "#!":
            continue
        while _continues(line) and i < len(lines):
            line = line[:-1] + lines[i].lstrip(" \t\f")
            i += 1
        if _continues(line):
            line = line[:-1]
        key, value = _split(line)
        out[_unescape(key)] = _unescape(value)
    return out


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split(line: str) -> tuple[str, str]:
    j, escaped = 0, False
    while j < len(line):
        ch = line[j]
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "=: \t\f":
            break
        j += 1
    key, rest = line[:j], line[j:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):  # one separator, after blanks or not
        rest = rest[1:].lstrip(" \t\f")
    return key, rest


def _unescape(text: str) -> str:
    out, j = [], 0
    while j < len(text):
        ch = text[j]
        if ch == "\\" and j + 1 < len(text):
            nxt = text[j + 1]
            if nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[j + 2 : j + 6]):
                out.append(chr(int(text[j + 2 : j + 6], 16)))
                j += 6
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(nxt, nxt))
            j += 2
            continue
        out.append(ch)
        j += 1
    return "".join(out).encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


@dataclass(frozen=True)
class SiteState:
    file: FileState
    properties: dict[str, str]


class SiteProperties(FactBase[SiteState]):
    """Returns ``conf/alluxio-site.properties`` exactly and the properties it sets."""

    @override
    @staticmethod
    def default() -> SiteState:
        return SiteState(ABSENT, {})

    def items(self, install_dir: str) -> list[Item]:
        return [("probe", f"{install_dir}/conf/alluxio-site.properties")]

    @override
    def command(self, install_dir: str) -> str:
        return items_command(self.items(install_dir))

    @override
    def process(self, output: Iterable[str]) -> SiteState:
        file = parse_probe(next(iter(output), ""))
        return SiteState(file, parse_properties(file.content or b""))


class ShadowingSiteFiles(FactBase[tuple[str, ...]]):
    """Returns the ``alluxio-site.properties`` files 1.x would load instead of ``conf/``'s: the
    one in ``/etc/alluxio/`` (``~/.alluxio/`` is not searched: ``alluxio_site``'s docstring)."""

    @override
    @staticmethod
    def default() -> tuple[str, ...]:
        return ()

    @override
    def command(self, folders: tuple[str, ...] = SHADOWING_FOLDERS) -> str:
        files = " ".join(shlex.quote(f"{folder}/{SITE_FILE}") for folder in folders)
        return f'for f in {files}; do if [ -f "$f" ]; then echo "$f"; fi; done'

    @override
    def process(self, output: Iterable[str]) -> tuple[str, ...]:
        return tuple(line.strip() for line in output if line.strip().endswith("/alluxio-site.properties"))
