"""Names and addresses of the lab: the post's four hosts, and the rule for adding more."""

from __future__ import annotations

import ipaddress
import re

SUBNET = ipaddress.ip_network("10.0.1.0/24")
CONTROL_IP = "10.0.1.254"
# The post's cluster (BRIEF section 1).
POST_HOSTS: dict[str, str] = {
    "server03": "10.0.1.8",
    "server06": "10.0.1.11",
    "server07": "10.0.1.12",
    "server08": "10.0.1.13",
}
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}$")


def validate(name: str, ip: str) -> None:
    """Refuse a host name or address the lab cannot give a host."""
    if not _NAME.match(name):
        raise ValueError(f"host name {name!r}: use lower-case letters, digits and '-' (max 31)")
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise ValueError(f"host {name}: {ip!r} is not an IP address") from None
    if address not in SUBNET or address in (SUBNET.network_address, SUBNET.broadcast_address):
        raise ValueError(f"host {name}: {ip} is not a host address in the lab's {SUBNET}")
    if ip == CONTROL_IP:
        raise ValueError(f"host {name}: {ip} is the control namespace's address")


def extra_hosts(count: int) -> dict[str, str]:
    """``count`` hosts beyond the post's: server09 (10.0.1.14) onwards."""
    if count > 200:
        raise ValueError("the lab's /24 holds at most 200 extra hosts")
    return {f"server{9 + i:02d}": f"10.0.1.{14 + i}" for i in range(count)}
