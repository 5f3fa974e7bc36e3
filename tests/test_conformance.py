"""The demo releases against the real ones: a table written from the published interface of
Alluxio 1.2.0 and 1.3.0 (layout and modes, each script's arguments with its exact messages and
exit codes, task.log's line shapes, the REST paths and fields, the daemons' main classes),
checked against the built demo release, in the lab where behaviour needs hosts.

The demo release is the judge of everything this project claims about the real one; this
table is what keeps the two from drifting apart again.
"""

from __future__ import annotations

import json
import re
import shlex
import tarfile
from pathlib import Path

import pytest

from bench import baseline
from demo_release import RELEASES, VERSIONS, build
from lab import Lab
from tests.labutil import MASTER, POST_WORKERS, fetch, http_status, ssh, wait_until

# ----- the reference, as tables ----------------------------------------------------------------
# Release layout (git mode); jars and web resources are stand-ins, so only their place is fixed.
LAYOUT = {
    "bin/alluxio": "755",
    "bin/alluxio-fuse.sh": "755",
    "bin/alluxio-mount.sh": "755",
    "bin/alluxio-start.sh": "755",
    "bin/alluxio-stop.sh": "755",
    "bin/alluxio-workers.sh": "755",
    "conf/alluxio-env.sh.template": "644",
    "conf/alluxio-site.properties.template": "644",
    "conf/core-site.xml.template": "644",
    "conf/log4j.properties": "644",
    "conf/metrics.properties.template": "644",
    "conf/workers": "644",
    "libexec/alluxio-config.sh": "755",
    "libexec/alluxio-layout.sh.template": "755",
    "logs/README.md": "644",
}
EXACT_SIZES = {"conf/workers": 587, "logs/README.md": 37}  # identical in every tag
NOT_SHIPPED = ("conf/alluxio-env.sh", "conf/alluxio-site.properties")
JAR = "assembly/target/alluxio-assemblies-{v}-jar-with-dependencies.jar"
WEBAPP = "core/server/src/main/webapp"

