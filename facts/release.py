"""The release on a node: the tarball, the extracted folder, its launcher and its journal."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field

from pyinfra.api import FactBase
from typing_extensions import override

from facts.probe import ABSENT, FileState, Item, items_command, parse_probe
from layout import FORMAT_PREFIX, MARKER, MISSING, launcher_shape
from scripts import program


def sidecar(tarball: str) -> str:
    """Where the verified checksum of ``tarball`` is recorded (``sha256 size mtime``)."""
    folder, _, name = tarball.rpartition("/")
    return f"{folder}/.{name}.sha256"


def partial(install_dir: str) -> str:
    """The folder an extraction is built in before it is renamed into place."""
    folder, _, name = install_dir.rpartition("/")
    return f"{folder}/.{name}.partial"


def unpacked(install_dir: str, sha256: str) -> str:
    """Where a node keeps the release it unpacked from the tarball ``sha256`` as it streamed,
    once its copy verified (inside the extraction's folder, so a left-over is found as one)."""
    return f"{partial(install_dir)}/unpacked-{sha256}"


@dataclass(frozen=True)
class TarballState:
    present: bool
    sha256: str | None = None
    size: int | None = None
    recorded: bool = False  # checksum from the record of an earlier verification


class TarballFile(FactBase[TarballState]):
    """
    Returns the tarball's sha256 and size. The checksum recorded when the tarball was last
    verified is trusted while the file's size and mtime are unchanged; otherwise it is computed.
    """

    @override
    @staticmethod
    def default() -> TarballState:
        return TarballState(False)

    @override
    def command(self, path: str) -> str:
        t, s = shlex.quote(path), shlex.quote(sidecar(path))
        return (
            f"if [ -f {t} ]; then set -- $(stat -c '%s %Y' {t}); r=; {{ read -r r < {s}; }} 2>/dev/null; "
            'case "$r" in *" $1 $2") echo "$r recorded";; '
            f'*) echo "$(sha256sum {t} | cut -d" " -f1) $1 $2 computed";; esac; '
            "else echo absent; fi"
        )

    @override
    def process(self, output: Iterable[str]) -> TarballState:
        words = next(iter(output), "").split()
        if len(words) != 4 or not re.fullmatch(r"[0-9a-f]{64}", words[0]):
            return TarballState(False)
        return TarballState(True, words[0], int(words[1]), words[3] == "recorded")


# What the daemons write at run time: not part of the release, never walked.
RUNTIME_PRUNED = ("journal", "underFSStorage")  # folders whose contents are the cluster's data
RUNTIME_FILES = ("logs/*.log", "logs/*.out")  # the daemons' logs and task.log


@dataclass(frozen=True)
class Entry:
    kind: str  # find's %y: f, d, l, ...
    owner: str
    group: str
    mode: str  # octal, e.g. "755"
    size: int


@dataclass(frozen=True)
class InstallState:
    present: bool
    marker: str | None = None  # "sha256 release" of the completed extraction
    entries: dict[str, Entry] | None = None  # relative path -> entry (run-time files left out)
    partial: bool = False  # an interrupted extraction's folder is lying around
    # Files hashed in this reading (path -> sha256): those not in the verified record, or
    # changed in size or ctime since it was written. Every other recorded file still holds the
    # content that was verified against the tarball.
    digests: dict[str, str] = field(default_factory=dict)
    recorded: int = 0  # files in the record


_CHANGED_SINCE_RECORD = program(__file__, "changed_since_record.awk")  # what it does: said there


class InstallDir(FactBase[InstallState]):
    """
    Returns the extracted release: whether it exists, its completion marker, every entry's type,
    owner, mode and size (the daemons' run-time files left out: the journal's and the local
    under storage's contents, ``logs/*.log``, ``logs/*.out``), the sha256 of every file changed
    since the verified record (or missing from it), and whether an interrupted extraction left
    its folder. The completion marker holds ``sha256 release`` on its first line, then one line
    per verified file: ``sha256 size ctime path`` (ctime as find's %C@: it changes with every
    write).
    """

    @override
    @staticmethod
    def default() -> InstallState:
        return InstallState(False)

    @override
    def command(self, install_dir: str) -> str:
        d, p = shlex.quote(install_dir), shlex.quote(partial(install_dir))
        pruned = " -o ".join(f"-path {d}/{name}/'*'" for name in RUNTIME_PRUNED)
        skipped = " -o ".join(f"-path {d}/{shlex.quote(pattern)}" for pattern in RUNTIME_FILES)
        listing = (
            f"find {d} -mindepth 1 \\( {pruned} \\) -prune -o \\( {skipped} \\) "
            "-o -printf '%y %u %g %m %s %C@ %P\\n'"
        )
        return (
            f"[ -e {p} ] && echo partial; "
            f"if [ -d {d} ]; then echo present; "
            # two processes when nothing changed: find lists, awk reads the record and compares
            f"{listing} | D={d} awk -v rec={d}/{MARKER} -v marker={MARKER} "
            f"{shlex.quote(_CHANGED_SINCE_RECORD)}; "
            "else echo absent; fi"
        )

    @override
    def process(self, output: Iterable[str]) -> InstallState:
        present, is_partial = False, False
        marker: str | None = None
        recorded = 0
        entries: dict[str, Entry] = {}
        digests: dict[str, str] = {}
        for line in output:
            if line == "partial":
                is_partial = True
            elif line == "present":
                present = True
            elif line.startswith("marker "):
                marker = line[len("marker ") :].strip()
            elif line.startswith("recorded ") and line[len("recorded ") :].strip().isdigit():
                recorded = int(line[len("recorded ") :])
            elif line.startswith("entry "):
                words = line.split(" ", 7)
                if len(words) == 8 and words[5].isdigit():
                    entries[words[7]] = Entry(words[1], words[2], words[3], words[4], int(words[5]))
            elif line.startswith("sum "):
                digest, _, path = line[len("sum ") :].partition("  ")
                if re.fullmatch(r"[0-9a-f]{64}", digest) and path:
                    digests[path] = digest
        if not present:
            return InstallState(False, partial=is_partial)
        return InstallState(True, marker, entries, is_partial, digests, recorded)


@dataclass(frozen=True)
class LauncherState:
    file: FileState
    shape: str


class Launcher(FactBase[LauncherState]):
    """Returns ``bin/alluxio-workers.sh`` exactly and its shape: unpatched (``ssh -t``), patched
    (``ssh -tt``), unknown (neither, or both) or missing."""

    @override
    @staticmethod
    def default() -> LauncherState:
        return LauncherState(ABSENT, MISSING)

    def items(self, install_dir: str) -> list[Item]:
        return [("probe", f"{install_dir}/bin/alluxio-workers.sh")]

    @override
    def command(self, install_dir: str) -> str:
        return items_command(self.items(install_dir))

    @override
    def process(self, output: Iterable[str]) -> LauncherState:
        file = parse_probe(next(iter(output), ""))
        return LauncherState(file, launcher_shape(file.text))


@dataclass(frozen=True)
class ReleasesState:
    """The release folders beside the declared one, and which hold a journal."""

    folders: dict[str, float]  # release folder name -> when its extraction completed (0: never)
    journals: tuple[str, ...]  # folders holding a formatted journal (its FORMAT_PREFIX marker)


class Releases(FactBase[ReleasesState]):
    """
    Returns every ``alluxio-*`` release folder in ``install_root`` (with the time its
    extraction completed), and those that hold a formatted journal.
    """

    @override
    @staticmethod
    def default() -> ReleasesState:
        return ReleasesState({}, ())

    @override
    def command(self, install_root: str = "/opt") -> str:
        r = shlex.quote(install_root)
        return (
            # the shell's globs and expansions, a process only for a completed folder's time
            f'for d in {r}/alluxio-*/; do [ -d "$d" ] || continue; n=${{d%/}}; n=${{n##*/}}; w=0; '
            f'[ -f "$d{MARKER}" ] && w=$(stat -c %Y "$d{MARKER}" 2>/dev/null); echo "folder ${{w:-0}} $n"; '
            f'for j in "$d"journal/{FORMAT_PREFIX}*; do [ -e "$j" ] && echo "journal $n"; break; done; done'
        )

    @override
    def process(self, output: Iterable[str]) -> ReleasesState:
        folders: dict[str, float] = {}
        journals: list[str] = []
        for line in output:
            kind, _, rest = line.partition(" ")
            if kind == "folder":
                when, _, name = rest.partition(" ")
                folders[name] = float(when) if when.isdigit() else 0.0
            elif kind == "journal":
                journals.append(rest)
        return ReleasesState(folders, tuple(journals))
