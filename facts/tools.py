"""What a node has that Alluxio's scripts need: commands on the PATH, and free disk space."""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from dataclasses import dataclass

from pyinfra.api import FactBase
from typing_extensions import override

# rsync: copyDir; ssh: the launcher; sudo: SudoMount; java: the daemons; bash: the scripts.
TOOLS = ("rsync", "ssh", "sudo", "java", "bash", "base64", "sha256sum", "tar")


@dataclass(frozen=True)
class ToolsState:
    missing: tuple[str, ...]
    free_kb: int | None  # free space where the release goes


class Tools(FactBase[ToolsState]):
    """Returns which of the needed commands are missing (as a non-interactive ssh session sees
    the PATH; ``java`` names the JAVA to check instead of the PATH's) and the free space, in
    KiB, of the file system holding ``folder``."""

    @override
    @staticmethod
    def default() -> ToolsState:
        return ToolsState((), None)

    @override
    def command(self, folder: str = "/opt", java: str = "") -> str:
        # A JAVA set in alluxio-env.sh replaces the one on the PATH (Alluxio #4459, #12250).
        tools = " ".join(t for t in TOOLS if not (java and t == "java"))
        check_java = f"[ -x {shlex.quote(java)} ] || echo missing java={java}; " if java else ""
        return (
            # An executable file in a folder of the PATH, looked for by the shell itself (no
            # process per tool: the read runs on every node at every converge)
            f"{check_java}for c in {tools}; do f=; IFS=:; for d in $PATH; do "
            '[ -f "${d:-.}/$c" ] && [ -x "${d:-.}/$c" ] && f=1 && break; done; unset IFS; '
            '[ -n "$f" ] || echo missing $c; done; '
            # df -Pk's "Available": free blocks for unprivileged users, in KiB
            f"s=$(stat -f -c '%a %S' {shlex.quote(folder)} 2>/dev/null) && set -- $s && "
            "echo free $(($1 * $2 / 1024))"
        )

    @override
    def process(self, output: Iterable[str]) -> ToolsState:
        missing, free = [], None
        for line in output:
            words = line.split()
            if len(words) == 2 and words[0] == "missing":
                missing.append(words[1])
            elif len(words) == 2 and words[0] == "free" and words[1].isdigit():
                free = int(words[1])
        return ToolsState(tuple(missing), free)