START_USAGE = [
    "Usage: alluxio-start.sh [-hNw] ACTION [MOPT] [-f]",
    "Where ACTION is one of:",
    "  all [MOPT]     \tStart master and all workers.",
    "  local [MOPT]   \tStart a master and worker locally.",
    "  master         \tStart the master on this node.",
    "  safe           \tScript will run continuously and start the master if it's not running.",
    "  worker [MOPT]  \tStart a worker on this node.",
    "  workers [MOPT] \tStart workers on worker nodes.",
    "  restart_worker \tRestart a failed worker on this node.",
    "  restart_workers\tRestart any failed workers on worker nodes.",
    "MOPT (Mount Option) is one of:",
    "  Mount    \tMount the configured RamFS. Notice: this will format the existing RamFS.",
    "  SudoMount\tMount the configured RamFS using sudo.",
    "           \tNotice: this will format the existing RamFS.",
    "  NoMount  \tDo not mount the configured RamFS.",
    "           \tNotice: Use NoMount (Linux only) to use tmpFS to avoid sudo requirement.",
    "  SudoMount is assumed if MOPT is specified.",
    "",
    "-f  format Journal, UnderFS Data and Workers Folder on master",
    "-N  do not try to kill prior running masters and/or workers in all or local",
    "-w  wait for processes to end before returning",
    "-h  display this help.",
]
STOP_USAGE = [
    "Usage: alluxio-stop.sh [-h] [component]",
    "Where component is one of:",
    "  all\t\t\tStop local master/worker and remote workers. Default.",
    "  master\t\tStop local master.",
    "  worker\t\tStop local worker.",
    "  workers\t\tStop local worker and all remote workers.",
    "",
    "-h  display this help.",
]
ALLUXIO_USAGE = ["Usage: alluxio COMMAND [GENERIC_COMMAND_OPTIONS] [COMMAND_ARGS]"]
HOME = "/opt/alluxio-{v}"  # where the cases run, in a lab host
# script, arguments -> exit code, stream, the lines it must start with ({home}: the release
# folder; a line ending in "…" is a prefix: 1.2.0 lists the under storages after it)
CASES: dict[str, tuple[str, list[str], int, str, list[str]]] = {
    "start -h: usage on stdout": ("alluxio-start.sh", ["-h"], 0, "stdout", START_USAGE),
    "start without ACTION": ("alluxio-start.sh", [], 1, "stderr", ["Error: no ACTION specified", *START_USAGE]),
    "start -f before ACTION: getopts refuses": ("alluxio-start.sh", ["-f", "all"], 1, "stderr", ["{home}/bin/alluxio-start.sh: illegal option -- f", *START_USAGE]),
    "start all -N: options only before ACTION": ("alluxio-start.sh", ["all", "-N"], 1, "stderr", ["Invalid mount mode: -N", *START_USAGE]),
    "start all with a bad MOPT": ("alluxio-start.sh", ["all", "Sudo"], 1, "stderr", ["Invalid mount mode: Sudo", *START_USAGE]),
    "start master Mount: master takes no MOPT": ("alluxio-start.sh", ["master", "Mount"], 1, "stderr", START_USAGE),
    "start bogus foo: usage only": ("alluxio-start.sh", ["bogus", "foo"], 1, "stderr", START_USAGE),
    "start bogus": ("alluxio-start.sh", ["bogus"], 1, "stderr", ["Error: Invalid ACTION: bogus", *START_USAGE]),
    "start proxy: no proxy before 1.4.0": ("alluxio-start.sh", ["proxy"], 1, "stderr", ["Error: Invalid ACTION: proxy"]),
    "stop without argument: usage, stops nothing": ("alluxio-stop.sh", [], 0, "stdout", STOP_USAGE),
    "stop -h": ("alluxio-stop.sh", ["-h"], 0, "stdout", STOP_USAGE),
    "stop local: no such component before 1.4.0": ("alluxio-stop.sh", ["local"], 1, "stderr", ["Error: Invalid component: local", *STOP_USAGE]),
    "stop proxies": ("alluxio-stop.sh", ["proxies"], 1, "stderr", ["Error: Invalid component: proxies"]),
    "stop master with none running": ("alluxio-stop.sh", ["master"], 0, "stdout", ["Killed 0 processes on server03"]),
    "stop worker with none running": ("alluxio-stop.sh", ["worker"], 0, "stdout", ["Killed 0 processes on server03"]),
    "alluxio without command": ("alluxio", [], 1, "stdout", ALLUXIO_USAGE),
    "alluxio bogus": ("alluxio", ["bogus"], 1, "stderr", ["Unsupported command bogus"]),
    "alluxio getConf: only from 1.4.0": ("alluxio", ["getConf"], 1, "stderr", ["Unsupported command getConf"]),
    "alluxio version": ("alluxio", ["version"], 0, "stdout", ["{version_line}"]),
    "alluxio killAll without WORD": ("alluxio", ["killAll"], 0, "stdout", ["Usage: alluxio killAll <WORD>"]),
    "alluxio killAll of nothing": ("alluxio", ["killAll", "alluxio.nothing.Here"], 0, "stdout", ["Killed 0 processes on server03"]),
    "alluxio copyDir without PATH": ("alluxio", ["copyDir"], 1, "stderr", ["Usage: alluxio copyDir <path>"]),
    "alluxio format with a bad argument": ("alluxio", ["format", "-x"], 2, "stdout", ["{{Usage}} {home}/bin/alluxio format [-s]"]),
    "alluxio format with two arguments": ("alluxio", ["format", "-s", "-x"], 2, "stdout", [" {home}/bin/alluxio format [-s]"]),
    "alluxio format -s with a remote under storage does nothing": ("alluxio", ["format", "-s"], 0, "stdout", []),
    "alluxio bootstrapConf without host": ("alluxio", ["bootstrapConf"], 1, "stderr", ["Usage: {home}/bin/alluxio bootstrapConf <alluxio_master_hostname>…"]),
    "alluxio bootstrapConf with alluxio-env.sh present": ("alluxio", ["bootstrapConf", "server08"], 0, "stdout", ["{home}/bin/../conf/alluxio-env.sh already exists"]),
    "workers.sh without command": ("alluxio-workers.sh", [], 1, "stderr", ["Usage: alluxio-workers.sh command..."]),
    "mount.sh without MOPT": ("alluxio-mount.sh", [], 1, "stderr", ["Usage: alluxio-mount.sh [Mount|SudoMount] [MACHINE]"]),
    "mount.sh NoMount": ("alluxio-mount.sh", ["NoMount"], 1, "stderr", ["Usage: alluxio-mount.sh [Mount|SudoMount] [MACHINE]"]),
    "mount.sh on another machine does nothing": ("alluxio-mount.sh", ["Mount", "elsewhere"], 0, "stdout", []),
}  # fmt: skip
MISSING_ENV = [
    "Cannot find {home}/conf/alluxio-env.sh. To proceed, you can",
    "(1) create one based on the provided template file {home}/conf/alluxio-env.sh.template, or",
    "(2) use a bootstraping tool by running: {home}/bin/alluxio bootstrapConf",
]
# without conf/alluxio-env.sh every script refuses (1.2.0, 1.3.0), -h and the kills included
NO_ENV_CASES = {
    "version": ("alluxio", ["version"]),
    "start -h": ("alluxio-start.sh", ["-h"]),
    "workers.sh": ("alluxio-workers.sh", ["true"]),
    "killAll": ("alluxio", ["killAll", "x"]),
}
VERSION_LINE = {"1.2.0": "Alluxio version: 1.2.0", "1.3.0": "1.3.0"}
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}$")
CONNECTING = re.compile(r"^   INFO (MASTER|WORKERS)  Connecting to (\S+) as root\.\.\.$")
WORKER_INFO_FIELDS = {"id", "address", "lastContactSec", "state", "capacityBytes", "usedBytes", "startTimeMs"}
ADDRESS_FIELDS = {"host", "rpcPort", "dataPort", "webPort"}
REST = "/v1/api/master"
STRING_ENDPOINTS = ("version", "rpc_address")
NUMBER_ENDPOINTS = (
    "worker_count",
    "capacity_bytes",
    "used_bytes",
    "free_bytes",
    "start_time_ms",
    "uptime_ms",
)


