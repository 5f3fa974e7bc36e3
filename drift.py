"""Drift report: what differs from the declared state, per host and resource, read-only.

    python drift.py inventory.py [--json | --all] [--limit HOST] [--data KEY=VALUE] [--ssh-user ...]
    python drift.py inventory.py --heal [--json] [--data KEY=VALUE] [--ssh-user ...]   # see heal.py

The same inventory, model (``cluster.py``), facts (one command per node, ``facts/node.py``) and
comparison (``resources/``) as the deploy, so the report predicts exactly what the next
converge changes. Exit codes, for schedulers: 0 everything in sync; 2 drift found; 1 could not
decide (an unreachable host, an invalid inventory), after printing what could be read.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
import sys
from collections import Counter
from getpass import getpass
from typing import Any

import click
from pyinfra.api import Config, Host, Inventory, State
from pyinfra.api.connect import connect_all
from pyinfra.api.state import StateStage
from pyinfra.context import ctx_config, ctx_inventory, ctx_state
from pyinfra_cli.inventory import make_inventory
from pyinfra_cli.util import parse_cli_arg

import heal as selfheal
from cluster import Cluster, InventoryError
from facts.node import NodeSnapshot
from refusal import refuse
from resources import DRIFTED, IN_SYNC, MISSING_STATUS, UNREACHABLE, cause, node_verdicts
from resources.services import serving
from runtime.declaration import build
from runtime.run import read_all, run_of

STATUSES = (IN_SYNC, DRIFTED, MISSING_STATUS, UNREACHABLE)
EXIT_IN_SYNC, EXIT_UNDECIDED, EXIT_DRIFT = 0, 1, 2


def report(
    cluster: Cluster,
    names: list[str],
    snaps: dict[str, NodeSnapshot | None],
    unreadable: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The report as a JSON-able document (see the README for its format)."""
    hosts: dict[str, Any] = {}
    counts: Counter[str] = Counter()
    for name in names:
        verdicts = node_verdicts(cluster, name, snaps)
        resources = {}
        for resource, verdict in verdicts.items():
            resources[resource] = {**verdict.as_json(), "cause": cause(verdict, snaps.get(name))}
            counts[verdict.status] += 1
        hosts[name] = {"reachable": snaps.get(name) is not None, "resources": resources}
        if snaps.get(name) is None:
            hosts[name]["why"] = (unreadable or {}).get(name, "could not connect")
    document: dict[str, Any] = {"hosts": hosts, "summary": {status: counts[status] for status in STATUSES}}
    if cluster.fault_tolerant:
        document["masters"] = masters_of(cluster, snaps)
    return document


def masters_of(cluster: Cluster, snaps: dict[str, NodeSnapshot | None]) -> dict[str, list[str]]:
    """Fault tolerance: which masters serve (the leader; two are an error), stand by, are down."""
    leads = serving(cluster, snaps)
    seen = [m for m in cluster.all_masters if snaps.get(m) is not None]
    running = [m for m in seen if snaps[m].services.master_pids]  # type: ignore[union-attr]
    return {
        "serving": list(leads),
        "standby": [m for m in running if m not in leads],
        "down": [m for m in seen if m not in running],
        "unreachable": [m for m in cluster.all_masters if m not in seen],
    }


def exit_code(document: dict[str, Any]) -> int:
    summary = document["summary"]
    if summary[UNREACHABLE]:
        return EXIT_UNDECIDED
    return EXIT_DRIFT if summary[DRIFTED] or summary[MISSING_STATUS] else EXIT_IN_SYNC


