"""The cluster as its master sees it: the release, and every declared worker with the seconds
since its last heartbeat and whether it is live by the tool's rule.

    python status.py inventory.py [--data KEY=VALUE ...]

Run it where the master's web port is reachable (in the lab: ``python -m lab run``). It asks
the master's REST API (``worker_info_list``, ``version``), the same list the deploy's health
step reads, and applies the same rule (``facts.services.WorkerList.is_live``; a listed name is
a declared worker by its name or by the address it resolves to here). Exit
codes: 0 every declared worker is live; 1 the inventory is refused or the master does not
answer; 2 a worker is not live (named).
"""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import urllib.request
from typing import Any

import click
from pyinfra.api import Config, State
from pyinfra.context import ctx_config, ctx_state
from pyinfra_cli.inventory import make_inventory
from pyinfra_cli.util import parse_cli_arg

from cluster import Cluster, InventoryError
from facts.services import LIVE_WITHIN_SECONDS, WorkerList, parse_worker_ages
from layout import REST_PREFIX, WEB_PORT
from refusal import refuse
from runtime.declaration import build

EXIT_LIVE, EXIT_UNDECIDED, EXIT_NOT_LIVE = 0, 1, 2


def load(inventory_path: str, data: tuple[str, ...]) -> Cluster:
    """The declared cluster of ``inventory_path`` with ``--data`` overrides, as the deploy builds it."""
    override = {}
    for item in data:
        key, _, value = item.partition("=")
        override[key] = parse_cli_arg(value)
    ctx_state.set(State(check_for_changes=False))
    ctx_config.set(Config())
    return build(make_inventory(inventory_path, override_data=override))


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def resolved(names: list[str]) -> dict[str, str]:
    """Each name -> the IPv4 address it resolves to here (names that do not resolve are left out)."""
    out = {}
    for name in names:
        with contextlib.suppress(OSError):
            out[name] = socket.gethostbyname(name)
    return out


def render(
    cluster: Cluster, version: str, listed: WorkerList, master: str = ""
) -> tuple[list[str], list[str]]:
    """The lines to print and the declared workers that are not live."""
    lines = [f"master {master or cluster.master}: Alluxio {version}, {len(listed.ages)} worker(s) listed"]
    not_live = []
    for worker in cluster.workers:
        address = cluster.node(worker).address
        age = listed.age_of(worker, address)
        names = [n for n in listed.names_of(worker, address) if n != worker]
        if age is None:
            state, heard = "NOT LIVE", "not listed by the master"
        else:
            state = "live" if listed.is_live(worker, address) else "NOT LIVE"
            heard = f"last heartbeat {age} s ago" + (f" (listed as {', '.join(names)})" if names else "")
        if state != "live":
            not_live.append(worker)
        lines.append(f"  {worker:<20} {state:<9} {heard}")
    declared = listed.declared({n.name: n.address for n in cluster.nodes})
    for other in sorted(n for n, h in declared.items() if h not in cluster.workers):
        heard = f"listed but not declared, last heartbeat {listed.ages[other]} s ago"
        lines.append(f"  {other:<20} {'extra':<9} {heard}")
    lines.append(f"live: listed and heard from within {LIVE_WITHIN_SECONDS} s")
    return lines, not_live


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inventory_path", metavar="INVENTORY")
@click.option("--data", multiple=True, help="Override data values, format key=value (as pyinfra).")
def main(inventory_path: str, data: tuple[str, ...]) -> None:
    """Show the release and every declared worker's heartbeat; exit 0 all live, 2 not, 1 undecided."""
    try:
        cluster = load(inventory_path, data)
    except InventoryError as error:
        refuse(f"inventory: {error}")
        sys.exit(EXIT_UNDECIDED)
    # the master, or with fault tolerance the one that serves (the leader: a standby serves nothing)
    silent: list[str] = []
    for master in cluster.all_masters:
        base = f"http://{cluster.node(master).address}:{WEB_PORT}{REST_PREFIX}/master"
        try:
            version = str(get(f"{base}/version"))
            body = json.dumps(get(f"{base}/worker_info_list"))
            break
        except (OSError, ValueError) as error:  # URLError is an OSError; a body that is no JSON
            silent.append(f"the master {master} does not answer on {base}: {error}")
    else:
        click.echo("status: " + "; ".join(silent), err=True)
        sys.exit(EXIT_UNDECIDED)
    if cluster.fault_tolerant:
        others = [m for m in cluster.all_masters if m != master]
        click.echo(f"leader: {master}; not serving (standby, or down): {', '.join(others)}")
    ages = parse_worker_ages(body)
    if ages is None:
        click.echo(f"status: {base}/worker_info_list is not a worker list: {body[:200]}", err=True)
        sys.exit(EXIT_UNDECIDED)
    lines, not_live = render(cluster, version, WorkerList(ages, resolved(list(ages))), master)
    click.echo("\n".join(lines))
    if not_live:
        click.echo(f"not live: {', '.join(not_live)}", err=True)
        sys.exit(EXIT_NOT_LIVE)


if __name__ == "__main__":
    main()
