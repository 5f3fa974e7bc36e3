"""The lab itself: separate hosts with real sshd, reachable only from the control namespace."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from lab import Lab, LabError, topology
from lab.lab import REQUIRED_COMMANDS
from lab.processes import alive
from tests.labutil import ssh

LAB_NET = ipaddress.ip_network("10.0.1.0/24")


def ip_json(*args: str) -> list[dict]:
    return json.loads(
        subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True).stdout or "[]"
    )


def test_machine_namespace_has_no_address_or_route_into_the_lab(lab: Lab) -> None:
    # Read from the routing table and addresses only: not a packet is sent.
    for link in ip_json("addr", "show"):
        for addr in link.get("addr_info", []):
            assert ipaddress.ip_address(addr["local"]) not in LAB_NET, link["ifname"]
        assert not link["ifname"].startswith(("vl", "br0")), "a lab interface in the machine's ns"
    routes = [
        r
        for r in ip_json("route", "show", "table", "all")
        if r["dst"] != "default" and ipaddress.ip_network(r["dst"], strict=False).overlaps(LAB_NET)
    ]
    assert routes and all(r.get("type") == "unreachable" for r in routes), routes
    get = subprocess.run(["ip", "route", "get", "10.0.1.13"], capture_output=True, text=True)
    assert (get.returncode != 0 and "unreachable" in get.stderr.lower() + get.stdout.lower()) or (
        "No route" in get.stderr
    ), get


def test_control_namespace_reaches_every_host_by_name_and_address(lab: Lab) -> None:
    for name, ip in topology.POST_HOSTS.items():
        assert ssh(lab, name, "hostname").strip() == name
        assert ssh(lab, ip, "cat /etc/hostname").strip() == name


def test_hosts_start_with_only_localhost_lines_and_requiretty(lab: Lab) -> None:
    lab.reset()
    for name in topology.POST_HOSTS:
        hosts = ssh(lab, name, "cat /etc/hosts")
        names = {w for line in hosts.splitlines() for w in line.split()[1:]}
        assert not names & set(topology.POST_HOSTS), hosts
        assert "Defaults requiretty" in ssh(lab, name, "cat /etc/sudoers")


def test_files_written_on_one_host_are_not_seen_on_another(lab: Lab) -> None:
    ssh(
        lab,
        "server06",
        "echo '10.9.9.9 only06' >> /etc/hosts && "
        "touch /root/only06 /opt/only06 /tmp/only06 /mnt/only06 /var/backups/only06",
    )
    try:
        assert (
            ssh(lab, "server06", "cat /etc/hosts; ls /root /opt /tmp /mnt /var/backups").count("only06") == 6
        )
        for other in ("server07", "server08", "server03"):
            seen = ssh(lab, other, "cat /etc/hosts; ls -a /root /opt /tmp /mnt /var/backups")
            assert "only06" not in seen, other
        assert "only06" not in Path("/etc/hosts").read_text()
        assert not any(Path(d, "only06").exists() for d in ("/root", "/opt", "/tmp", "/mnt", "/var/backups"))
    finally:
        ssh(
            lab,
            "server06",
            "sed -i '/only06/d' /etc/hosts && "
            "rm -f /root/only06 /opt/only06 /tmp/only06 /mnt/only06 /var/backups/only06",
        )


def test_a_host_cannot_read_other_hosts_files_through_the_lab_folder(lab: Lab) -> None:
    own = lab.host_dir("server06")
    other_key = lab.host_dir("server08") / "etc" / "ssh" / "ssh_host_ed25519_key"
    assert other_key.exists()  # on the machine it is there
    seen = ssh(
        lab, "server06", f"ls {lab.root} {lab.root / 'hosts'}; cat {other_key} {lab.control_key} 2>&1; true"
    )
    assert "PRIVATE KEY" not in seen and "No such file" in seen
    assert ssh(lab, "server06", f"ls {lab.root / 'hosts'}").split() == ["server06"]
    assert "control" not in ssh(lab, "server06", f"ls {lab.root}").split()
    # its own folder stays where the lab expects it (sshd logs there)
    assert "Starting session" in ssh(lab, "server06", f"cat {own}/sshd.log")


def test_sed_in_place_works_on_etc_hosts(lab: Lab) -> None:
    # A bind-mounted file would fail here with "Device or resource busy".
    ssh(
        lab,
        "server07",
        "echo '10.9.9.8 tmpname' >> /etc/hosts && sed -i 's/tmpname/renamed/' /etc/hosts",
    )
    hosts = ssh(lab, "server07", "cat /etc/hosts")
    assert "10.9.9.8 renamed" in hosts
    ssh(lab, "server07", "sed -i '/renamed/d' /etc/hosts")


def test_each_host_answers_with_its_own_host_key(lab: Lab) -> None:
    machine_keys = {p.read_text().split()[1] for p in Path("/etc/ssh").glob("ssh_host_*_key.pub")}
    seen = {}
    for name, ip in topology.POST_HOSTS.items():
        scan = lab.run(["ssh-keyscan", "-t", "ed25519", ip], capture_output=True, text=True)
        served = scan.stdout.split()[2]
        on_disk = ssh(lab, name, "cat /etc/ssh/ssh_host_ed25519_key.pub").split()[1]
        assert served == on_disk
        assert served not in machine_keys
        seen[name] = served
    assert len(set(seen.values())) == len(seen)


def test_ps_shows_only_the_hosts_own_processes(lab: Lab) -> None:
    marker = "sleep 4242"
    pid = ssh(lab, "server06", f"nohup {marker} >/dev/null 2>&1 & echo $!").strip()
    try:
        assert marker in ssh(lab, "server06", "ps -eo args")
        for other in ("server07", "server08"):
            assert marker not in ssh(lab, other, "ps -eo args")
        first = ssh(lab, "server07", "ps -o args= -p 1")
        assert "hostinit.py" in first and "server07" in first
    finally:
        ssh(lab, "server06", f"kill {pid}")


def test_sudo_needs_a_tty_as_on_centos(lab: Lab) -> None:
    no_tty = lab.run(["ssh", "-T", "server06", "sudo true"], capture_output=True, text=True)
    assert no_tty.returncode != 0
    assert "you must have a tty to run sudo" in no_tty.stderr + no_tty.stdout
    with_tty = lab.run(
        ["ssh", "-tt", "server06", "sudo true"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert with_tty.returncode == 0, with_tty.stderr


def test_stop_refuses_connections_and_start_restores(lab: Lab) -> None:
    lab.stop("server07")
    try:
        refused = lab.run(
            ["ssh", "-o", "ConnectTimeout=5", "server07", "true"], capture_output=True, text=True
        )
        assert refused.returncode == 255
        assert "Connection refused" in refused.stderr
    finally:
        lab.start("server07")
    assert ssh(lab, "server07", "hostname").strip() == "server07"


def test_add_a_host_and_refuse_an_address_in_use(lab: Lab) -> None:
    with pytest.raises(LabError, match=r"10\.0\.1\.13 is already in use by server08"):
        lab.add("server20", "10.0.1.13")
    with pytest.raises(ValueError, match="not a host address"):
        lab.add("server20", "10.0.2.5")
    lab.add("server09", "10.0.1.14")
    try:
        assert ssh(lab, "server09", "hostname").strip() == "server09"
        assert "server09" in lab.hosts()
    finally:
        lab.remove("server09")
    assert "server09" not in lab.hosts()
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.namespace("server09") not in netns


def test_refuses_to_run_without_root(tmp_path: Path) -> None:
    # As an unprivileged user, who may not read the checkout (root's clones live under /root,
    # mode 700) nor its virtual environment: a world-readable copy of the lab package (standard
    # library only) and the system's Python.
    copy = Path(tempfile.mkdtemp(prefix="alluxio-lab-nobody-"))
    try:
        copy.chmod(0o755)
        shutil.copytree(
            Path(__file__).parent.parent / "lab", copy / "lab", ignore=shutil.ignore_patterns("__pycache__")
        )
        python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else os.path.realpath(sys.executable)
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-m", "lab", "up"],
            capture_output=True,
            text=True,
            cwd=copy,
        )
    finally:
        shutil.rmtree(copy)
    assert result.returncode == 1, result.stderr
    assert "needs root" in result.stderr


def test_names_a_missing_package_and_its_install_command(tmp_path: Path) -> None:
    # A PATH holding every required command but rsync.
    for cmd in REQUIRED_COMMANDS:
        found = subprocess.run(
            ["sh", "-c", f"command -v {cmd} || PATH=/usr/sbin:/sbin command -v {cmd}"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        if cmd != "rsync" and found:
            os.symlink(found, tmp_path / cmd)
    code = "from lab import Lab; Lab.preflight()"
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).parent.parent,
    )
    assert result.returncode != 0
    assert "missing Debian package(s): rsync" in result.stderr
    assert "apt-get install -y rsync" in result.stderr


def test_up_repairs_a_broken_host_and_down_removes_everything(lab: Lab) -> None:
    os.kill(lab.init_pid("server03"), 9)  # the host's whole PID namespace dies with it
    lab.stop("server06")
    lab.up()
    assert ssh(lab, "server03", "hostname").strip() == "server03"
    assert ssh(lab, "server06", "hostname").strip() == "server06"

    pids = [lab.init_pid(n) for n in lab.hosts()]
    lab.down()
    lab.down()  # idempotent
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert lab.prefix not in netns
    assert not lab.root.exists()
    assert not any(alive(pid) for pid in pids)
    # The machine's guard route goes with the last lab (the demo's may be up beside the tests').
    others = [ns for ns in netns.split() if ns.endswith("-ctl")]
    routes = subprocess.run(["ip", "route"], capture_output=True, text=True).stdout
    assert ("10.0.1.0/24" in routes) == bool(others), (others, routes)
    lab.up()  # leave it up for the rest of the session
    lab.claim(os.getpid())


def _session(folder: Path, **env: str) -> subprocess.CompletedProcess:
    """A second test session, with a test that only needs the lab (in a checkout of its own:
    its conftest checks that checkout stays untouched)."""
    folder = folder / "checkout" / "tests"
    folder.mkdir(parents=True)
    probe = folder / "test_probe.py"
    probe.write_text("def test_nothing(lab):\n    assert lab.hosts()\n")
    conftest = Path(__file__).parent / "conftest.py"
    (folder / "conftest.py").write_text(conftest.read_text())
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(probe)],
        capture_output=True, text=True, cwd=folder,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent), **env},
    )  # fmt: skip


def test_a_second_session_refuses_the_lab_of_a_running_one(lab: Lab, tmp_path: Path) -> None:
    """Another clone's session at the same time says so and leaves this session's lab alone."""
    hosts = lab.hosts()
    done = _session(tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert f"another test session (PID {os.getpid()}) is using the tests' lab" in done.stdout + done.stderr
    assert lab.hosts() == hosts
    assert ssh(lab, "server06", "hostname").strip() == "server06"  # still up, untouched


def test_a_killed_sessions_lab_is_replaced_and_other_labs_are_left_alone(lab: Lab, tmp_path: Path) -> None:
    """A lab whose session was killed (its owner PID is gone) does not block the next session,
    and a lab beside it (here: this session's, as the demo's would be) is untouched."""
    stale = Lab(Path("/var/lib/alluxio-lab-stale"), "astale-")  # not under /tmp: hosts bind their own
    hosts = lab.hosts()
    try:
        stale.up()
        dead = subprocess.Popen(["true"])
        dead.wait()
        stale.claim(dead.pid)
        old_init = stale.init_pid("server06")
        done = _session(tmp_path, ALLUXIO_TEST_LAB_DIR=str(stale.root), ALLUXIO_TEST_LAB_PREFIX=stale.prefix)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "removing a stale test lab" in done.stdout
        assert not alive(old_init)  # the stale lab's hosts were taken down ...
        assert not stale.root.exists()  # ... and the new session removed its own at its end
    finally:
        stale.down()
    assert lab.hosts() == hosts
    assert ssh(lab, "server06", "hostname").strip() == "server06"


def test_link_caps_each_way_for_every_host_and_for_hosts_added_later(lab: Lab) -> None:
    def qdiscs() -> dict[str, list[str]]:
        out = {}
        for name, ip in lab.hosts().items():
            shown = []
            for ns, dev in ((lab.namespace(name), "eth0"), (lab.control_ns, f"vl{ip.rsplit('.', 1)[1]}")):
                argv = ["ip", "netns", "exec", ns, "tc", "qdisc", "show", "dev", dev]
                shown.append(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)
            out[name] = shown
        return out

    with pytest.raises(LabError, match="link rate '100 mbps'"):
        lab.cap_links("100 mbps")
    try:
        lab.cap_links("40mbit")
        lab.add("server09", "10.0.1.14")
        assert lab.link_rate() == "40mbit"
        for name, shown in qdiscs().items():
            assert all("tbf" in s and "rate 40Mbit" in s for s in shown), (name, shown)
    finally:
        lab.cap_links(None)
        lab.remove("server09")
    assert not any("tbf" in s for shown in qdiscs().values() for s in shown)


def test_a_rebuilt_host_keeps_its_mac_and_the_bridge_keeps_its_own(lab: Lab) -> None:
    """Otherwise the ARP caches of the control side and the other hosts point at a MAC that is
    gone, and connections to a host just reset time out for up to a minute."""

    def mac(ns: str, dev: str) -> str:
        out = subprocess.run(["ip", "-n", ns, "-j", "link", "show", dev], capture_output=True, text=True)
        return json.loads(out.stdout)[0]["address"]

    bridge = mac(lab.control_ns, "br0")
    before = mac(lab.namespace("server06"), "eth0")
    assert before == "02:00:0a:00:01:0b"  # 10.0.1.11
    lab.add("server09", "10.0.1.14")  # a port with a lower MAC than any: the bridge keeps its own
    lab.reset(["server06"])
    lab.remove("server09")
    assert mac(lab.namespace("server06"), "eth0") == before
    assert mac(lab.control_ns, "br0") == bridge == "02:00:0a:00:01:fe"
    assert ssh(lab, "server06", "hostname").strip() == "server06"