def expand(lines: list[str], version: str) -> list[str]:
    home = HOME.format(v=version)
    return [line.format(home=home, version_line=VERSION_LINE[version]) for line in lines]


# ----- the tarball ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tarballs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("releases")
    return {v: build(folder, version=v) for v in VERSIONS}


@pytest.mark.parametrize("version", VERSIONS)
def test_layout_and_modes_are_the_releases(version: str, tarballs: dict[str, Path]) -> None:
    top = f"alluxio-{version}"
    with tarfile.open(tarballs[version]) as tar:
        members = {m.name: m for m in tar.getmembers()}
        sizes = {p: members[f"{top}/{p}"].size for p in EXACT_SIZES}
        workers = tar.extractfile(f"{top}/conf/workers").read().decode()  # type: ignore[union-attr]
        readme = tar.extractfile(f"{top}/logs/README.md").read().decode()  # type: ignore[union-attr]
    assert {n.split("/", 1)[0] for n in members} == {top}
    shipped = {n.split("/", 1)[1]: f"{m.mode & 0o7777:o}" for n, m in members.items() if m.isfile()}
    for path, mode in LAYOUT.items():
        assert shipped.get(path) == mode, path
    assert JAR.format(v=version) in shipped and f"{WEBAPP}/index.html" in shipped
    assert (f"{WEBAPP}/WEB-INF/master.xml" in shipped) == (version == "1.2.0")  # 1.2.0 maps REST there
    assert not set(NOT_SHIPPED) & set(shipped)
    assert sizes == EXACT_SIZES
    assert readme == "This directory contains Alluxio logs\n"
    lines = workers.splitlines()
    assert all(line.startswith("#") for line in lines[:10]) and lines[10:] == [
        "",
        "# An Alluxio Worker will be started on each of the machines listed below.",
        "localhost",
    ]
    assert {m.uid for m in members.values()} == {1000}  # hence the post's chown -R root:root


