"""Reading one file exactly: type, mode, owner and its bytes (base64, so CRLF, tabs, a missing
final newline and any byte survive the trip), in one line of output."""

from __future__ import annotations

import base64
import binascii
import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class FileState:
    """What is at a path: ``kind`` is ``file``, ``absent`` or ``other`` (a folder, a link...)."""

    kind: str
    mode: str | None = None  # octal, e.g. "644"
    owner: str | None = None
    group: str | None = None
    content: bytes | None = None

    @property
    def exists(self) -> bool:
        return self.kind == "file"

    @property
    def text(self) -> str | None:
        return None if self.content is None else self.content.decode("utf-8", "surrogateescape")


ABSENT = FileState("absent")


def probe_command(path: str) -> str:
    """Shell printing ``file MODE OWNER GROUP BASE64``, ``other`` or ``absent`` for ``path``."""
    p = shlex.quote(path)
    return (
        f"if [ -f {p} ] && [ ! -L {p} ]; then printf 'file %s ' \"$(stat -c '%a %U %G' {p})\"; "
        f"base64 -w0 {p}; echo; elif [ -e {p} ] || [ -L {p} ]; then echo other; "
        f"else echo absent; fi"
    )


def parse_probe(line: str) -> FileState:
    """Parse one line of :func:`probe_command` output."""
    words = line.strip().split()
    if not words or words[0] == "absent":
        return ABSENT
    if words[0] != "file" or len(words) < 4:
        return FileState("other")
    encoded = words[4] if len(words) > 4 else ""
    try:
        content = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        return FileState("other")
    return FileState("file", mode=words[1], owner=words[2], group=words[3], content=content)


@dataclass(frozen=True)
class PathStat:
    """Type, mode and owner of a path (for folders such as ~/.ssh)."""

    kind: str  # "directory", "file", "other", "absent"
    mode: str | None = None
    owner: str | None = None
    group: str | None = None


def stat_command(path: str) -> str:
    p = shlex.quote(path)
    return (
        f"if [ -L {p} ]; then echo other; elif [ -d {p} ]; then stat -c 'directory %a %U %G' {p}; "
        f"elif [ -f {p} ]; then stat -c 'file %a %U %G' {p}; elif [ -e {p} ]; then echo other; "
        f"else echo absent; fi"
    )


def parse_stat(line: str) -> PathStat:
    words = line.split()
    if len(words) == 4 and words[0] in ("directory", "file"):
        return PathStat(words[0], words[1], words[2], words[3])
    return PathStat(words[0] if words and words[0] == "other" else "absent")
