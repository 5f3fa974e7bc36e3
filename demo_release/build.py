"""Build the demo release tarball from the files in ``demo_release/alluxio-1.2.0``."""

from __future__ import annotations

import gzip
import io
import random
import tarfile
from pathlib import Path

RELEASE = "alluxio-1.2.0"
TARBALL = "alluxio-1.2.0-cdh5-bin.tar.gz"
SOURCE = Path(__file__).with_name(RELEASE)
JAR = "assembly/target/alluxio-assemblies-1.2.0-jar-with-dependencies.jar"
# Files are owned by the release builder's account, as in a downloaded tarball: that is why
# the post runs `chown -R root:root` after extracting.
BUILDER_UID = 1000
MTIME = 1469059200  # 2016-07-21, Alluxio 1.2.0's release week; fixed so builds are identical
EMPTY_DIRS = ("logs", "journal", "underFSStorage")


def _member(name: str, kind: bytes, mode: int, size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(f"{RELEASE}/{name}" if name else RELEASE)
    info.type, info.mode, info.size, info.mtime = kind, mode, size, MTIME
    info.uid = info.gid = BUILDER_UID
    info.uname = info.gname = "alluxio"
    return info


def build(out_dir: Path, pad_mb: int = 0) -> Path:
    """Write ``out_dir/alluxio-1.2.0-cdh5-bin.tar.gz`` and return its path.

    The output is byte-for-byte reproducible. ``pad_mb`` makes the stand-in jar that many MiB of
    incompressible bytes, so the tarball has a realistic size (the real one is about 150 MB).
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / TARBALL
    jar = random.Random(pad_mb).randbytes(max(pad_mb, 0) * 1024 * 1024 or 64 * 1024)
    tmp = target.with_suffix(".part")
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
    ):
        tar.addfile(_member("", tarfile.DIRTYPE, 0o755))
        files = [p for p in SOURCE.rglob("*") if "__pycache__" not in p.parts]
        dirs = {p.relative_to(SOURCE) for p in files if p.is_dir()}
        dirs |= {Path(d) for d in EMPTY_DIRS} | {Path("assembly"), Path("assembly/target")}
        for d in sorted(dirs):
            tar.addfile(_member(str(d), tarfile.DIRTYPE, 0o755))
        for path in sorted(p for p in files if p.is_file()):
            data = path.read_bytes()
            mode = 0o755 if path.stat().st_mode & 0o100 else 0o644
            info = _member(str(path.relative_to(SOURCE)), tarfile.REGTYPE, mode, len(data))
            tar.addfile(info, io.BytesIO(data))
        tar.addfile(_member(JAR, tarfile.REGTYPE, 0o644, len(jar)), io.BytesIO(jar))
    tmp.replace(target)
    return target
