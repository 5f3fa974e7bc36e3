"""A worker's disk tier folders: there or not, writable, the file system they are on (its id,
size and free space), the bytes of its worker's blocks there, and the marker the last
converge left in each."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

from tiers import MARKER


@dataclass(frozen=True)
class TierDir:
    path: str
    kind: str  # "dir", "missing" or "other" (a file or something else in the way)
    writable: bool  # the folder, or the nearest folder above a missing one
    fs_id: str  # the device of the file system holding it (stat %d)
    size: int  # that file system's bytes, and those free to use
    free: int
    marker: str  # the marker's first line, "" if none
    used: int = 0  # the bytes of the worker's blocks in it (files of its data folder named by an id)

    @property
    def marked(self) -> str:
        return self.marker.strip()


class TierDirs(FactBase[tuple[TierDir, ...]]):
    """
    Returns a :class:`TierDir` for each folder of ``dirs``: a missing one is described by the
    nearest folder above it (where it would be made).
    """

    @override
    @staticmethod
    def default() -> tuple[TierDir, ...]:
        return ()

    @override
    def command(self, dirs: Sequence[str] = (), data_folder: str = "alluxioworker") -> str:
        if not dirs:
            return "true"
        data = data_folder.strip("/")
        if not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", data):
            raise ValueError(f"not a data folder name: {data_folder!r}")  # the model refuses such
        # The blocks 1.x adopts: the files of the data folder named by a block id (what else is
        # there it deletes). The device (st_dev) tells file systems apart: stat -f's id is 0
        # for tmpfs and NFS on CentOS 6 and 7 kernels.
        blocks = (
            f'if [ -d "$d/{data}" ]; then for s in $(find "$d/{data}" -maxdepth 1 -type f '
            "-regextype posix-extended -regex '.*/-?[0-9]+' -printf '%s\\n' 2>/dev/null); "
            "do u=$((u + s)); done; fi; "
        )
        return (
            f"for d in {' '.join(shlex.quote(d) for d in dirs)}; do "
            'if [ -d "$d" ]; then k=dir; elif [ -e "$d" ] || [ -L "$d" ]; then k=other; else k=missing; fi; '
            'a=$d; while [ ! -d "$a" ]; do a=${a%/*}; a=${a:-/}; done; '
            'w=0; if [ -w "$a" ]; then w=1; fi; m=; u=0; '
            f'if [ -f "$d/{MARKER}" ]; then read -r m < "$d/{MARKER}" || true; fi; '
            f"{blocks}"
            'printf \'tier %s %s %s %s %s\\t%s\\t%s\\n\' "$k" "$w" "$(stat -c %d "$a" 2>/dev/null)" '
            '"$(stat -f -c \'%b %S %a\' "$a" 2>/dev/null)" "$u" "$d" "$m"; done'
        )

    @override
    def process(self, output: Iterable[str]) -> tuple[TierDir, ...]:
        found = []
        for line in output:
            fields = line.rstrip("\n").split("\t")
            words = fields[0].split()
            if len(fields) != 3 or len(words) != 8 or words[0] != "tier":
                continue
            _, kind, writable, fs_id, blocks, block_size, available, used = words
            try:
                size, free = int(blocks) * int(block_size), int(available) * int(block_size)
            except ValueError:
                size = free = 0
            blocks_bytes = int(used) if used.isdigit() else 0
            found.append(
                TierDir(fields[1], kind, writable == "1", fs_id, size, free, fields[2], blocks_bytes)
            )
        return tuple(found)
