"""Site properties and storage tiers as declared state (issue 19): the key tables read from the
releases' sources, what the model renders, and what it refuses before any host is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

import alluxio_site
from alluxio_site import BOTH, MASTER, WORKER, keys_of, readers_of
from cluster import InventoryError
from facts.conf import parse_properties
from tests.test_cluster import make

TWO_TIERS = [
    {"alias": "MEM", "dirs": ["/mnt/ramdisk"], "quotas": ["64MB"]},
    {"alias": "HDD", "dirs": ["/srv/alluxio/hdd1", "/srv/alluxio/hdd2"], "quotas": ["100MB", "200MB"]},
]


@pytest.mark.parametrize("version", ["1.2.0", "1.3.0"])
def test_the_key_tables_know_the_releases_keys_and_their_readers(version: str) -> None:
    keys = keys_of(version)
    assert len(keys) > 150, "the release's defaults list about 170 keys"
    assert keys["alluxio.master.port"].type == "port" and keys["alluxio.master.port"].default == "19998"
    timeout = {"1.2.0": "10000", "1.3.0": "60000"}[version]  # section 8.1
    assert keys["alluxio.worker.block.heartbeat.timeout.ms"].default == timeout
    # not by prefix: workers reach the master through its host name and port
    assert readers_of(version, "alluxio.master.hostname") == BOTH
    assert readers_of(version, "alluxio.master.port") == BOTH
    assert readers_of(version, "alluxio.master.worker.timeout.ms") == MASTER
    assert readers_of(version, "alluxio.worker.block.heartbeat.timeout.ms") == WORKER
    assert readers_of(version, "alluxio.worker.tieredstore.level1.dirs.quota") == WORKER
    assert alluxio_site.is_secret(version, "fs.s3n.awsSecretAccessKey")


def test_tiers_and_site_keys_render_to_the_properties_1x_reads(tarball: Path) -> None:
    c = make(
        tarball,
        data={
            "alluxio_tiers": TWO_TIERS,
            "alluxio_site": {
                "alluxio.worker.block.heartbeat.timeout.ms": 60000,
                "alluxio.user.file.writetype.default": "CACHE_THROUGH",
            },
        },
    )
    assert parse_properties(c.alluxio_site.encode()) == {
        "alluxio.worker.tieredstore.levels": "2",
        "alluxio.worker.tieredstore.level0.alias": "MEM",
        "alluxio.worker.tieredstore.level1.alias": "HDD",
        "alluxio.worker.tieredstore.level1.dirs.path": "/srv/alluxio/hdd1,/srv/alluxio/hdd2",
        "alluxio.worker.tieredstore.level1.dirs.quota": "100MB,200MB",
        "alluxio.worker.block.heartbeat.timeout.ms": "60000",
        "alluxio.user.file.writetype.default": "CACHE_THROUGH",
    }
    # level 0 arrives as the scripts' -D options, from the variables the tool writes
    assert c.env_settings["ALLUXIO_RAM_FOLDER"] == "/mnt/ramdisk"
    assert c.env_settings["ALLUXIO_WORKER_MEMORY_SIZE"] == "64MB"
    assert c.site_mode == "644"
    assert [d for _, d, _ in c.tier_dirs] == ["/srv/alluxio/hdd1", "/srv/alluxio/hdd2"]
    secret = make(tarball, data={"alluxio_site": {"fs.s3n.awsSecretAccessKey": "s3cr3t"}})
    assert secret.site_mode == "600"


def test_values_survive_the_properties_format() -> None:
    values = {
        "a.b": " leading space",
        "c": "x=y:z",
        "d": "back\\slash",
        "e": "é ü 😀",
        "f": "#not a comment",
        "g": "two\nlines\r",
    }
    assert parse_properties(alluxio_site.render(values).encode("latin-1")) == values


BAD_SITE = {
    "typo": (
        {"alluxio_site": {"alluxio.worker.block.heartbeat.timout.ms": "60000"}},
        "--data alluxio_site['alluxio.worker.block.heartbeat.timout.ms']: not a key of Alluxio 1.2.0 "
        "(did you mean 'alluxio.worker.block.heartbeat.timeout.ms'?)",
    ),
    "not a number": (
        {"alluxio_site": {"alluxio.master.worker.timeout.ms": "5 minutes"}},
        "alluxio_site['alluxio.master.worker.timeout.ms']='5 minutes': a whole number",
    ),
    "port out of range": (
        {"alluxio_site": {"alluxio.master.web.port": 70000}},
        "alluxio_site['alluxio.master.web.port']='70000': a port, 1 to 65535",
    ),
    "not a boolean": (
        {"alluxio_site": {"alluxio.worker.tieredstore.reserver.enabled": "yes"}},
        "'yes': true or false",
    ),
    "not a size": (
        {"alluxio_site": {"alluxio.user.block.size.bytes.default": "lots"}},
        "'lots': a size such as 512MB or 1GB",
    ),
    "the scripts pass it": (
        {"alluxio_site": {"alluxio.master.hostname": "server06"}},
        "alluxio_site['alluxio.master.hostname']: the scripts pass -Dalluxio.master.hostname",
    ),
    "the tool owns it": ({"alluxio_site": {"alluxio.home": "/srv"}}, "the scripts pass -Dalluxio.home"),
    "also a -D of alluxio_env": (
        {
            "alluxio_env": {"ALLUXIO_WORKER_JAVA_OPTS": "-Xmx1g -Dalluxio.worker.block.heartbeat.timeout.ms=5000"},
            "alluxio_site": {"alluxio.worker.block.heartbeat.timeout.ms": "60000"},
        },
        "alluxio_env's ALLUXIO_WORKER_JAVA_OPTS also sets -Dalluxio.worker.block.heartbeat.timeout.ms",
    ),
    "a tier key": (
        {"alluxio_site": {"alluxio.worker.tieredstore.level1.dirs.path": "/srv/x"}},
        "a storage tier's key; declare the tiers in alluxio_tiers",
    ),
    "the master's order of tiers": (
        {"alluxio_site": {"alluxio.master.tieredstore.global.level1.alias": "NVME"}},
        "another order is not supported",
    ),
    "deliberate key not declared": (
        {"alluxio_site": {}, "alluxio_site_deliberate": ["my.plugin.key"]},
        "alluxio_site_deliberate: 'my.plugin.key' is not in alluxio_site",
    ),
    "three paths two quotas": (
        {"alluxio_tiers": [{"alias": "MEM"}, {"alias": "HDD", "dirs": ["/a", "/b", "/c"], "quotas": ["1GB", "2GB"]}]},
        "--data alluxio_tiers[1]: 3 dirs and 2 quotas; give one quota per folder, in order",
    ),
    "two RAM folders": (
        {"alluxio_tiers": [{"alias": "MEM", "dirs": ["/mnt/ramdisk", "/home/hdd"], "quotas": ["1GB", "1GB"]}]},
        "two would become one mount point named '/mnt/ramdisk,/home/hdd', Alluxio #8687",
    ),
    "a worker memory size 1.x cannot parse": (
        {"alluxio_env": {"ALLUXIO_WORKER_MEMORY_SIZE": "2G"}},
        "alluxio_env['ALLUXIO_WORKER_MEMORY_SIZE']='2G': a size such as 512MB or 1GB",
    ),
    "an unknown -D key in alluxio_env": (
        {"alluxio_env": {"ALLUXIO_WORKER_JAVA_OPTS": "-Xmx1g -Dalluxio.worker.memory.sise=1GB"}},
        "--data alluxio_env['ALLUXIO_WORKER_JAVA_OPTS']: -Dalluxio.worker.memory.sise is not a key of Alluxio 1.2.0 (did you mean 'alluxio.worker.memory.size'?); its daemons exit on it",
    ),
    "a deliberate alluxio key on 1.2.0": (
        {"alluxio_site": {"alluxio.my.plugin": "1"}, "alluxio_site_deliberate": ["alluxio.my.plugin"]},
        "Alluxio 1.2.0's daemons exit on an alluxio.* key they do not know",
    ),
    "blanks around a value": (
        {"alluxio_site": {"alluxio.worker.tieredstore.reserver.enabled": "true "}},
        "blanks around the value (1.x keeps them: 'true ' is false)",
    ),
    "a size with a blank": (
        {"alluxio_site": {"alluxio.user.block.size.bytes.default": "64 MB"}},
        "'64 MB': a size such as 512MB or 1GB",
    ),
    "a newline that would add a property": (
        {"alluxio_site": {"my.key": "a\nalluxio.master.port=1"}, "alluxio_site_deliberate": ["my.key"]},
        "alluxio_site['my.key']: the value has a newline or NUL",
    ),
    "a tier key also a -D": (
        {"alluxio_env": {"ALLUXIO_WORKER_JAVA_OPTS": "-Dalluxio.worker.tieredstore.levels=1"}, "alluxio_tiers": TWO_TIERS},
        "alluxio_env['ALLUXIO_WORKER_JAVA_OPTS']: -Dalluxio.worker.tieredstore.levels would win over --data alluxio_tiers",
    ),
    "a data folder the tool cannot name": (
        {"alluxio_site": {"alluxio.worker.data.folder": "/alluxio worker/"}},
        "alluxio_site['alluxio.worker.data.folder']='/alluxio worker/': a folder name inside each tier folder",
    ),
    "a comma in the RAM folder": (
        {"alluxio_env": {"ALLUXIO_RAM_FOLDER": "/mnt/ramdisk,/home/hdd"}},
        "alluxio_env['ALLUXIO_RAM_FOLDER']='/mnt/ramdisk,/home/hdd': one absolute folder",
    ),
    "disk first": (
        {"alluxio_tiers": [{"alias": "HDD", "dirs": ["/a"], "quotas": ["1GB"]}]},
        "alluxio_tiers[0].alias='HDD': level 0 is the RAM folder the scripts mount: MEM",
    ),
    "out of order": (
        {
            "alluxio_tiers": [
                {"alias": "MEM"},
                {"alias": "HDD", "dirs": ["/a"], "quotas": ["1GB"]},
                {"alias": "SSD", "dirs": ["/b"], "quotas": ["1GB"]},
            ]
        },
        "aliases ['MEM', 'HDD', 'SSD']; each once, in the master's order MEM, SSD, HDD",
    ),
    "a disk folder in the RAM folder": (
        {"alluxio_tiers": [{"alias": "MEM"}, {"alias": "HDD", "dirs": ["/mnt/ramdisk/hdd"], "quotas": ["1GB"]}]},
        "alluxio_tiers[1].dirs[0]='/mnt/ramdisk/hdd': overlaps --data alluxio_tiers[0].dirs[0]='/mnt/ramdisk'",
    ),
    "level 0 differs from alluxio_env": (
        {"alluxio_env": {"ALLUXIO_RAM_FOLDER": "/mnt/ram"}, "alluxio_tiers": [{"alias": "MEM", "dirs": ["/mnt/ramdisk"]}]},
        "ALLUXIO_RAM_FOLDER='/mnt/ram' says otherwise",
    ),
    "a relative folder": (
        {"alluxio_tiers": [{"alias": "MEM"}, {"alias": "SSD", "dirs": ["ssd"], "quotas": ["1GB"]}]},
        "alluxio_tiers[1].dirs[0]='ssd': an absolute path",
    ),
    "a bad quota": (
        {"alluxio_tiers": [{"alias": "MEM"}, {"alias": "SSD", "dirs": ["/ssd"], "quotas": ["1 gigabyte"]}]},
        "'1 gigabyte' is not a size",
    ),
    "in a release folder": (
        {"alluxio_tiers": [{"alias": "MEM"}, {"alias": "SSD", "dirs": ["/opt/alluxio-1.2.0/ssd"], "quotas": ["1GB"]}]},
        "inside a release folder",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", BAD_SITE)
def test_refuses_what_the_release_would_not_read_as_declared(case: str, tarball: Path) -> None:
    data, message = BAD_SITE[case]
    with pytest.raises(InventoryError) as error:
        make(tarball, data=data)
    assert message in str(error.value)


def test_a_file_with_credentials_never_travels_on_a_command_line(tarball: Path) -> None:
    from operations import conf
    from tests.recorded import cluster
    from tests.test_operations import BARE, run

    secret = cluster().model_copy(update={"site": (("fs.s3n.awsSecretAccessKey", "s3cr3t-value"),)})
    commands, _ = run(conf.alluxio_site, "server06", BARE, model=secret)
    made, upload, install = commands
    assert made.endswith(
        "(umask 077 && : > /opt/alluxio-1.2.0/conf/.alluxio-site.properties.alluxio-reconcile.tmp)"
    )
    assert upload.startswith("upload ") and "chmod 600" in install
    import base64

    assert not any(base64.b64encode(b"s3cr3t").decode()[:6] in c or "s3cr3t" in c for c in commands)
    plain, _ = run(conf.alluxio_site, "server06", BARE)
    assert len(plain) == 1 and "printf %s" in plain[0]  # nothing secret: inline as the other files


def test_a_deliberate_unknown_key_is_written(tarball: Path) -> None:
    c = make(
        tarball, data={"alluxio_site": {"my.plugin.key": "v"}, "alluxio_site_deliberate": ["my.plugin.key"]}
    )
    assert parse_properties(c.alluxio_site.encode())["my.plugin.key"] == "v"
    assert readers_of("1.2.0", "my.plugin.key") == BOTH  # nothing says otherwise


# ----- reading the hosts, and deciding on what was read -------------------------------------
def test_the_tier_fact_reads_folders_their_file_system_and_marker(tmp_path: Path) -> None:
    import subprocess

    from facts.tiers import TierDirs

    made = tmp_path / "hdd1"
    made.mkdir()
    (made / ".alluxio-reconcile-tier").write_text("level1 HDD /x\n")
    (made / "alluxioworker").mkdir()
    (made / "alluxioworker" / "1001").write_bytes(b"x" * 50000)
    (tmp_path / "file").write_text("in the way")
    dirs = (str(made), str(tmp_path / "deep" / "missing"), str(tmp_path / "file"))
    output = subprocess.run(
        ["sh", "-c", TierDirs().command(dirs)], capture_output=True, text=True, check=True
    )
    found = {d.path: d for d in TierDirs().process(output.stdout.splitlines())}
    assert [found[d].kind for d in dirs] == ["dir", "missing", "other"]
    assert found[str(made)].marked == "level1 HDD /x" and found[dirs[1]].marked == ""
    assert found[str(made)].writable and found[str(made)].size > found[str(made)].free > 0
    assert found[str(made)].fs_id == found[dirs[1]].fs_id  # described by the folder above it
    assert 50000 <= found[str(made)].used < 60000 and found[dirs[1]].used == 0  # du: the folder's entry too


def test_tier_folders_are_refused_where_the_worker_could_not_use_them(tarball: Path) -> None:
    from dataclasses import replace

    from facts.tiers import TierDir
    from resources import tier_dirs
    from tests.recorded import snapshots

    c = make(tarball, data={"alluxio_tiers": TWO_TIERS})
    snap = snapshots("converged")["server06"]
    gb = 1 << 30

    def verdict(*dirs: TierDir):  # type: ignore[no-untyped-def]
        return tier_dirs(c, replace(snap, tier_dirs=dirs))

    ok = TierDir("/srv/alluxio/hdd1", "dir", True, "fs1", gb, gb, "level1 HDD /srv/alluxio/hdd1")
    new = TierDir("/srv/alluxio/hdd2", "missing", True, "fs1", gb, gb, "")
    v = verdict(ok, new)
    assert v.status == "drifted" and v.details.make == ("/srv/alluxio/hdd2",) and not v.details.unusable
    assert v.details.mark == (("/srv/alluxio/hdd2", "level1 HDD /srv/alluxio/hdd2\n"),)
    small = replace(ok, size=250 << 20), replace(new, size=250 << 20)
    assert (
        "quotas of 314572800 bytes on a file system of 262144000 bytes" in verdict(*small).details.unusable[0]
    )
    full = replace(ok, used=101 << 20)
    assert (
        "its blocks take 105906176 bytes, more than its quota 100MB" in verdict(full, new).details.unusable[0]
    )
    read_only = replace(new, writable=False)
    assert "the folder above /srv/alluxio/hdd2 is not writable" in verdict(ok, read_only).details.unusable[0]
    in_the_way = replace(new, kind="other")
    assert "something other than a folder" in verdict(ok, in_the_way).details.unusable[0]
    # once a converge marked them (its record names the resource), a lost marker means a changed folder
    recorded = replace(snap, applied={**snap.applied, "tier_dirs": verdict(ok, new).fingerprint})
    lost = replace(ok, marker="")
    moved = tier_dirs(
        c,
        replace(recorded, tier_dirs=(lost, replace(new, kind="dir", marker="level1 HDD /srv/alluxio/hdd2"))),
    )
    assert moved.details.moved == ("/srv/alluxio/hdd1",) and "lost its marker" in moved.actual
    assert verdict(lost, new).details.moved == ()  # never marked: new to the tool
    # a prepared folder gone (a disk not mounted): not made again on the disk beneath
    gone = tier_dirs(c, replace(recorded, tier_dirs=(ok, new)))
    assert "/srv/alluxio/hdd2: gone since the last converge prepared it" in gone.details.unusable[0]
    assert gone.details.make == ()


def _with_site(snap, text: str | None, shadowing: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    from facts.conf import SiteState
    from facts.probe import ABSENT, FileState

    file = ABSENT if text is None else FileState("file", "644", "root", "root", text.encode())
    return replace(
        snap, alluxio_site=SiteState(file, parse_properties(file.content or b"")), shadowing_site=shadowing
    )


def test_a_site_key_restarts_only_the_daemons_that_read_it() -> None:
    from runtime.schedule import decide
    from tests.recorded import cluster, snapshots

    c, converged = cluster(), snapshots("converged")
    assert decide(c, converged).why == "nothing restarts"  # an empty site file: no key changes

    def declared(**site: str):  # type: ignore[no-untyped-def]
        return c.model_copy(update={"site": tuple(site.items())})

    workers_only = decide(declared(**{"alluxio.worker.block.heartbeat.timeout.ms": "60000"}), converged)
    assert not workers_only.start_master and workers_only.rolling == ("server06", "server07", "server08")
    assert "site keys server06's worker reads (alluxio.worker.block.heartbeat.timeout.ms)" in workers_only.why
    master_only = decide(declared(**{"alluxio.master.worker.timeout.ms": "60000"}), converged)
    assert master_only.start_master and master_only.rolling == ()
    assert "site keys the master reads (alluxio.master.worker.timeout.ms)" in master_only.why
    both = decide(declared(**{"alluxio.master.port": "19990"}), converged)
    assert both.start_master and both.rolling == ("server06", "server07", "server08")
    clients = decide(declared(**{"alluxio.user.file.writetype.default": "CACHE_THROUGH"}), converged)
    assert not clients.start_master and not clients.rolling and clients.anything_to_change
    # a key taken away counts too: the file on the hosts still sets it
    text = "alluxio.master.worker.timeout.ms=60000\n"
    removed = decide(c, {n: _with_site(s, text) for n, s in converged.items()})
    assert removed.start_master and removed.rolling == ()


def test_a_shadowing_site_file_is_drift_and_secrets_stay_masked() -> None:
    from resources import alluxio_site as site_verdict
    from tests.recorded import cluster, snapshots

    c = cluster().model_copy(
        update={"site": (("fs.s3n.awsSecretAccessKey", "s3cr3t"), ("fs.s3n.awsAccessKeyId", "AK"))}
    )
    snap = snapshots("converged")["server06"]
    v = site_verdict(c, _with_site(snap, "fs.s3n.awsSecretAccessKey=old-secret\n"))
    assert v.status == "drifted" and v.details.file is not None and v.details.file.mode == "600"
    assert (
        "s3cr3t" not in (v.diff or "") + v.desired + v.actual
        and "old-secret" not in (v.diff or "") + v.actual
    )
    assert "+fs.s3n.awsAccessKeyId=AK" in (v.diff or "") and "fs.s3n.awsSecretAccessKey=***" in v.desired
    assert site_verdict(c, _with_site(snap, c.alluxio_site)).status == "drifted"  # its mode is 644, not 600
    hidden = site_verdict(
        cluster(), _with_site(snap, cluster().alluxio_site, ("/etc/alluxio/alluxio-site.properties",))
    )
    assert hidden.status == "drifted" and hidden.actual.startswith(
        "hidden by /etc/alluxio/alluxio-site.properties"
    )
    assert hidden.details.shadowed == ("/etc/alluxio/alluxio-site.properties",)
    assert site_verdict(cluster(), _with_site(snap, cluster().alluxio_site)).in_sync
