"""A verdict: one resource of one node, desired against actual, with what it decided."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass, field
from typing import Any

from facts.probe import FileState
from layout import (
    ROOT,
)

IN_SYNC, DRIFTED, MISSING_STATUS, UNREACHABLE = "in_sync", "drifted", "missing", "unreachable"


@dataclass(frozen=True)
class FileChange:
    """A managed text file, decided: its whole content written (atomically, refused if the file
    no longer holds ``expected``, what was read), or only its mode and owner set."""

    content: str
    mode: str
    expected: bytes | None  # None: the file was absent
    write: bool  # the content differs
    fix_mode: bool  # the mode or owner differs
    owner: str = "root:root"
    secret: bool = False  # holds credentials: never on a command line, never readable by others


@dataclass(frozen=True)
class Details:
    """What a verdict decided, for the operations and the restart schedule: typed, so that a
    mistyped name fails where it is written instead of reading as None. Each field belongs to
    the resource named in its comment; the others leave it at its default."""

    file: FileChange | None = None  # every text file resource, /etc/hosts
    # ssh_keypair
    identity: str = ""
    generate: bool = False
    fix_key_mode: bool = False
    fix_public: bool = False
    # authorized_keys
    pending: bool = False  # the master's key is made in this run
    fix_dir: bool = False
    close: tuple[str, ...] = ()  # chain sockets a killed run left open
    # known_hosts
    refused_keys: tuple[str, ...] = ()  # changed host keys, not trusted
    # install_dir
    fresh: bool = False  # extracted anew (absent, another release's, or too damaged to restore)
    partial: bool = False  # an interrupted extraction's folder is left over
    restore: tuple[str, ...] = ()  # members missing or damaged
    chown: bool = False
    record: bool = False  # the verified digests are (re)recorded
    # alluxio_site
    shadowed: tuple[str, ...] = ()  # site files the daemons would load instead of conf/'s
    # tier_dirs
    make: tuple[str, ...] = ()  # folders to make
    mark: tuple[tuple[str, str], ...] = ()  # (folder, marker text) to write
    moved: tuple[str, ...] = ()  # folders whose marker is gone or another's: changed under the worker
    unusable: tuple[str, ...] = ()  # why a folder cannot hold its tier (refused)
    # launcher
    unknown_shape: bool = False
    # journal
    format: bool = False
    carry_from: str = ""  # the release folder the journal moves from
    several: tuple[str, ...] = ()  # several release folders hold a journal: refused
    refuse_journal: str = ""  # fault tolerance: why the shared journal folder is not used as it is
    # old_releases
    remove: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    # services
    down: tuple[str, ...] = ()  # "master", "worker": not running as declared, or not live
    retire: bool = False  # a host that is no worker: its worker stops, its RAM folder is unmounted
    retire_master: bool = False  # a host that is no master runs one: it stops (a retired master)
    forget: tuple[str, ...] = ()  # retired workers the master still lists
    unknown_workers: tuple[str, ...] = ()  # listed, not in the inventory
    silent: bool = False  # the worker runs from here, unheard by the master
    master_state: str = ""  # on the master: "master down", "master from <folder>" (for reasons)
    serving: tuple[str, ...] = ()  # fault tolerance, on a master: the masters that serve (lead)
    worker_state: str = ""  # on a worker: "worker down", "worker runs, but ..." (for reasons)

    @property
    def left_alone(self) -> bool:
        """The tool names this drift and does not act on it."""
        named = self.unknown_workers or self.refused_keys or self.several or self.refuse_journal
        return bool(self.unknown_shape or named)


@dataclass(frozen=True)
class Verdict:
    resource: str
    status: str
    desired: str
    actual: str
    diff: str | None = None
    path: str | None = None
    content: str | None = None  # the complete desired content of a text resource
    details: Details = field(default_factory=Details)
    declared: str = ""  # everything the declaration says about this resource (default: desired)

    @property
    def in_sync(self) -> bool:
        return self.status == IN_SYNC

    @property
    def fingerprint(self) -> str:
        """Identifies the declaration: recorded by a converge, compared by the drift report."""
        return digest(f"{self.resource}\0{self.declared or self.desired}")[:16]

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "desired": self.desired,
            "actual": self.actual,
            "diff": self.diff,
        }


def digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def unified(path: str, actual: str | None, desired: str, actual_is: str = "actual") -> str | None:
    if actual == desired:
        return None
    lines = difflib.unified_diff(
        (actual or "").splitlines(keepends=True),
        desired.splitlines(keepends=True),
        fromfile=f"{path} ({actual_is})" if actual is not None else "/dev/null",
        tofile=f"{path} (desired)",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def file_status(file: FileState, content_ok: bool, mode_ok: bool = True) -> str:
    if not file.exists:
        return MISSING_STATUS
    return IN_SYNC if content_ok and mode_ok else DRIFTED


def text_verdict(
    resource: str,
    path: str,
    file: FileState,
    desired: str,
    summary: str,
    mode: str | None = None,
    declared: str | None = None,
    write_mode: str | None = None,
) -> Verdict:
    """A managed text file: exact content, and mode/owner when ``mode`` is given (written with
    ``mode``, or ``write_mode`` when its mode is not checked)."""
    actual = file.text
    mode_ok = mode is None or (file.mode, file.owner, file.group) == (mode, *ROOT)
    status = file_status(file, actual == desired, mode_ok)
    notes = [] if mode_ok or not file.exists else [f"mode {file.mode} {file.owner}:{file.group}"]
    return Verdict(
        resource,
        status,
        desired=summary + (f", mode {mode} root:root" if mode else ""),
        actual=("absent" if not file.exists else "as desired" if actual == desired else "differs")
        + "".join(f", {n}" for n in notes),
        diff=unified(path, actual, desired),
        path=path,
        content=desired,
        details=Details(
            file=FileChange(desired, mode or write_mode or "", file.content, actual != desired, not mode_ok)
        ),
        declared=f"{summary} {mode} " + (declared if declared is not None else digest(desired)),
    )
