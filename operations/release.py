"""The release on every node: the post's step 4 (tarball, extraction, owner) and step 7 (the
launcher patch)."""

from __future__ import annotations

import fcntl
import functools
import shlex
import struct
import termios
from collections.abc import Iterator

from pyinfra import host, logger, state
from pyinfra.api import FunctionCommand, Host, State, operation
from pyinfra.api.command import PyinfraCommand

from cluster import Cluster
from facts.release import partial, sidecar, unpacked
from facts.ssh import SSH_DIR
from layout import CARRIED_OVER, MANAGED_FILES, MARKER
from operations.util import (
    CountedFile,
    changes,
    cluster,
    file_commands,
    only_on_master,
    upload,
    upload_text,
    verdict,
)
from resources import Verdict
from runtime import privilege, progress, schedule
from runtime.fanout import (
    PICK_SHA256,
    Chain,
    Fanout,
    Unpacking,
    chain_command,
    chain_outcomes,
    copy_command,
    receive,
)
from runtime.run import run_of
from scripts import program


def _part(c: Cluster) -> str:
    folder, _, name = c.remote_tarball.rpartition("/")
    return f"{folder}/.{name}.part"


def _chain_part(c: Cluster) -> str:
    """Where the chain writes (not ``_part``: a copy from a holder never meets a chain's)."""
    folder, _, name = c.remote_tarball.rpartition("/")
    return f"{folder}/.{name}.chain"


def _install_tarball(c: Cluster, chain: bool = False) -> str:
    """Shell on the node: verify the received copy and rename it into place, recording the
    verified checksum with the file's size and mtime. The copy is the ``.part`` file, hashed
    here; or, along the chain, ``$part``: a file of its own beside the ``.chain`` name, so that
    no other session writing there can change what was verified, whose bytes were hashed as
    they arrived (``$got``) and whose size must be theirs. What the other way, or an
    interrupted run, left half written goes too."""
    final, record = shlex.quote(c.remote_tarball), shlex.quote(sidecar(c.remote_tarball))
    q = '"$part"' if chain else shlex.quote(_part(c))
    chain_part = shlex.quote(_chain_part(c))
    want = f"{c.tarball.sha256} {c.tarball.size}"
    got = f'"$got $(stat -c %s {q})"' if chain else f'"$($sha {q} | cut -d" " -f1) $(stat -c %s {q})"'
    return (
        f'{PICK_SHA256}; got={got}; if [ "$got" != "{want}" ]; then '
        f'echo "tarball corrupted in transfer (sha256 and size: $got), removed" >&2; rm -f {q}; exit 1; fi; '
        f"chmod 644 {q} && mv -f {q} {final} && "
        f"echo \"{c.tarball.sha256} $(stat -c '%s %Y' {final})\" > {record} && "
        f"rm -f {shlex.quote(_part(c))} {chain_part} {chain_part}.*"
    )


@operation()
def tarball_uploaded():
    """
    Put the release tarball on this node (the master) from the operator's machine.

    Behaviour:
        Sent only when the node has no tarball or one with another sha256. The upload is the
        first hop of the chain that takes it to every node that needs it (see
        runtime/fanout.py): the master passes it on as it arrives, so it crosses the cluster's
        links once, in about the time of one copy. Every node, the master included, verifies
        its own copy against the local tarball's sha256 before renaming it into place, so an
        interrupted upload never passes for a tarball. Where sudo needs a pseudo-terminal
        (requiretty), it goes by SFTP to a ``.part`` file first and then along the chain.

    **Example:**

    .. code:: python

        release.tarball_uploaded(name="Tarball on the master")
    """
    if not only_on_master():
        return
    c = cluster()
    v = verdict("tarball")  # (the master's first read also finds whether its sudo needs a terminal)
    if v.in_sync:
        host.noop(f"{c.remote_tarball} already has {v.desired}")
        return
    if privilege.can_feed(state, host):
        yield from changes([FunctionCommand(_upload_along_the_chain, (c,), {})], why=v)
        return
    # sudo needs a pseudo-terminal here, which would mangle a stream: the tarball goes by SFTP,
    # and along the chain from the master once it is there
    if not progress.enabled():
        yield from _deliver(c, v, upload(c.tarball.local_path, _part(c)))
        return
    counted = CountedFile(c.tarball.local_path)  # at a terminal: how much is sent, for progress
    yield from _deliver(c, v, upload(counted, _part(c)), FunctionCommand(_watch_upload, (c, counted), {}))


