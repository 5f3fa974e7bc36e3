"""The lab's command line.

python -m lab up [--extra N] [--link-rate RATE|none] | down | status | reset [HOST...]
              | run CMD | exec HOST CMD | stop HOST | start HOST | add NAME:IP
              | forward HOST PORT [--local PORT] | floor HOST centos6|centos7|none
              | replay HOST SECONDS | worker-start HOST SECONDS
              | zookeeper HOST [--tick-ms MS] [--stop]
"""

from __future__ import annotations

import argparse
import sys

from lab import forward, topology
from lab.common import FLOORS
from lab.lab import Lab, LabError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up", help="create (or repair) the post's four hosts")
    up.add_argument("--extra", type=int, default=0, help="also create N hosts, server09 onwards")
    up.add_argument("--link-rate", help="cap every host's link each way, e.g. 100mbit ('none' removes)")
    sub.add_parser("down", help="remove everything the lab made (idempotent)")
    sub.add_parser("status", help="list the hosts and whether their sshd runs")
    reset = sub.add_parser("reset", help="rebuild hosts bare (all by default)")
    reset.add_argument("hosts", nargs="*")
    run = sub.add_parser("run", help="run CMD in the control namespace (~/.ssh = lab's)")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    ex = sub.add_parser("exec", help="run CMD inside host HOST")
    ex.add_argument("host")
    ex.add_argument("argv", nargs=argparse.REMAINDER)
    for verb in ("stop", "start"):
        sub.add_parser(verb, help=f"{verb} HOST's sshd").add_argument("host")
    add = sub.add_parser("add", help="add a host NAME:IP (e.g. server09:10.0.1.14)")
    add.add_argument("spec")
    fwd = sub.add_parser("forward", help="serve HOST:PORT of the lab on 127.0.0.1 (for a browser)")
    fwd.add_argument("host")
    fwd.add_argument("port", type=int)
    fwd.add_argument("--local", type=int, help="the local port (default: PORT)")
    fl = sub.add_parser("floor", help="give HOST an older userland for root's sessions (wrappers)")
    fl.add_argument("host")
    fl.add_argument("floor", choices=[*FLOORS, "none"])
    rp = sub.add_parser("replay", help="make HOST's demo master replay its journal for SECONDS (0: none)")
    rp.add_argument("host")
    rp.add_argument("seconds", type=int)
    ws = sub.add_parser("worker-start", help="make HOST's demo worker register SECONDS late (0: at once)")
    ws.add_argument("host")
    ws.add_argument("seconds", type=int)
    zk = sub.add_parser("zookeeper", help="run a real ZooKeeper server on HOST; print its connect string")
    zk.add_argument("host")
    zk.add_argument("--tick-ms", type=int, default=2000, help="its tickTime (a session expires in 20)")
    zk.add_argument("--stop", action="store_true", help="stop it instead")
    args = parser.parse_args(argv)

    lab = Lab()
    try:
        if args.cmd == "up":
            rate = None if args.link_rate in (None, "none") else args.link_rate
            hosts = lab.up(topology.extra_hosts(args.extra))
            if args.link_rate is not None:
                lab.cap_links(rate)
            for name, ip in hosts.items():
                print(f"{name}\t{ip}")
        elif args.cmd == "down":
            lab.down()
        elif args.cmd == "status":
            for name, ip in lab.hosts().items():
                print(f"{name}\t{ip}\tsshd {'up' if lab._sshd_running(name) else 'down'}")
            print(f"link rate: {lab.link_rate() or 'not capped'}")
        elif args.cmd == "reset":
            lab.reset(args.hosts or None)
        elif args.cmd == "run":
            return lab.run(args.argv or ["bash"]).returncode
        elif args.cmd == "exec":
            return lab.exec(args.host, args.argv or ["bash"], capture_output=False).returncode
        elif args.cmd == "stop":
            lab.stop(args.host)
        elif args.cmd == "start":
            lab.start(args.host)
        elif args.cmd == "add":
            name, _, ip = args.spec.partition(":")
            lab.add(name, ip)
        elif args.cmd == "replay":
            lab.set_journal_replay(args.host, args.seconds)
        elif args.cmd == "zookeeper":
            if args.stop:
                lab.stop_zookeeper(args.host)
            else:
                print(lab.start_zookeeper(args.host, tick_ms=args.tick_ms))
        elif args.cmd == "worker-start":
            lab.set_worker_start(args.host, args.seconds)
        elif args.cmd == "floor":
            lab.set_floor(args.host, None if args.floor == "none" else args.floor)
        elif args.cmd == "forward":
            if not lab.is_up():
                raise LabError("the lab is not up: python -m lab up")
            forward.serve(lab, args.host, args.port, args.local or args.port)
    except KeyboardInterrupt:
        return 0
    except (LabError, ValueError, OSError) as exc:
        print(f"lab: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
