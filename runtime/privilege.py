"""How this run reaches root on a node: pyinfra's connection and privilege arguments (``--sudo``,
``--sudo-user``, ``--use-sudo-password``, ``--su-user``, host data such as ``_get_pty``) for the
commands the tool runs itself, and whether ``sudo`` there needs a terminal or a password.

Facts and operations get pyinfra's arguments from pyinfra; the few commands the tool runs
directly (the lock, the master's copies and checks) go through :func:`run` so that they get the
same ones. Under ``requiretty`` (CentOS) ``sudo`` refuses to run without a terminal: the node is
probed once per run, and if it does, every command to it gets a pseudo-terminal
(``_get_pty``). A ``sudo`` that wants a password none was given for is reported, one line per
host, before anything changes there.
"""

from __future__ import annotations

from typing import Any, Protocol

import gevent
from pyinfra.api import Host, State, StringCommand
from pyinfra.api.arguments import CONNECTOR_ARGUMENT_KEYS, pop_global_arguments
from pyinfra.connectors.ssh import SSHConnector
from pyinfra.connectors.util import CommandOutput, make_unix_command_for_host, read_output_buffers

NEEDS_TTY = "you must have a tty to run sudo"
NEEDS_PASSWORD = "a password is required"
# sudo's answer, each line prefixed: pyinfra would take sudo's bare "a password is required"
# for its cue to prompt for one.
PROBE = "{ sudo -n true 2>&1; echo \"exit $?\"; } | sed 's/^/probe: /'"


def connector_arguments(state: State, host: Host) -> dict[str, Any]:
    """The connection and privilege arguments pyinfra gives this host's commands."""
    arguments, _ = pop_global_arguments(state, host, {})
    return {k: v for k, v in arguments.items() if k in CONNECTOR_ARGUMENT_KEYS}


def run(state: State, host: Host, command: str, **extra: Any) -> tuple[bool, CommandOutput]:
    """Run ``command`` on ``host`` as its facts and operations run (sudo, pty and the rest);
    a host outside the run's --limit (the master, read or asked) is connected to first."""
    if not host.connected:
        host.connect(reason="for the cluster", raise_exceptions=True)
    return host.run_shell_command(StringCommand(command), **{**connector_arguments(state, host), **extra})


class Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


def can_feed(state: State, host: Host) -> bool:
    """Whether :func:`run_fed` can give a command on ``host`` a byte stream on its stdin: an
    SSH connection whose commands get no pseudo-terminal (one would mangle the bytes: sudo
    under requiretty) and no ``su`` (which reads its password from the terminal)."""
    arguments = connector_arguments(state, host)  # (host data such as _get_pty included)
    return (
        isinstance(host.connector, SSHConnector)
        and not arguments.get("_get_pty")
        and not arguments.get("_su_user")
    )


def run_fed(
    state: State, host: Host, command: str, source: Readable, stall: float
) -> tuple[bool, CommandOutput]:
    """Run ``command`` on ``host`` as :func:`run` does, with what ``source`` reads on its
    stdin (see :func:`can_feed`). When the node accepts nothing for ``stall`` seconds the
    input is cut (end of file), so a stalled node never hangs the run. (pyinfra's own
    ``_stdin`` writes text lines.)"""
    if not host.connected:
        host.connect(reason="for the cluster", raise_exceptions=True)
    arguments = connector_arguments(state, host)
    for key in ("_get_pty", "_timeout", "_stdin", "_success_exit_codes"):
        arguments.pop(key, None)
    raw = make_unix_command_for_host(state, host, StringCommand(command), **arguments).get_raw_value()
    transport = host.connector.client.get_transport()  # type: ignore[attr-defined]
    channel = transport.open_session()
    channel.exec_command(raw)

    def feed() -> None:
        try:
            while data := source.read(1 << 16):
                with gevent.Timeout(stall):
                    channel.sendall(data)
        except (gevent.Timeout, OSError):
            pass  # the node stopped reading: what it has is checked there, and fails
        finally:
            channel.shutdown_write()

    feeder = gevent.spawn(feed)
    output = read_output_buffers(
        channel.makefile("rb"), channel.makefile_stderr("rb"), None, False, host.print_prefix
    )
    feeder.join()
    return channel.recv_exit_status() == 0, output


def uses_sudo(state: State, host: Host) -> bool:
    arguments = connector_arguments(state, host)
    return bool(arguments.get("_sudo")) and not arguments.get("_su_user")


def probe(host: Host, pty: bool) -> tuple[bool, list[str]]:
    """Whether ``sudo -n true`` works on ``host`` (with a pseudo-terminal or not), and what
    sudo said."""
    _, output = host.run_shell_command(StringCommand(PROBE), _get_pty=pty)
    said = [line.split("probe: ", 1)[1].strip() for line in output.output.splitlines() if "probe: " in line]
    return "exit 0" in said, [line for line in said if not line.startswith("exit ")]


def prepare(state: State, host: Host) -> str | None:
    """Probe ``sudo`` on ``host`` once, when this run uses it: give the host a pseudo-terminal
    where sudo needs one; return why root cannot be reached (None when it can)."""
    if not uses_sudo(state, host):
        return None
    arguments = connector_arguments(state, host)
    if "_get_pty" not in host.data.dict():
        _, said = probe(host, pty=False)
        if any(NEEDS_TTY in line for line in said):
            host.data._get_pty = True  # pyinfra's own argument, for every later command
    # a password given (--data _sudo_password, --same-sudo-password), or to be asked for when
    # sudo wants one (--use-sudo-password: pyinfra prompts per host)
    given = arguments.get("_sudo_password") or host.connector_data.get("prompted_sudo_password")
    if given or getattr(state.config, "USE_SUDO_PASSWORD", False):
        return None
    ok, said = probe(host, pty=bool(host.data.get("_get_pty")))
    if not ok and any(NEEDS_PASSWORD in line for line in said):
        user = host.data.get("ssh_user") or "this user"
        return f"sudo needs a password for {user} and none was given (--use-sudo-password)"
    if not ok:
        return f"sudo does not work: {said[-1] if said else 'no answer'}"
    return None
