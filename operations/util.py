"""What every operation needs: the run's context, the verdicts, and safe file writes."""

from __future__ import annotations

import base64
import hashlib
import io
import shlex
from collections.abc import Iterator, Sequence

from pyinfra import host, logger, state
from pyinfra.api import FileUploadCommand, FunctionCommand, Host, OperationError, State, StringCommand
from pyinfra.api.command import PyinfraCommand

from cluster import Cluster
from facts.node import NodeSnapshot
from resources import FileChange, Verdict, resources_of, verdict_of
from runtime.declaration import current
from runtime.run import mark_changed, read, run_of

INLINE_LIMIT = 48 * 1024  # bigger contents go by SFTP: a command line has its limits


def cluster() -> Cluster:
    return current()


def snapshots(names: tuple[str, ...] | None = None) -> dict[str, NodeSnapshot | None]:
    """Snapshots of the named nodes (all managed nodes by default), read once per run."""
    c = current()
    return {n: read(state, state.inventory.get_host(n), c) for n in (names or c.names)}


def verdict(resource: str) -> Verdict:
    """This host's verdict on ``resource``, from this run's snapshots."""
    c = current()
    if resource not in resources_of(c, host.name):
        raise OperationError(f"{resource} is not a resource of {host.name}")
    needed = c.names if resource == "known_hosts" else (host.name, c.master)
    snaps = snapshots(tuple(dict.fromkeys(needed)))
    # The same snapshots give the same verdict: decided once per run, not once per phase.
    run = run_of(state)
    key = ("verdict", host.name, resource, *(run.reads.get(n, 0) for n in snaps))
    memo = run.memo
    if key not in memo:
        memo[key] = verdict_of(c, host.name, resource, snaps)
    v = memo[key]
    if v.status == "unreachable":
        why = run.unreadable.get(host.name, "its state could not be read")
        raise OperationError(f"{host.name}: {why}")
    return v


def only_on_master() -> bool:
    """True on the master; elsewhere record why the operation does nothing there.

    Master-only operations still run on every host (as no-ops) so that pyinfra orders every
    operation the same way on every host: it orders by each host's own sequence."""
    if host.name == current().master:
        return True
    host.noop(f"only on the master ({current().master})")
    return False


def changes(
    commands: Sequence[PyinfraCommand | str], why: Verdict | str | None = None
) -> Iterator[PyinfraCommand | str]:
    """Yield ``commands``; when they are about to run, the host's snapshot is marked stale.

    Deciding (a dry run, or pyinfra's change detection) with ``--diff`` shows why: the
    verdict's actual -> desired, and its unified diff for a text resource."""
    if not state.is_executing:
        if why is not None and state.config.DIFF:
            explain(why)
        yield from commands
        return
    mark_changed(state, host)
    yield from commands
    # Once more after they ran: another host's operation may have read this one meanwhile.
    yield FunctionCommand(_stale_after, (), {})


def _stale_after(state: State, host: Host) -> bool:
    mark_changed(state, host)
    return True


def explain(why: Verdict | str) -> None:
    """Log one line of reason, and the unified diff if there is one, under the host's name."""
    if isinstance(why, str):
        host.log(why, logger.info)
        return
    host.log(f"{why.resource}: {why.status}: {why.actual} -> {why.desired}", logger.info)
    for line in (why.diff or "").splitlines():
        logger.info(f"    {line}")


def refuse(message: str) -> Iterator[str]:
    """Fail this host's operation with ``message`` (the other hosts go on): a command that
    prints it and exits 1. A dry run lists it as pending, with the message under ``--diff``."""
    if not state.is_executing and state.config.DIFF:
        host.log(message, logger.warning)
    yield f"echo {shlex.quote(message)} >&2; exit 1"


def guard(path: str, expected: bytes | None) -> str:
    """Shell that fails unless ``path`` still holds what the snapshot read (or is still absent):
    a file edited since it was read is not overwritten blindly."""
    p = shlex.quote(path)
    message = shlex.quote(f"{path} changed since it was read; not overwritten (run again)")
    if expected is None:
        return f"{{ [ ! -e {p} ] || {{ echo {message} >&2; exit 1; }}; }}"
    digest = hashlib.sha256(expected).hexdigest()
    return (
        f"{{ [ \"$(sha256sum < {p} | cut -d' ' -f1)\" = {digest} ] || {{ echo {message} >&2; exit 1; }}; }}"
    )


