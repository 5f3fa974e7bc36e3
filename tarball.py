"""Reading the release tarball on the operator's machine, once per run: the one place the
declaration touches a file (``cluster.declare`` is given this reader)."""

from __future__ import annotations

import gzip
import hashlib
import tarfile
import zlib
from pathlib import Path

from cluster import InventoryError, Member, Tarball
from layout import LAUNCHER_PATH


def read(path: str, release: str, source: str = "--data") -> Tarball:
    """The release tarball at ``path`` (on the operator's machine), read in one streaming pass:
    its digest, every member's type, mode, size and content digest, its launcher; refused,
    naming ``source``, unless it is a gzip tar of ``release`` with a launcher."""
    where = f"{source} alluxio_tarball={path!r}"
    file = Path(path).expanduser()
    if not file.is_file():
        raise InventoryError(f"{where}: no such file")
    digest = hashlib.sha256()
    with open(file, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    members: list[Member] = []
    tops: set[str] = set()
    launcher = ""
    try:
        # one streaming pass: every member's type, mode, size and content digest
        with tarfile.open(file, "r|gz") as tar:
            for entry in tar:
                top, _, rest = entry.name.rstrip("/").partition("/")
                tops.add(top)
                if not rest:
                    continue
                if rest.startswith("/") or ".." in rest.split("/") or any(c in rest for c in "\n\r\0"):
                    raise InventoryError(f"{where}: unsafe member name {entry.name!r}")
                member_digest = None
                if entry.isfile():
                    # in blocks: a member may be most of the tarball (the jars)
                    reader, hashed = tar.extractfile(entry), hashlib.sha256()
                    assert reader is not None  # a regular file
                    while block := reader.read(1 << 20):
                        hashed.update(block)
                        if rest == LAUNCHER_PATH:
                            launcher += block.decode("utf-8", "surrogateescape")
                    member_digest = hashed.hexdigest()
                members.append(
                    Member(
                        path=rest,
                        kind=_kind(entry),
                        size=entry.size if entry.isfile() else 0,
                        mode=f"{entry.mode & 0o7777:o}",
                        sha256=member_digest,
                    )
                )
    except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError, OSError) as exc:
        raise InventoryError(f"{where}: not a gzip tar archive ({exc})") from None
    if tops != {release}:
        raise InventoryError(
            f"{where}: top directory is {', '.join(sorted(tops)) or 'missing'}, "
            f"not the declared release {release}"
        )
    if not launcher:
        raise InventoryError(f"{where}: has no {release}/{LAUNCHER_PATH}")
    return Tarball(
        local_path=str(file.resolve()),
        sha256=digest.hexdigest(),
        size=file.stat().st_size,
        top=release,
        members=tuple(members),
        launcher=launcher,
    )


def _kind(entry: tarfile.TarInfo) -> str:
    return "d" if entry.isdir() else "l" if entry.issym() else "f"
