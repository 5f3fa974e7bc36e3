"""Reading the release tarball on the operator's machine, once per run and once per content:
the one place the declaration touches a file (``cluster.declare`` is given this reader).

A tarball already read is not read again while it is unchanged: its reading is kept in
``$XDG_CACHE_HOME/alluxio-reconcile/tarballs/`` (``~/.cache`` by default), keyed by the file's
device, inode, size, modification time and status-change time (ctime). Any write to the file,
a rename over it or a ``touch -r`` that restores its mtime changes its ctime, which no user can
set back; so a reading is reused only for the very same bytes. Were it wrong (a file system
whose times do not change on writes), the nodes would be compared with the old digest: a
tarball the nodes do not have is still sent and verified against it, and fails verification
rather than pass; removing the folder forces a fresh read."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tarfile
import tempfile
import zlib
from pathlib import Path

from pydantic import ValidationError

from cluster import InventoryError, Member, Tarball
from layout import LAUNCHER_PATH

CACHE_FORMAT = 2  # the kept readings' layout: another one is not used


def read(path: str, release: str, source: str = "--data") -> Tarball:
    """The release tarball at ``path`` (on the operator's machine): its reading kept from an
    earlier run while the file is unchanged (see the module's docstring), otherwise read."""
    where = f"{source} alluxio_tarball={path!r}"
    file = Path(path).expanduser()
    if not file.is_file():
        raise InventoryError(f"{where}: no such file")
    kept, key = _kept(file), _key(file, release)
    if kept is not None:
        try:
            entry = json.loads(kept.read_text())
            if entry.get("key") == key:
                return Tarball.model_validate(entry["tarball"])
        except (OSError, ValueError, KeyError, TypeError, ValidationError):
            pass  # unreadable or another format: read the tarball
    tarball = _read(file, release, where)
    if kept is not None and _key(file, release) == key:  # unchanged while it was read
        _keep(kept, {"key": key, "tarball": tarball.model_dump(mode="json")})
    return tarball


def _key(file: Path, release: str) -> list[object]:
    st = file.stat()
    where = [CACHE_FORMAT, str(file.resolve()), release, st.st_dev, st.st_ino]
    return [*where, st.st_size, st.st_mtime_ns, st.st_ctime_ns]


def _kept(file: Path) -> Path | None:
    """Where the reading of ``file`` is kept (None: no cache folder can be had)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):
        return None
    name = hashlib.sha256(str(file.resolve()).encode()).hexdigest()[:32]
    return Path(base) / "alluxio-reconcile" / "tarballs" / f"{name}.json"


def _keep(kept: Path, entry: dict[str, object]) -> None:
    """Write the reading atomically; a cache that cannot be written is no cache, not an error."""
    try:
        kept.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=kept.parent, delete=False, suffix=".part") as out:
            json.dump(entry, out)
        os.replace(out.name, kept)
    except OSError:
        pass


def _read(file: Path, release: str, where: str) -> Tarball:
    """The tarball read in one streaming pass: its digest, every member's type, mode, size and
    content digest, its launcher; refused, naming where it was declared, unless it is a gzip
    tar of ``release`` with a launcher."""
    digest = hashlib.sha256()
    with open(file, "rb") as raw:
        for block in iter(lambda: raw.read(1 << 20), b""):
            digest.update(block)
    members: list[Member] = []
    tops: set[str] = set()
    launcher = ""
    try:
        # one streaming pass: every member's type, mode, size and content digest, and the size
        # of the tar inside the gzip (what the nodes may unpack of a stream, see runtime/fanout.py)
        with gzip.open(file) as unzipped, tarfile.open(fileobj=unzipped, mode="r|") as tar:
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
            while unzipped.read(1 << 20):  # the end-of-archive blocks and the padding
                pass
            tar_size = unzipped.tell()
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
        tar_size=tar_size,
        top=release,
        members=tuple(members),
        launcher=launcher,
    )


def _kind(entry: tarfile.TarInfo) -> str:
    return "d" if entry.isdir() else "l" if entry.issym() else "f"