@pytest.mark.parametrize("version", VERSIONS)
def test_the_launcher_line_is_the_releases(version: str, tarballs: dict[str, Path]) -> None:
    with tarfile.open(tarballs[version]) as tar:
        text = tar.extractfile(f"alluxio-{version}/bin/alluxio-workers.sh").read().decode()  # type: ignore[union-attr]
    flag = "-t" if version == "1.2.0" else "-tt"  # PR #3630, first released in 1.3.0
    line = f"  nohup ssh -o ConnectTimeout=5 -o StrictHostKeyChecking=no {flag} ${{worker}} ${{LAUNCHER}} \\"
    lines = text.splitlines()
    at = lines.index(line)
    loop = max(i for i in range(at) if lines[i].startswith("for worker in $(echo ${HOSTLIST}); do"))
    assert at - loop <= 4 and "done" not in lines[loop + 1 : at]


def test_builds_are_reproducible_and_padding_sets_the_size(tmp_path: Path) -> None:
    a, b = build(tmp_path / "a"), build(tmp_path / "b")
    assert a.read_bytes() == b.read_bytes()
    padded = build(tmp_path / "p", pad_mb=3)
    assert 3 * 1024 * 1024 < padded.stat().st_size - a.stat().st_size < 3.1 * 1024 * 1024
    assert RELEASES["1.2.0"].tarball == "alluxio-1.2.0-cdh5-bin.tar.gz"  # the post's


# ----- each script's arguments, in a lab host -----------------------------------------------------
@pytest.fixture
def scripts_host(lab: Lab, tarballs: dict[str, Path]) -> str:
    """server03 (the namenode: no deploy touches it) with every release extracted in /opt, one
    copy configured (an alluxio-env.sh with a remote under storage) and one without; set up
    again whenever another test rebuilt the host."""
    name = "server03"
    ready = " && ".join(
        f"[ -f /opt/alluxio-{v}/conf/alluxio-env.sh ] && [ -d /opt/noenv/alluxio-{v} ]" for v in tarballs
    )
    if lab.exec(name, ["sh", "-c", ready]).returncode == 0:
        return name
    lab.reset([name])
    opt = lab.host_dir(name) / "opt"
    steps = []
    for version, tarball in tarballs.items():
        (opt / tarball.name).write_bytes(tarball.read_bytes())
        release = f"alluxio-{version}"
        steps += [
            f"tar -xzf /opt/{tarball.name} -C /opt",
            f"mkdir -p /opt/noenv && tar -xzf /opt/{tarball.name} -C /opt/noenv",
            f"printf 'ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio\\n' > /opt/{release}/conf/alluxio-env.sh",
        ]
    lab.exec(name, ["sh", "-c", " && ".join(steps)], check=True)
    return name


def run_script(
    lab: Lab, host: str, home: str, script: str, args: list[str]
) -> tuple[int, list[str], list[str]]:
    command = " ".join(shlex.quote(a) for a in [f"{home}/bin/{script}", *args])
    done = lab.exec(host, ["bash", "-c", command])
    return done.returncode, done.stdout.splitlines(), done.stderr.splitlines()


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("version", VERSIONS)
def test_script_arguments_messages_and_exit_codes(
    lab: Lab, scripts_host: str, version: str, case: str
) -> None:
    script, args, code, stream, lines = CASES[case]
    home = HOME.format(v=version)
    got_code, stdout, stderr = run_script(lab, scripts_host, home, script, args)
    if script == "alluxio-start.sh" and version == "1.3.0":
        assert stdout[:1] == [f"{home}/bin"]  # 1.3.0's start script prints its bin folder first
        stdout = stdout[1:]
    got = stdout if stream == "stdout" else stderr
    want = expand(lines, version)
    got = [g[: len(w) - 1] + "…" if w.endswith("…") else g for g, w in zip(got, want, strict=False)] + got[
        len(want) :
    ]
    assert (got_code, got[: len(want)]) == (code, want), (stdout, stderr)
    if not want:
        assert got == []


