"""Alluxio's configuration files on a node: ``conf/workers`` and ``conf/alluxio-env.sh``."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

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
