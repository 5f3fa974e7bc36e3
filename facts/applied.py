"""What the last converge applied on a node: one fingerprint of the declaration per resource."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pyinfra.api import FactBase
from typing_extensions import override

from layout import RECORD

_LINE = re.compile(r"^([a-z_]+) ([0-9a-f]{16})$")


class AppliedRecord(FactBase[dict[str, str]]):
    """
    Returns the record a converge leaves on each node (``resource fingerprint`` lines): the
    declaration it last brought each resource to. Empty when no converge finished here.
    """

    @override
    @staticmethod
    def default() -> dict[str, str]:
        return {}

    @override
    def command(self, path: str = RECORD) -> str:
        return f"cat {path} 2>/dev/null || true"

    @override
    def process(self, output: Iterable[str]) -> dict[str, str]:
        return {m.group(1): m.group(2) for line in output if (m := _LINE.match(line.strip()))}