@pytest.mark.parametrize("case", list(NO_ENV_CASES))
@pytest.mark.parametrize("version", VERSIONS)
def test_every_script_refuses_without_alluxio_env(
    lab: Lab, scripts_host: str, version: str, case: str
) -> None:
    script, args = NO_ENV_CASES[case]
    home = f"/opt/noenv/alluxio-{version}"
    code, _, stderr = run_script(lab, scripts_host, home, script, args)
    assert code == 1
    assert stderr[:3] == [line.format(home=home) for line in MISSING_ENV]


@pytest.mark.parametrize("version", VERSIONS)
def test_java_is_fixed_before_alluxio_env_is_read(lab: Lab, scripts_host: str, version: str) -> None:
    """JAVA_HOME in alluxio-env.sh is too late; JAVA there wins (Alluxio #4459, #12250)."""
    home = HOME.format(v=version)
    env = f"{home}/conf/alluxio-env.sh"
    show = f". {home}/libexec/alluxio-config.sh; echo $JAVA"
    lab.exec(
        scripts_host, ["sh", "-c", f"cp {env} {env}.keep && echo JAVA_HOME=/opt/jdk >> {env}"], check=True
    )
    try:
        assert lab.exec(scripts_host, ["bash", "-c", show]).stdout.strip() == "/usr/bin/../bin/java"
        lab.exec(scripts_host, ["sh", "-c", f"echo JAVA=/opt/jdk/bin/java >> {env}"], check=True)
        assert lab.exec(scripts_host, ["bash", "-c", show]).stdout.strip() == "/opt/jdk/bin/java"
    finally:
        lab.exec(scripts_host, ["sh", "-c", f"mv {env}.keep {env}"], check=True)


# ----- behaviour, on the post's cluster built by hand ------------------------------------------------
@pytest.fixture(scope="module", params=VERSIONS)
def by_hand(request: pytest.FixtureRequest, lab: Lab, tarballs: dict[str, Path]) -> tuple[str, str]:
    """The post's procedure on bare hosts with the launcher patch: (version, task.log)."""
    version = request.param
    lab.reset()
    log = baseline.post_by_hand(lab, tarballs[version], MASTER, list(POST_WORKERS), version=version)
    return version, log


def test_task_log_lines_are_the_releases(by_hand: tuple[str, str]) -> None:
    version, log = by_hand
    lines = [line.rstrip("\r") for line in log.splitlines()]
    headers = [(i, m) for i, line in enumerate(lines) if (m := CONNECTING.match(line))]
    assert headers
    for i, _ in headers:  # each header follows its timestamp line
        assert TIMESTAMP.match(lines[i - 1]), lines[i - 1]
    # format's formatWorker and the start are MASTER; only stop's remote worker kill is WORKERS
    labels = [m.group(1) for _, m in headers]
    assert labels == ["MASTER"] * 3 + ["WORKERS"] * 3 + ["MASTER"] * 3
    assert {m.group(2) for _, m in headers} == set(POST_WORKERS)
    home = HOME.format(v=version)
    for worker in POST_WORKERS:  # the remote output as is: no host prefix
        assert f"Starting worker @ {worker}. Logging to {home}/logs" in lines
        assert f"Formatting Alluxio Worker @ {worker}" in lines
        assert f"Killed 0 processes on {worker}" in lines
    assert not any(line.startswith("[") for line in lines)
    if version == "1.3.0":  # the remote start prints its bin folder first
        assert lines.count(f"{home}/bin") == 3