def render_text(document: dict[str, Any], everything: bool = False) -> str:
    """The summary first, then what differs, host by host, each with its cause and diff; the
    hosts wholly in sync on one line. ``everything``: every resource of every host."""
    labels = {"corrective": "corrective: changed on the host since the last converge",
              "intentional": "intentional: the declaration changed since the last converge",
              "unknown": "no converge recorded here"}  # fmt: skip
    summary = document["summary"]
    out = ["summary: " + ", ".join(f"{summary[s]} {s}" for s in STATUSES)]
    if masters := document.get("masters"):
        leads = masters["serving"]
        lead = (
            f"{leads[0]} leads" if len(leads) == 1
            else "ERROR: " + " and ".join(leads) + " serve at once" if leads
            else "no master leads"
        )  # fmt: skip
        rest = [f"{k} {', '.join(v)}" for k, v in masters.items() if k != "serving" and v]
        out.append("masters: " + "; ".join([lead, *rest]))
    in_sync = []
    for name, entry in document["hosts"].items():
        differs = {r: v for r, v in entry["resources"].items() if v["status"] != IN_SYNC}
        if entry["reachable"] and not differs and not everything:
            in_sync.append(name)
            continue
        out.append(f"{name}{'' if entry['reachable'] else ' (unreachable: ' + entry.get('why', '?') + ')'}")
        for resource, r in entry["resources"].items():
            if r["status"] == IN_SYNC:
                if everything:
                    out.append(f"  {resource:<16} {r['status']:<11} {r['desired']}")
                continue
            why = f"  [{labels[r['cause']]}]" if r.get("cause") else ""
            line = f"  {resource:<16} {r['status']:<11} desired: {r['desired']} | actual: {r['actual']}"
            out.append(line + why)
            out.extend(f"      {line}" for line in (r["diff"] or "").splitlines())
    if in_sync:
        out.append(f"in sync, every resource: {', '.join(in_sync)}")
    return "\n".join(out)