STALL_SECONDS = 60  # an upload the master accepts nothing of for this long is cut


def _upload_along_the_chain(state: State, host: Host, c: Cluster) -> bool:
    """Stream the tarball from here into the master, which keeps its own copy and passes it
    on along this run's chain (runtime/fanout.py); the chain's outcome for every node is kept
    for its own step. True when the master's copy verified."""
    chain = _chain(state, c)
    counted = CountedFile(c.tarball.local_path)
    counted.seek(0)
    command = _chain_command(c, c.master, chain.targets, upload=True)
    lines: list[str] = []
    failed: list[str] = []

    def sizes() -> dict[str, int | None]:
        return {host.name: max(0, counted.sent - _unsent(host)), **_chain_sizes(state, c, chain.targets)}

    def run(targets: list[str]) -> list[str]:
        what = f"tarball from here to {host.name}" + (f" and along {len(targets)} nodes" if targets else "")
        try:
            with progress.Stream(what, c.tarball.size, sizes):
                _, output = privilege.run_fed(state, host, command, counted, STALL_SECONDS)
        except Exception as error:  # the nodes are told by the chain; the master's step says why
            failed.append(f"the upload failed: {type(error).__name__}: {error}")
            raise
        lines.extend([*output.stdout_lines, *output.stderr_lines])
        return lines

    try:
        chain.run(run)
    finally:
        counted.close()
    ok, said = chain_outcomes("here", [host.name], lines)[host.name]
    if not ok:
        logger.error(f"{host.print_prefix}the tarball did not arrive whole: {failed[0] if failed else said}")
    return ok


def _deliver(
    c: Cluster, v: Verdict, send: PyinfraCommand, watch: FunctionCommand | None = None
) -> Iterator[PyinfraCommand | str]:
    """``send`` the tarball to the ``.part`` file (``v``: the node's verdict), verify, rename;
    ``watch``ed meanwhile (progress)."""
    if watch is None:
        yield from changes([_prepare(c), send, _install_tarball(c)], why=v)
        return
    unwatch = FunctionCommand(_unwatch_upload, (), {})
    yield from changes([_prepare(c), watch, send, unwatch, _install_tarball(c)], why=v)


def _watch_upload(state: State, host: Host, c: Cluster, counted: CountedFile) -> bool:
    """Progress of the upload from here (at a terminal only): the bytes handed to SSH so far,
    less those the connection has not yet delivered."""
    stream = progress.Stream(
        f"tarball from here to {host.name}",
        c.tarball.size,
        lambda: {host.name: max(0, counted.sent - _unsent(host))},
        over=lambda: host in state.failed_hosts or not host.connected,
    )
    run_of(state).memo[("upload progress", host.name)] = stream.__enter__()
    return True