def upload(src: str | io.BytesIO | CountedFile, dest: str) -> FileUploadCommand:
    """pyinfra's upload of ``src`` to ``dest``. Through sudo pyinfra uploads to a temporary
    file first (:func:`upload_temp`)."""
    return FileUploadCommand(src, dest, remote_temp_filename=upload_temp(dest))  # type: ignore[arg-type]


def upload_temp(dest: str) -> str:
    """Where an upload through sudo lands before it is copied to ``dest``: named here, in /tmp,
    because pyinfra's own choice (its TmpDir fact) reads sudo's warnings as the folder when they
    come through a pseudo-terminal (requiretty, on a host whose name does not resolve yet)."""
    return f"/tmp/.alluxio-reconcile-{hashlib.sha1(dest.encode()).hexdigest()[:12]}"


class CountedFile:
    """A local file for pyinfra's SFTP upload that counts the bytes handed to the connection:
    the upload's progress, read here. (A read on the node would queue behind the upload's own
    data in the connection's send buffer: megabytes on a slow link.)"""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file: io.BufferedReader | None = None
        self.sent = 0

    def seek(self, offset: int, whence: int = 0) -> int:
        if self.file is None:  # pyinfra seeks to 0 before each attempt
            self.file = open(self.path, "rb")  # noqa: SIM115 (closed at its end, or by close)
        self.sent = self.file.seek(offset, whence)
        return self.sent

    def tell(self) -> int:
        return self.sent

    def read(self, size: int = -1) -> bytes:
        data = b"" if self.file is None else self.file.read(size)
        self.sent += len(data)
        if not data:
            self.close()
        return data

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


def upload_text(path: str, content: str) -> list[PyinfraCommand | str]:
    """Commands putting ``content`` at ``path`` (the tool's own scratch file: no guard, no
    rename), inline when small, by SFTP otherwise."""
    data = content.encode("utf-8", "surrogateescape")
    if len(data) > INLINE_LIMIT:
        return [upload(io.BytesIO(data), path)]
    return [f"printf %s {base64.b64encode(data).decode()} | base64 -d > {shlex.quote(path)}"]


def file_commands(path: str, change: FileChange | None) -> list[PyinfraCommand | str]:
    """The commands a verdict's :class:`FileChange` decided for ``path``: the whole file
    written, or only its mode and owner set."""
    if change is None:
        return []
    if change.write:
        return write_file(path, change.content, change.mode, change.expected, change.owner, change.secret)
    if change.fix_mode:
        p = shlex.quote(path)
        return [f"chmod {change.mode} {p} && chown {change.owner} {p}"]
    return []


def write_file(
    path: str, content: str, mode: str, expected: bytes | None, owner: str = "root:root", secret: bool = False
) -> list[PyinfraCommand | str]:
    """Commands writing ``content`` to ``path`` atomically (temporary file, then rename) with
    ``mode`` and ``owner``, refusing if the file changed since it was read. A ``secret`` goes by
    SFTP (a command line shows in ``ps``), into a file no one else can read from the start."""
    folder, _, name = path.rpartition("/")
    tmp = f"{folder}/.{name}.alluxio-reconcile.tmp"
    data = content.encode("utf-8", "surrogateescape")
    install = (
        f"chmod {mode} {shlex.quote(tmp)} && chown {owner} {shlex.quote(tmp)} && "
        f"mv -f {shlex.quote(tmp)} {shlex.quote(path)}"
    )
    if len(data) > INLINE_LIMIT or secret:
        made = f"rm -f {shlex.quote(tmp)} && (umask 077 && : > {shlex.quote(tmp)})"
        return [
            *([made] if secret else []),
            upload(io.BytesIO(data), tmp),
            StringCommand(f"{guard(path, expected)} && {install}"),
        ]
    encoded = base64.b64encode(data).decode()
    return [f"{guard(path, expected)} && printf %s {encoded} | base64 -d > {shlex.quote(tmp)} && {install}"]
