"""Reading files one by one or all with one tar gives the facts the same lines."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from facts.probe import items_command, lines_from_tar, tar_command


def test_one_tar_reads_what_the_probes_read(tmp_path: Path) -> None:
    (tmp_path / "crlf").write_bytes(b"a\r\n\tb\nno newline")
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "private").write_text("x\n")
    os.chmod(tmp_path / "private", 0o600)
    (tmp_path / "dir").mkdir(mode=0o700)
    os.chmod(tmp_path / "dir", 0o700)
    (tmp_path / "link").symlink_to(tmp_path / "crlf")
    items = [("probe", str(tmp_path / n)) for n in ("crlf", "empty", "private", "missing", "link", "dir")]
    items += [
        ("stat", str(tmp_path / "dir")),
        ("stat", str(tmp_path / "private")),
        ("stat", str(tmp_path / "nope")),
    ]

    one_by_one = subprocess.run(["sh", "-c", items_command(items)], capture_output=True, text=True).stdout
    archive = subprocess.run(["sh", "-c", tar_command([p for _, p in items])], capture_output=True, text=True)
    from_tar = lines_from_tar(archive.stdout, items)

    assert [line.rstrip() for line in one_by_one.splitlines()] == [line.rstrip() for line in from_tar]
    assert from_tar[3] == "absent" and from_tar[4] == "other" and from_tar[6].startswith("directory 700 ")


def test_an_unreadable_archive_reads_as_absent() -> None:
    assert lines_from_tar("not base64 at all!", [("probe", "/etc/hosts")]) == ["absent"]
