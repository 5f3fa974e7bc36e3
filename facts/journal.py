"""The journal folder fault-tolerant masters share: there or not, its format markers, and
whatever else is in it (a journal some master has written)."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

from layout import FORMAT_PREFIX


@dataclass(frozen=True)
class JournalFolder:
    path: str  # "" when not read
    kind: str  # "dir", "missing" or "other" (a file or something else in the way)
    markers: tuple[str, ...] = ()  # the format markers (_format_<epoch-ms>) in it
    others: tuple[str, ...] = ()  # every other entry

    @property
    def formatted(self) -> bool:
        return bool(self.markers)


class SharedJournal(FactBase[JournalFolder]):
    """
    Returns a :class:`JournalFolder` for ``folder`` (none read when it is "").
    """

    @override
    @staticmethod
    def default() -> JournalFolder:
        return JournalFolder("", "missing")

    @override
    def command(self, folder: str = "") -> str:
        if not folder:
            return "true"
        f = shlex.quote(folder)
        return (
            f"if [ -d {f} ]; then echo 'journal dir {folder}'; ls -A1 {f}; "
            f"elif [ -e {f} ] || [ -L {f} ]; then echo 'journal other {folder}'; "
            f"else echo 'journal missing {folder}'; fi"
        )

    @override
    def process(self, output: Iterable[str]) -> JournalFolder:
        lines = [line for line in output if line]
        if not lines or not lines[0].startswith("journal "):
            return self.default()
        _, kind, path = lines[0].split(" ", 2)
        entries = lines[1:]
        markers = tuple(e for e in entries if e.startswith(FORMAT_PREFIX))
        return JournalFolder(path, kind, markers, tuple(e for e in entries if e not in markers))