def _unsent(host: Host) -> int:
    """Bytes in the send queue of ``host``'s SSH connection here (Linux's SIOCOUTQ): handed to
    it, not yet acknowledged by the node (megabytes on a slow link). 0 when its transport is
    no plain socket (a proxy command)."""
    try:
        sock = host.connector.client.get_transport().sock  # type: ignore[attr-defined]
        return int(struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0" * 4))[0])
    except (AttributeError, OSError, ValueError):
        return 0


def _unwatch_upload(state: State, host: Host) -> bool:
    stream = run_of(state).memo.pop(("upload progress", host.name), None)
    if stream is not None:
        stream.__exit__()
    return True


def _prepare(c: Cluster) -> str:
    folder = shlex.quote(c.remote_tarball.rpartition("/")[0] or "/")
    return f"mkdir -p {folder} && rm -f {shlex.quote(_part(c))}"


def _chain(state: State, c: Cluster) -> Chain:
    """This run's chain from the master through the nodes that need the tarball (the plan's,
    decided before anything changed) and are still in the run; none if the master has no
    verified tarball."""
    memo = run_of(state).memo
    if "chain" not in memo:
        master = state.inventory.get_host(c.master)
        targets = [
            name
            for name in schedule.schedule().tarball_chain
            if (h := state.inventory.get_host(name)) in state.active_hosts and state.is_host_in_limit(h)
        ]
        memo["chain"] = Chain(c.master, [] if master in state.failed_hosts else targets)
    return memo["chain"]


def _fanout(state: State, c: Cluster) -> Fanout:
    """This run's holders of the tarball, once the chain has ended: the master (unless its
    upload failed), the nodes the chain delivered to, and the nodes that had it already."""
    memo = run_of(state).memo
    if "fanout" not in memo:
        master = state.inventory.get_host(c.master)
        fanout = Fanout(c.master)
        for name, sent in _chain(state, c).sent().items():
            fanout.add_holder(name, sent)
        for name in memo.get("tarball_holders", ()):
            fanout.add_holder(name)
        if master in state.failed_hosts:  # its copy failed (the chain's source all the same)
            fanout.sent.pop(c.master)
        memo["fanout"] = fanout
    return memo["fanout"]


def _run_chain(state: State, c: Cluster, source: str, targets: list[str]) -> list[str]:
    """Stream the tarball from ``source`` along ``targets`` (see runtime/fanout.py); the
    lines the chain sent back."""
    command = _chain_command(c, source, targets)
    sizes = functools.partial(_chain_sizes, state, c, targets)
    with progress.Stream(f"tarball from {source} along {len(targets)} nodes", c.tarball.size, sizes):
        _, output = privilege.run(state, state.inventory.get_host(c.master), command)
    return [*output.stdout_lines, *output.stderr_lines]


def _chain_command(c: Cluster, source: str, targets: list[str], upload: bool = False) -> str:
    """The master's shell for this cluster's chain from ``source`` along ``targets``."""
    addresses = {n.name: n.address for n in c.nodes}
    install = _install_tarball(c, chain=True)
    unpacking = Unpacking(schedule.schedule().extract_afresh, _unpacked(c), c.tarball.tar_size)
    return chain_command(
        source, targets, addresses, c.remote_tarball, _chain_part(c), install, SSH_DIR, c.master,
        c.tarball.size, upload=upload, unpacking=unpacking,
    )  # fmt: skip


def _chain_sizes(state: State, c: Cluster, targets: list[str]) -> dict[str, int | None]:
    """How much of the chain's copy each of ``targets`` has (for progress)."""
    return {t: _partial_size(state, t, f"{_chain_part(c)}.*") for t in targets}


def _partial_size(state: State, name: str, pattern: str) -> int | None:
    """The bytes of the partial copy on ``name`` (a glob), None if there is none (for progress)."""
    if not state.inventory.get_host(name).connected:
        return None
    ok, output = privilege.run(
        state,
        state.inventory.get_host(name),
        f'for f in {pattern}; do [ -f "$f" ] && stat -c %s "$f"; done; true',
    )
    sizes = [int(line) for line in output.stdout_lines if line.strip().isdigit()]
    return max(sizes) if ok and sizes else None


def _receive(state: State, host: Host, c: Cluster) -> bool:
    """Get the tarball to ``host`` along the chain (see runtime/fanout.py); if the chain did
    not deliver it, copy it from a holder, verify it there and rename it into place, trying
    another holder on failure."""
    master = state.inventory.get_host(c.master)
    chain = _chain(state, c)
    if host.name in chain.targets:

        def run_chain(targets: list[str]) -> list[str]:
            return _run_chain(state, c, c.master, targets)

        ok, said = chain.outcome(host.name, run_chain)
        if ok:
            logger.info(f"{host.print_prefix}tarball copied from {chain.before(host.name)} along the chain")
            return True
        logger.warning(f"{host.print_prefix}the chain did not deliver the tarball: {said}")

    def copy(source: str) -> tuple[bool, str]:
        if source != c.master:  # a chain of one hop from that holder
            lines = _run_chain(state, c, source, [host.name])
            return chain_outcomes(source, [host.name], lines)[host.name]
        ok, output = privilege.run(state, host, _prepare(c))
        if ok:
            ok, output = privilege.run(
                state, master, copy_command(c.remote_tarball, host.name, _part(c), c.tarball.size)
            )
        if ok:
            ok, output = privilege.run(state, host, _install_tarball(c))
        return ok, " ".join(line.strip() for line in output.stderr_lines if line.strip())[-500:]

    source, failures = receive(_fanout(state, c), host.name, copy)
    for failure in failures:
        logger.warning(f"{host.print_prefix}{failure}")
    if source is None:
        logger.error(f"{host.print_prefix}no holder of the tarball could copy it here")
        return False
    logger.info(f"{host.print_prefix}tarball copied from {source}")
    return True


@operation()
def tarball_distributed():
    """
    Put the release tarball on this node over the cluster network: it leaves the operator's
    machine once and streams, through the master, along a chain of the nodes that need it,
    each passing it on while it receives it, so every link carries it once and the copy takes
    about as long as one, whatever the number of nodes (see runtime/fanout.py). The chain runs
    in the master's upload; this step takes its outcome (or runs it from the master, when the
    master had the tarball or got it by SFTP).

    Behaviour:
        Sent only when the node has no tarball or one with another sha256; verified against the
        declared sha256 on arrival, then renamed into place. A node the chain did not deliver to
        gets a copy from a node that holds a verified one (each holder sends at most two in all),
        another holder being tried when a copy fails.

    **Example:**

    .. code:: python

        release.tarball_distributed(name="Tarball on every other node")
    """
    c = cluster()
    memo = run_of(state).memo
    v = verdict("tarball")
    if v.in_sync:
        memo.setdefault("tarball_holders", set()).add(host.name)
    if host.name == c.master:
        host.noop("the master's tarball is sent from the operator's machine")
        return
    if v.in_sync:
        host.noop(f"{c.remote_tarball} already has {v.desired}")
        return
    yield from changes([FunctionCommand(_receive, (c,), {})], why=v)


def _sums_path(c: Cluster) -> str:
    """Where the tarball's expected digests are put on the node while a record is written."""
    return f"{c.install_root}/.{c.release}.sha256sums"


def _expected_sums(c: Cluster) -> str:
    """``sha256  path`` of every shipped file the release check covers (``sha256sum -c`` input)."""
    return "".join(
        f"{m.sha256}  {m.path}\n" for m in c.tarball.members if m.kind == "f" and m.path not in MANAGED_FILES
    )


_COMPARE_SUMS = program(__file__, "compare_sums.awk")


def _check_sums(sums: str) -> str:
    """Shell, in the folder the digests are relative to: ``sha256sum --quiet --strict -c``,
    by OpenSSL where the node has it."""
    return (
        f"if command -v openssl > /dev/null 2>&1; then cut -c67- {sums} "
        "| xargs -d '\\n' -r openssl dgst -sha256 -r 2> /dev/null "
        f"| awk {shlex.quote(_COMPARE_SUMS)} {sums} -; "
        f"else sha256sum --quiet --strict -c {sums}; fi"
    )


_RECORD_LINES = program(__file__, "record_lines.awk")


def _verify_and_record(c: Cluster, folder: str) -> str:
    """Shell: check every shipped file in ``folder`` against the tarball's digests, then write
    the completion marker with the verified files' sizes and ctimes (so later reads re-hash only
    what changed since). Fails, writing nothing, if any file differs."""
    f, sums = shlex.quote(folder), shlex.quote(_sums_path(c))
    marker = shlex.quote(f"{c.tarball.sha256} {c.release}")
    tmp = f"{f}/{MARKER}.tmp"
    mismatch = f"{folder} does not match the digests of {c.tarball.top} after extraction"
    return (
        f"(cd {f} && {_check_sums(sums)}) >&2 || "
        f"{{ echo {shlex.quote(mismatch)} >&2; exit 1; }}; "
        f"{{ echo {marker}; find {f} -type f -printf '%s %C@ %P\\n' "
        f"| awk {shlex.quote(_RECORD_LINES)} {sums} -; }} > {tmp} && mv -f {tmp} {f}/{MARKER}"
    )


def _unpacked(c: Cluster) -> str:
    """Where a node keeps the release it unpacked as the tarball streamed (see
    runtime/fanout.py's Unpacking)."""
    return unpacked(c.install_dir, c.tarball.sha256)


def _fresh_extraction(c: Cluster) -> str:
    """Shell: extract into a hidden folder (or take the one this tarball was unpacked into as
    it streamed), carry over what the running cluster wrote (journal, local under storage,
    logs) and the managed files, verify and record, then swap it in by renames. At every moment
    the install path holds either the old folder or the complete new one; an interrupted swap
    is undone first thing on the next run, so the journal is never lost."""
    d, p, t = (
        shlex.quote(c.install_dir),
        shlex.quote(partial(c.install_dir)),
        shlex.quote(c.remote_tarball),
    )
    rel = shlex.quote(c.release)
    new = f"{p}/{rel}"
    u, u_name = shlex.quote(_unpacked(c)), shlex.quote(_unpacked(c).rpartition("/")[2])
    carry = " ".join(CARRIED_OVER)
    return (
        "set -e; "
        f"if [ ! -e {d} ] && [ -d {p}/old ]; then mv {p}/old {d}; fi; "  # undo a half swap
        # what was unpacked as it streamed, and nothing else of the folder, or a fresh extraction
        f"if [ -d {u}/{rel} ]; then find {p} -mindepth 1 -maxdepth 1 ! -name {u_name} -exec rm -rf {{}} +; "
        f"mv {u}/{rel} {new}; rmdir {u}; "
        f"else rm -rf {p}; mkdir -p {p}; tar -xzf {t} -C {p}; fi; chown -R root:root {new}; "
        f"if [ -d {d} ]; then for x in {carry}; do if [ -e {d}/$x ]; then "
        f'rm -rf {new}/$x; mkdir -p "$(dirname {new}/$x)"; cp -a {d}/$x {new}/$x; fi; done; '
        # the daemons' logs join the shipped ones, which stay as shipped
        f"if [ -d {d}/logs ]; then mkdir -p {new}/logs; cp -a -n {d}/logs/. {new}/logs/; fi; fi; "
        f"{_verify_and_record(c, f'{partial(c.install_dir)}/{c.release}')}; "
        f"if [ -e {d} ]; then mv {d} {p}/old; fi; mv {new} {d}; rm -rf {p} {shlex.quote(_sums_path(c))}"
    )


@operation()
def extracted():
    """
    Extract the release at the install path, complete, owned root:root (the post's ``tar -zxvf``
    and ``chown -R root:root``), every shipped file verified against the tarball's digests.

    Behaviour:
        Missing, interrupted (no completion marker) or another release: extracted afresh into a
        hidden folder, verified, and swapped in by rename, keeping the journal, the logs and the
        managed configuration of the folder it replaces. Damaged (members missing, or of another
        type, mode, size or content): just those members are extracted again. Wrong owners:
        ``chown -R root:root``. After any change the completion marker records every shipped
        file's verified digest with its size and ctime, so that later reads hash only the files
        that changed since. A left-over folder of an interrupted extraction is removed (an
        interrupted swap is undone).

    **Example:**

    .. code:: python

        release.extracted(name="Release extracted, complete, root:root")
    """
    c = cluster()
    v = verdict("install_dir")
    if v.in_sync:
        host.noop(f"{c.install_dir} is {v.desired}")
        return
    d, p = shlex.quote(c.install_dir), shlex.quote(partial(c.install_dir))
    sums = upload_text(_sums_path(c), _expected_sums(c))
    restore = v.details.restore
    if v.details.fresh:
        yield from changes([*sums, _fresh_extraction(c)], why=v)
        return
    commands: list[PyinfraCommand | str] = []
    if v.details.partial:
        commands.append(f"if [ ! -e {d} ] && [ -d {p}/old ]; then mv {p}/old {d}; fi; rm -rf {p}")
    if restore:
        members = " ".join(shlex.quote(f"{c.release}/{m}") for m in restore)
        root = shlex.quote(c.install_root)
        commands.append(f"tar -xzf {shlex.quote(c.remote_tarball)} -C {root} --no-recursion {members}")
    if restore or v.details.chown:
        commands.append(f"chown -R root:root {d}")
    if v.details.record:
        commands += [*sums, f"{_verify_and_record(c, c.install_dir)}; rm -f {shlex.quote(_sums_path(c))}"]
    yield from changes(commands, why=v)


@operation()
def launcher_patched():
    """
    Make ``bin/alluxio-workers.sh`` the release's launcher with ``ssh -t ${worker}`` patched to
    ``ssh -tt ${worker}`` where the release needs it (Alluxio issue #3891; 1.3+ ship ``-tt``).

    Behaviour:
        The desired file is the tarball's own launcher, patched; it is written atomically when
        the node's differs. A launcher of unknown shape (neither line) is reported and left
        alone, never half-patched.

    **Example:**

    .. code:: python

        release.launcher_patched(name="Launcher patched -t to -tt")
    """
    v = verdict("launcher")
    if v.details.unknown_shape:
        logger.warning(f"{host.print_prefix}{v.path}: {v.actual}")
        host.noop(f"{v.path}: unknown shape, left alone")
        return
    if v.in_sync:
        host.noop(f"{v.path} already {v.desired}")
        return
    c = cluster()
    if verdict("install_dir").status == "missing" and c.launcher == c.tarball.launcher:
        # no release folder yet: the extraction brings the launcher as declared (1.3.0's -tt)
        host.noop(f"{v.path} comes with the extraction, {v.desired}")
        return
    yield from changes(file_commands(v.path or "", v.details.file), why=v)


@operation()
def pruned():
    """
    Keep, beside the declared release, only the previous one (so that declaring it again rolls
    back without sending it again); older release folders go with their tarballs.

    Behaviour:
        A folder that holds a journal is never removed. The previous release is the most
        recently extracted other folder.

    **Example:**

    .. code:: python

        release.pruned(name="Only the previous release is kept beside this one")
    """
    c = cluster()
    v = verdict("old_releases")
    if v.in_sync:
        host.noop(f"kept: {v.actual}")
        return
    root = c.install_root
    commands = []
    for folder in v.details.remove:
        f = shlex.quote(f"{root}/{folder}")
        # its tarball (and the record of its checksum), whatever the build's suffix
        tarballs = f"{shlex.quote(root)}/{folder}-*bin.tar.gz"
        commands.append(
            f'[ ! -e {f}/journal ] && rm -rf {f} && for t in {tarballs}; do [ -f "$t" ] || continue; '
            'rm -f "$t" "$(dirname "$t")/.$(basename "$t").sha256"; done'
        )
    yield from changes(commands, why=v)
