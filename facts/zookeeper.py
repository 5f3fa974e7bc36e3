"""ZooKeeper's servers as a fault-tolerant master sees them: which answer ``srvr`` (the one
four-letter command ZooKeeper 3.5 and later allow by default; ``ruok`` is refused there), and
in what mode."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence

from pyinfra.api import FactBase
from typing_extensions import override


class ZooKeeperAnswers(FactBase[dict[str, str]]):
    """
    Returns server (``host:port``) -> its mode (``standalone``, ``leader``, ``follower``; ""
    when it did not answer ``srvr`` within three seconds), for each server of ``servers``.
    """

    @override
    @staticmethod
    def default() -> dict[str, str]:
        return {}

    @override
    def command(self, servers: Sequence[str] = ()) -> str:
        if not servers:
            return "true"
        ask = 'exec 3<>"/dev/tcp/$1/$2" && printf srvr >&3 && cat <&3'
        return (
            f"for s in {' '.join(shlex.quote(s) for s in servers)}; do "
            f'm=$(timeout 3 bash -c {shlex.quote(ask)} - "${{s%:*}}" "${{s##*:}}" 2>/dev/null '
            "| sed -n 's/^Mode: //p'); printf 'zk %s %s\\n' \"$s\" \"$m\"; done"
        )

    @override
    def process(self, output: Iterable[str]) -> dict[str, str]:
        answers = {}
        for line in output:
            parts = line.split(" ")
            if len(parts) >= 2 and parts[0] == "zk":
                answers[parts[1]] = " ".join(parts[2:]).strip()
        return answers