def test_rest_paths_and_fields_are_the_releases(lab: Lab, by_hand: tuple[str, str]) -> None:
    version, _ = by_hand
    base = f"http://{MASTER}:19999"
    wait_until(lambda: json.loads(fetch(lab, f"{base}{REST}/worker_count")) == 3, "3 workers counted")
    infos = json.loads(fetch(lab, f"{base}{REST}/worker_info_list"))
    assert {w["address"]["host"] for w in infos} == set(POST_WORKERS)
    for w in infos:
        assert set(w) == WORKER_INFO_FIELDS and set(w["address"]) == ADDRESS_FIELDS
        assert w["state"] == "In Service" and w["lastContactSec"] <= 2
        assert (w["address"]["rpcPort"], w["address"]["dataPort"], w["address"]["webPort"]) == (
            29998,
            29999,
            30000,
        )
    assert sorted(w["id"] for w in infos) == [1, 2, 3]  # sequential in 1.2.0 and 1.3.0
    assert fetch(lab, f"{base}{REST}/version").strip() == json.dumps(version)
    for endpoint in STRING_ENDPOINTS:
        assert fetch(lab, f"{base}{REST}/{endpoint}").strip().startswith('"')
    for endpoint in NUMBER_ENDPOINTS:
        assert re.fullmatch(r"-?\d+", fetch(lab, f"{base}{REST}/{endpoint}").strip()), endpoint
    assert http_status(lab, f"{base}/api/v1/master/worker_count") == 404  # /api/v1 arrives in 1.4.0
    home = fetch(lab, f"{base}/home")
    for label in (
        "Master Address:",
        "Started:",
        "Uptime:",
        "Version:",
        "Running Workers:",
        "Workers Capacity:",
    ):
        assert label in home
    workers = fetch(lab, f"{base}/workers")
    assert "Live Workers" in workers and "Lost Workers" in workers
    assert 'url=home"' in fetch(lab, f"{base}/")


def test_daemons_are_jvms_of_the_main_classes(lab: Lab, by_hand: tuple[str, str]) -> None:
    version, _ = by_hand
    for host in POST_WORKERS:
        ps = ssh(lab, host, "ps -eo args")
        jvms = [line for line in ps.splitlines() if "java" in line.lower() and " -cp " in line]
        classes = sorted(line.split()[-1] for line in jvms)
        want = ["alluxio.worker.AlluxioWorker"] + (["alluxio.master.AlluxioMaster"] if host == MASTER else [])
        assert classes == sorted(want), ps
        assert all(f"-Dalluxio.home=/opt/alluxio-{version}" in line for line in jvms)
    journal = ssh(lab, MASTER, f"ls /opt/alluxio-{version}/journal").split()
    assert {"BlockMaster", "FileSystemMaster", "LineageMaster"} <= set(journal)
    assert any(re.fullmatch(r"_format_\d{13}", name) for name in journal)


def test_a_silent_worker_stays_listed_until_the_master_times_it_out(
    lab: Lab, by_hand: tuple[str, str]
) -> None:
    """A 1.x master lists a worker that stopped heartbeating for alluxio.master.worker.timeout.ms."""
    base = f"http://{MASTER}:19999{REST}"
    pid = ssh(lab, "server07", "pgrep -f alluxio.worker.AlluxioWorker").split()[0]
    ssh(lab, "server07", f"kill -STOP {pid}")
    try:

        def silent() -> int:
            infos = json.loads(fetch(lab, f"{base}/worker_info_list"))
            return next(w["lastContactSec"] for w in infos if w["address"]["host"] == "server07")

        wait_until(lambda: silent() >= 4, "server07 silent for 4 s yet still listed")
        assert json.loads(fetch(lab, f"{base}/worker_count")) == 3
    finally:
        ssh(lab, "server07", f"kill -CONT {pid}")
    wait_until(lambda: silent() <= 1, "server07 heard from again")