def _limited(inventory: Inventory, limits: tuple[str, ...]) -> list[Host]:
    """Hosts named by ``--limit`` (host or group names, glob patterns), as pyinfra's option."""
    if not limits:
        return list(inventory)
    chosen = []
    for host in inventory:
        names = [host.name, *host.groups]
        if any(fnmatch.fnmatch(n, pattern) for n in names for pattern in limits):
            chosen.append(host)
    return chosen


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("inventory_path", metavar="INVENTORY")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout.")
@click.option("--limit", multiple=True, help="Only these hosts or groups (glob patterns).")
@click.option("--all", "everything", is_flag=True, help="List every resource, in sync or not (text form).")
@click.option(
    "--heal", is_flag=True, help="Repair corrective drift only, by a converge (for a timer; see heal.py)."
)
@click.option("--data", multiple=True, help="Override data values, format key=value (as pyinfra).")
@click.option("--ssh-user", "--user", "ssh_user", help="SSH user to connect as.")
@click.option("--ssh-port", "--port", "ssh_port", type=int, help="SSH port to connect to.")
@click.option("--ssh-key", "--key", "ssh_key", type=click.Path(), help="SSH private key filename.")
@click.option("--ssh-key-password", "--key-password", "ssh_key_password", help="SSH key password.")
@click.option("--ssh-password-prompt", is_flag=True, help="Ask for the SSH password.")
@click.option("--sudo", is_flag=True, help="Read the nodes as root through sudo (as pyinfra's --sudo).")
@click.option("--sudo-user", help="The user sudo runs as (default root).")
@click.option("--use-sudo-password", is_flag=True, help="Ask for the sudo password.")
@click.option("--su-user", help="Become this user with su (as pyinfra's --su-user).")
@click.option("-v", "verbose", count=True, help="Show pyinfra's own log.")
def main(
    inventory_path: str,
    as_json: bool,
    limit: tuple[str, ...],
    everything: bool,
    heal: bool,
    data: tuple[str, ...],
    ssh_user: str | None,
    ssh_port: int | None,
    ssh_key: str | None,
    ssh_key_password: str | None,
    ssh_password_prompt: bool,
    sudo: bool,
    sudo_user: str | None,
    use_sudo_password: bool,
    su_user: str | None,
    verbose: int,
) -> None:
    """Report drift from the declared state; exit 0 in sync, 2 drift, 1 undecided. With
    --heal: 0 nothing to do, 2 repaired, 3 refused to act, 4 the repair failed, 1 undecided."""
    if heal and (limit or ssh_password_prompt or use_sudo_password):
        refuse("--heal repairs the whole cluster, unattended: no --limit, no password prompts (use keys)")
        sys.exit(EXIT_UNDECIDED)
    logging.basicConfig(level=logging.INFO if verbose else logging.CRITICAL, stream=sys.stderr)
    os.environ.setdefault("PYINFRA_PROGRESS", "off")
    override: dict[str, Any] = {}
    for item in data:
        key, _, value = item.partition("=")
        override[key] = parse_cli_arg(value)
    options = {"ssh_user": ssh_user, "ssh_port": ssh_port, "ssh_key": ssh_key}
    override.update({k: v for k, v in options.items() if v})
    if ssh_key_password:
        override["ssh_key_password"] = ssh_key_password
    if ssh_password_prompt:
        override["ssh_password"] = getpass("SSH password: ")

    state = State(check_for_changes=False)
    ctx_state.set(state)
    config = Config()
    config.SUDO, config.SUDO_USER, config.SU_USER = sudo, sudo_user, su_user
    if use_sudo_password:
        config.USE_SUDO_PASSWORD = True
        config.SUDO_PASSWORD = getpass("sudo password: ")
    ctx_config.set(config)
    try:
        inventory = make_inventory(inventory_path, override_data=override, cwd=os.getcwd())
        cluster = build(inventory)
    except InventoryError as error:
        refuse(f"inventory: {error}")
        sys.exit(EXIT_UNDECIDED)
    except Exception as error:
        click.echo(f"drift: cannot load {inventory_path}: {error}", err=True)
        sys.exit(EXIT_UNDECIDED)
    ctx_inventory.set(inventory)
    chosen = _limited(inventory, limit)
    if not chosen:
        click.echo(f"drift: --limit {' '.join(limit)} matches no host", err=True)
        sys.exit(EXIT_UNDECIDED)
    state.init(inventory, config, initial_limit=chosen)
    state.set_stage(StateStage.Connect)
    connect_all(state)

    names = [h.name for h in chosen]
    needed = [h for h in inventory if h.name in names or h.name in cluster.names]
    snaps = read_all(state, needed, cluster)
    document = report(cluster, names, snaps, run_of(state).unreadable)
    if not heal:
        click.echo(json.dumps(document, indent=2) if as_json else render_text(document, everything))
        sys.exit(exit_code(document))
    connection = {"--ssh-user": ssh_user, "--ssh-port": ssh_port, "--ssh-key": ssh_key,
                  "--ssh-key-password": ssh_key_password, "--sudo": sudo, "--sudo-user": sudo_user,
                  "--su-user": su_user}  # fmt: skip
    code, why = self_heal(cluster, snaps, selfheal.pyinfra_argv(inventory_path, data, connection))
    if as_json:
        document["heal"] = {"result": selfheal.RESULTS[code], "exit": code, "why": why}
        click.echo(json.dumps(document, indent=2))
    else:
        click.echo("\n".join([f"self-heal: {selfheal.RESULTS[code]}", *(f"  {line}" for line in why)]))
    sys.exit(code)


def self_heal(
    cluster: Cluster, snaps: dict[str, NodeSnapshot | None], argv: list[str]
) -> tuple[int, list[str]]:
    """Decide on what was read; repair by a converge when only corrective drift was found."""
    decision = selfheal.decide(cluster, snaps)
    if decision.code != selfheal.REPAIRED:
        return decision.code, list(decision.why)
    code, said = selfheal.repair(argv, decision.expect)
    if code == selfheal.REPAIRED:
        return code, list(decision.why)
    return code, [*decision.why, said]


if __name__ == "__main__":
    main()
