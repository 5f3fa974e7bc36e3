"""How the tool refuses: one line naming what is wrong, where it was set and what is accepted,
exit status 1, no traceback and no file or line of ours (a refusal is not a crash)."""

from __future__ import annotations

import click
from pyinfra_cli.exceptions import CliError
from typing_extensions import override


class RefusedError(CliError):
    """Raised in a pyinfra run (the inventory's validation, the converge lock): pyinfra's CLI
    passes its own ``CliError`` through untouched, and click shows it and exits 1."""

    @override
    def show(self, file: object = None) -> None:
        click.echo(f"--> refused: {self.message}", err=True)


def refuse(message: str) -> None:
    """The same line outside a pyinfra run (``drift.py``, ``status.py``)."""
    click.echo(f"--> refused: {message}", err=True)