def test_a_worker_adopts_its_blocks_unless_its_start_remounts_the_folder(
    lab: Lab, by_hand: tuple[str, str]
) -> None:
    """Section 11.2: on start a worker adopts the files of its RAM folder named by a block id
    (their bytes are its used bytes on the master) and deletes everything else there;
    ``Mount`` (and ``SudoMount``) re-mounts the folder empty first, ``NoMount`` keeps it."""
    version, _ = by_hand
    home, worker, blocks = HOME.format(v=version), "server07", "/mnt/ramdisk/alluxioworker"
    base = f"http://{MASTER}:19999{REST}"

    def used() -> int | None:
        infos = json.loads(fetch(lab, f"{base}/worker_info_list"))
        return next(
            (w["usedBytes"] for w in infos if w["address"]["host"] == worker and w["lastContactSec"] < 2),
            None,
        )

    ssh(
        lab,
        worker,
        f"head -c 5000 /dev/zero > {blocks}/77; echo x > {blocks}/not-a-block; mkdir -p {blocks}/sub",
    )
    restart = f"{home}/bin/alluxio-stop.sh worker; ALLUXIO_RAM_FOLDER=/mnt/ramdisk {home}/bin/alluxio-start.sh worker"
    ssh(lab, worker, f"{restart} NoMount")
    wait_until(lambda: used() == 5000, f"{worker} reporting its adopted block")
    assert ssh(lab, worker, f"ls {blocks}").split() == ["77"]
    assert "Formatting RamFS" in ssh(lab, worker, f"{restart} Mount")  # SudoMount's, as root (no tty here)
    wait_until(lambda: used() == 0, f"{worker} with an empty cache")
    assert ssh(lab, worker, f"ls -A {blocks}").strip() == ""


def test_site_properties_load_as_the_releases_load_them(lab: Lab, by_hand: tuple[str, str]) -> None:
    """Section 7.4 and ``Configuration.java`` at each tag: defaults < the first site file found
    (``/etc/alluxio/``, then ``conf/``; ``~/.alluxio/`` is never searched, its ``${user.home}``
    left unsubstituted) < ``-D``; an unknown ``alluxio.*`` key stops a 1.2.0 daemon and is
    dropped by 1.3.0."""
    version, _ = by_hand
    home, key = HOME.format(v=version), "alluxio.master.worker.timeout.ms"
    base = f"http://{MASTER}:19999{REST}"

    def restart(env: str = "") -> None:
        ssh(
            lab,
            MASTER,
            f"{home}/bin/alluxio-stop.sh master; : > {home}/logs/master.log; {env} {home}/bin/alluxio-start.sh master",
        )

    def timeout() -> str:
        restart_seen = wait_until(
            lambda: json.loads(fetch(lab, f"{base}/configuration")), "the master serving"
        )
        return restart_seen.get(key)

    def site(path: str, value: str) -> None:
        ssh(lab, MASTER, f"mkdir -p $(dirname {path}) && echo {key}={value} > {path}")

    try:
        site(f"{home}/conf/alluxio-site.properties", "111111")
        restart()
        assert timeout() == "111111"
        site("/root/.alluxio/alluxio-site.properties", "222222")
        restart()
        assert timeout() == "111111"
        site("/etc/alluxio/alluxio-site.properties", "333333")
        restart()
        assert timeout() == "333333"
        restart(f"ALLUXIO_MASTER_JAVA_OPTS=-D{key}=444444")
        assert timeout() == "444444"
        ssh(lab, MASTER, "echo alluxio.master.worker.timout.ms=1 >> /etc/alluxio/alluxio-site.properties")
        restart()
        if version == "1.2.0":
            log = f"cat {home}/logs/master.log"
            wait_until(lambda: "Invalid configuration found" in ssh(lab, MASTER, log), "the master's refusal")
            assert "Unsupported or deprecated property alluxio.master.worker.timout.ms" in ssh(
                lab, MASTER, log
            )
            # by its class: the worker on this host names alluxio.master.hostname in its options
            gone = "pgrep -f '[.]master[.]AlluxioMaster' || true"
            assert wait_until(lambda: ssh(lab, MASTER, gone).strip() == "", "the master gone")
        else:
            assert timeout() == "333333"
            assert "alluxio.master.worker.timout.ms" not in json.loads(fetch(lab, f"{base}/configuration"))
    finally:
        ssh(lab, MASTER, f"rm -rf /etc/alluxio /root/.alluxio {home}/conf/alluxio-site.properties")
        restart()
        wait_until(lambda: json.loads(fetch(lab, f"{base}/configuration")), "the master serving again")


