"""The tarball read once per content: a reading kept while the file is unchanged, read again
after any write (its ctime moves, even when size and mtime are put back)."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

import tarball
from cluster import InventoryError
from demo_release import build


def test_an_unchanged_tarball_is_not_read_again_and_any_write_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = build(tmp_path / "release")
    first = tarball.read(str(path), "alluxio-1.2.0")
    assert list((tmp_path / "cache" / "alluxio-reconcile" / "tarballs").glob("*.json"))
    opened: list[object] = []
    real_open = tarfile.open

    def counted(*args: object, **kwargs: object) -> tarfile.TarFile:
        opened.append(args)
        return real_open(*args, **kwargs)  # type: ignore[call-overload]

    with monkeypatch.context() as m:
        m.setattr(tarfile, "open", counted)
        assert tarball.read(str(path), "alluxio-1.2.0") == first and opened == []  # the kept reading
        # the same bytes written again, size and mtime put back: its ctime moved, it is read again
        st = path.stat()
        path.write_bytes(path.read_bytes())
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
        assert tarball.read(str(path), "alluxio-1.2.0") == first and len(opened) == 1
    # other content in its place: another digest
    other = build(tmp_path / "other", pad_mb=1)
    os.replace(other, path)
    assert tarball.read(str(path), "alluxio-1.2.0").sha256 != first.sha256
    # another release declared for the same file is checked, not taken from the cache
    with pytest.raises(InventoryError, match=r"not the declared release alluxio-1\.3\.0"):
        tarball.read(str(path), "alluxio-1.3.0")


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    path = build(tmp_path / "release")
    assert tarball.read(str(path), "alluxio-1.2.0").sha256 == tarball.read(str(path), "alluxio-1.2.0").sha256
