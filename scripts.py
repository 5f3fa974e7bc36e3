"""The shell and awk programs the tool sends to nodes live in files of their own beside the code
that sends them (``runtime/relay.sh``, ``*.awk``), where shellcheck and awk read them; this is how
they are read: as they are sent, without their comment lines (they travel inside command
lines)."""

from __future__ import annotations

from pathlib import Path


def program(beside: str, name: str) -> str:
    """The program ``name`` in the folder of the module file ``beside``, comment lines left out."""
    text = Path(beside).with_name(name).read_text()
    return "".join(line for line in text.splitlines(keepends=True) if not line.lstrip().startswith("#"))