def test_stop_all_kills_every_daemon_and_start_workers_is_broken(lab: Lab, by_hand: tuple[str, str]) -> None:
    version, _ = by_hand
    home = HOME.format(v=version)
    out = ssh(lab, MASTER, f"{home}/bin/alluxio-stop.sh all")
    assert f"Killed 1 processes on {MASTER}" in out
    assert f"All WORKERS tasks finished, please analyze the log at {home}/logs/task.log." in out
    for host in POST_WORKERS:
        assert wait_until(lambda h=host: "java" not in ssh(lab, h, "ps -eo comm"), f"no JVM left on {host}")
    # `start workers` hands the master's host name to each worker as FORMAT: none starts (1.2.0, 1.3.0)
    before = len(ssh(lab, MASTER, f"cat {home}/logs/task.log").splitlines())
    ssh(lab, MASTER, f"{home}/bin/alluxio-start.sh workers")  # returns once every ssh has
    after = ssh(lab, MASTER, f"cat {home}/logs/task.log").splitlines()[before:]
    assert any(line.rstrip("\r").startswith(START_USAGE[0]) for line in after)
    for host in POST_WORKERS:
        assert "alluxio.worker" not in ssh(lab, host, "ps -eo args")


def test_the_master_refuses_an_unformatted_journal(lab: Lab, by_hand: tuple[str, str]) -> None:
    version, _ = by_hand
    home = HOME.format(v=version)
    ssh(lab, MASTER, f"{home}/bin/alluxio-stop.sh master; rm -rf {home}/journal; : > {home}/logs/master.out")
    ssh(lab, MASTER, f"{home}/bin/alluxio-start.sh master")
    out = f"{home}/logs/master.out"
    message = f"Alluxio master was not formatted! The journal folder is {home}/journal/"
    wait_until(lambda: message in ssh(lab, MASTER, f"cat {out}"), "the master's refusal in master.out")
    assert f'Exception in thread "main" java.lang.IllegalStateException: {message}' in ssh(
        lab, MASTER, f"cat {out}"
    )
    assert f"ERROR AlluxioMaster - {message}" in ssh(lab, MASTER, f"cat {home}/logs/master.log")
    assert wait_until(lambda: "alluxio.master" not in ssh(lab, MASTER, "ps -eo args"), "the master gone")


def test_without_the_launcher_patch_the_master_starts_but_no_worker(
    lab: Lab, tarballs: dict[str, Path]
) -> None:
    """Alluxio issue #3891, as the post met it on 1.2.0 under `Defaults requiretty`."""
    lab.reset()
    baseline.post_by_hand(lab, tarballs["1.2.0"], MASTER, list(POST_WORKERS), patch=False)
    # the launcher's ssh sessions run in the background: their lines reach task.log after start returns
    lines = wait_until(
        lambda: (
            (seen := ssh(lab, MASTER, "cat /opt/alluxio-1.2.0/logs/task.log").splitlines()).count(
                "Mount failed, not starting worker"
            )
            == 3
            and seen
        ),
        "every worker's lines in task.log",
        30,
    )
    assert lines.count("Pseudo-terminal will not be allocated because stdin is not a terminal.") >= 3
    # three sessions write task.log at once: a line may end up glued to another's
    assert "\n".join(lines).count("sudo: sorry, you must have a tty to run sudo") == 3, lines
    assert lines.count("Mount failed, not starting worker") == 3
    assert "Running Workers:</th><td>0<" in fetch(lab, f"http://{MASTER}:19999/home")
    for worker in POST_WORKERS:
        assert "alluxio.worker" not in ssh(lab, worker, "ps -eo args")
