"""The deploy's closing lines: which hosts changed what, in one screen, once the last
operation ended (pyinfra's own table that follows counts operations, not hosts)."""

from __future__ import annotations

from pyinfra import logger, state
from pyinfra.api import State
from pyinfra.api.state import BaseStateCallback

from runtime.run import run_of


class ClosingLines(BaseStateCallback):
    def operation_end(self, state: State, op_hash: str) -> None:  # type: ignore[override]
        order = state.get_op_order()
        if not order or op_hash != order[-1]:
            return
        for line in lines(state):
            logger.info(line)


def lines(state: State) -> list[str]:
    changed: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    active = set(state.inventory.iter_activated_hosts())
    hosts = [h for h in state.inventory if h in active]  # in the inventory's order
    order = state.get_op_order()  # (pyinfra sorts every host's operations each time it is asked)
    for host in hosts:
        for op_hash in order:
            if op_hash not in state.ops[host]:
                continue
            meta = state.ops[host][op_hash].operation_meta
            name = ", ".join(sorted(state.op_meta[op_hash].names))
            if not meta.did_succeed(_raise_if_not_complete=False):
                failed.setdefault(host.name, name)
            elif meta.did_change():
                changed.setdefault(host.name, []).append(name.split(" ", 1)[0].rstrip("."))
    names = [h.name for h in hosts]
    out = ["--> What changed, host by host (the steps of deploy.py):"]
    out += [f"    {n}: steps {', '.join(dict.fromkeys(changed[n]))}" for n in names if n in changed]
    out += [f"    {n}: failed at {failed[n]}" for n in names if n in failed]
    unchanged = [n for n in names if n not in changed and n not in failed]
    if unchanged:
        out.append(f"    unchanged: {', '.join(unchanged)}")
    return out


def at_the_end() -> None:
    """Print the closing lines after the run's last operation (registered once per run)."""
    memo = run_of(state).memo
    if "closing" not in memo:
        memo["closing"] = ClosingLines()
        state.add_callback_handler(memo["closing"])
