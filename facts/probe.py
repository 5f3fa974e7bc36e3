"""Reading one file exactly: type, mode, owner and its bytes (base64, so CRLF, tabs, a missing
final newline and any byte survive the trip), in one line of output."""

from __future__ import annotations

import base64
import binascii
import io
import shlex
import tarfile
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


# ----- many files in one go ---------------------------------------------------------------------
# A fact that reads files says which, as (kind, path) items: "probe" (type, mode, owner and
# content) or "stat" (type, mode, owner). Its own command reads them one by one; NodeState reads
# the items of all such facts with one tar and hands each fact the lines its command would have
# printed, so the facts' parsing is the same either way.
Item = tuple[str, str]


def items_command(items: list[Item]) -> str:
    return "; ".join(probe_command(path) if kind == "probe" else stat_command(path) for kind, path in items)


def tar_command(paths: list[str]) -> str:
    """Shell printing one base64 line: a tar of ``paths`` (folders without their contents).
    Missing paths are left out of the archive."""
    quoted = " ".join(shlex.quote(p) for p in dict.fromkeys(paths))
    return f"tar -c -b 1 -f - -P --no-recursion {quoted} 2>/dev/null | base64 -w0; echo"


Members = dict[str, tuple[tarfile.TarInfo, bytes]]


def tar_members(encoded: str) -> Members:
    """:func:`tar_command`'s output, unpacked: path -> (its header, its content)."""
    members: Members = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(encoded.strip() or b"")), mode="r:") as tar:
            for member in tar:
                data = tar.extractfile(member).read() if member.isfile() else b""  # type: ignore[union-attr]
                members["/" + member.name.strip("/")] = (member, data)
    except (tarfile.TarError, binascii.Error):
        pass
    return members


def lines_from_tar(encoded: str | Members, items: list[Item]) -> list[str]:
    """The lines ``items_command(items)`` would print, from :func:`tar_command`'s output (or
    its :func:`tar_members`, unpacked once for all the facts that read files)."""
    members = tar_members(encoded) if isinstance(encoded, str) else encoded
    lines = []
    for kind, path in items:
        found = members.get("/" + path.strip("/"))
        if found is None:
            lines.append("absent")
            continue
        member, data = found
        meta = f"{member.mode & 0o7777:o} {member.uname or member.uid} {member.gname or member.gid}"
        if member.isfile():
            content = f" {base64.b64encode(data).decode()}" if kind == "probe" else ""
            lines.append(f"file {meta}{content}")
        elif member.isdir() and kind == "stat":
            lines.append(f"directory {meta}")
        else:
            lines.append("other")
    return lines
