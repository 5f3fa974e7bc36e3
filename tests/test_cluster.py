"""The desired-state model: what it derives, and what it refuses (naming field and host)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from pyinfra.api import Inventory

from cluster import Cluster, InventoryError, declare
from runtime.declaration import build

HOSTS = [("server08", {"ssh_hostname": "10.0.1.13"}), ("server06", {"ssh_hostname": "10.0.1.11"})]


def make(
    tarball: Path, hosts=HOSTS, master="server08", workers=("server06", "server08"), data=None
) -> Cluster:
    data = {"alluxio_tarball": str(tarball), **(data or {})}
    return declare(hosts, master, list(workers), {"server03": "10.0.1.8"}, data)


def test_derives_the_posts_files(tarball: Path) -> None:
    c = make(tarball, data={"alluxio_env": {"JAVA": "/usr/bin/java", "ALLUXIO_JAVA_OPTS": "-Xmx1g -Da=b c"}})
    assert isinstance(c, Cluster)
    assert c.install_dir == "/opt/alluxio-1.2.0"
    assert c.remote_tarball == "/opt/alluxio-1.2.0-cdh5-bin.tar.gz"
    assert c.host_entries == {"server08": "10.0.1.13", "server06": "10.0.1.11", "server03": "10.0.1.8"}
    assert c.workers_file.splitlines()[1:] == ["server06", "server08"]
    assert c.alluxio_env_of("server06").splitlines()[2:] == [
        "ALLUXIO_MASTER_HOSTNAME=server08",
        "ALLUXIO_UNDERFS_ADDRESS=hdfs://server03:8020/alluxio",
        "JAVA=/usr/bin/java",
        "ALLUXIO_JAVA_OPTS='-Xmx1g -Da=b c'",
    ]
    assert " -t ${worker}" in c.tarball.launcher and " -tt ${worker}" not in c.tarball.launcher
    assert c.launcher == c.tarball.launcher.replace(" -t ${worker}", " -tt ${worker}")
    assert c.worker_list_path == "/v1/api/master/worker_info_list"


def test_fault_tolerant_masters_each_name_themselves_and_share_zookeeper_and_the_journal(
    tarball: Path,
) -> None:
    hosts = [*HOSTS, ("server07", {"ssh_hostname": "10.0.1.12"})]
    ft = {
        "alluxio_zookeeper": "server03:2181, 10.0.1.9:2181",
        "alluxio_journal_folder": "/mnt/shared/journal",
    }
    c = make(tarball, hosts=hosts, master=["server08", "server07"], workers=("server06", "server08"), data=ft)
    assert c.fault_tolerant and c.all_masters == ("server08", "server07") and c.master == "server08"
    assert c.zookeeper_servers == ("server03:2181", "10.0.1.9:2181")
    assert c.env_settings_of("server07")["ALLUXIO_MASTER_HOSTNAME"] == "server07"
    assert c.env_settings_of("server08")["ALLUXIO_MASTER_HOSTNAME"] == "server08"
    assert "ALLUXIO_MASTER_HOSTNAME" not in c.env_settings_of("server06")  # it asks ZooKeeper
    assert c.site_properties == {
        "alluxio.zookeeper.enabled": "true",
        "alluxio.zookeeper.address": "server03:2181,10.0.1.9:2181",
        "alluxio.master.journal.folder": "/mnt/shared/journal/",
        "alluxio.worker.block.heartbeat.timeout.ms": "1000000",  # outlasts a failover
    }
    # the operator's own heartbeat timeout wins; one master with ZooKeeper is fault tolerance too
    own = {**ft, "alluxio_site": {"alluxio.worker.block.heartbeat.timeout.ms": 120000}}
    one = make(tarball, data=own)
    assert one.fault_tolerant and one.site_properties["alluxio.worker.block.heartbeat.timeout.ms"] == "120000"
    # without ZooKeeper: the post's cluster, byte for byte
    assert not make(tarball).fault_tolerant and make(tarball).masters == ()


def _tar(path: Path, top: str, gz: bool = True) -> Path:
    with tarfile.open(path, "w:gz" if gz else "w") as tar:
        data = b"nohup ssh -t ${worker} x\n"
        info = tarfile.TarInfo(f"{top}/bin/alluxio-workers.sh")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


BAD = {
    "duplicate hostname": (dict(hosts=[*HOSTS, ("server06", {"ssh_hostname": "10.0.1.20"})]), "host server06: declared twice"),
    "two hosts one address": (dict(hosts=[*HOSTS, ("server07", {"ssh_hostname": "10.0.1.11"})]), "host server07: address 10.0.1.11 is already host server06's"),
    "malformed address": (dict(hosts=[("server08", {"ssh_hostname": "10.0.1.300"}), HOSTS[1]]), "host server08: ssh_hostname='10.0.1.300': not an IPv4 address"),
    "hostname not a DNS label": (dict(hosts=[*HOSTS, ("server_07", {"ssh_hostname": "10.0.1.12"})]), "host 'server_07': not a valid DNS label"),
    "no master": (dict(master=""), "master: no master declared"),
    "two masters without ZooKeeper": (dict(master=["server08", "server06"]), "group alluxio_master: 2 masters (server08, server06) elect their leader through ZooKeeper: declare alluxio_zookeeper"),
    "a master twice": (dict(master=["server08", "server08"]), "group alluxio_master: listed twice: ['server08']"),
    "ZooKeeper without a journal folder": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "10.0.1.8:2181"}), "alluxio_journal_folder: required with alluxio_zookeeper"),
    "a journal folder without ZooKeeper": (dict(data={"alluxio_journal_folder": "/mnt/shared/journal"}), "--data alluxio_journal_folder: for fault-tolerant masters, with alluxio_zookeeper"),
    "a journal folder in a release folder": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "10.0.1.8:2181", "alluxio_journal_folder": "/opt/alluxio-1.2.0/journal"}), "alluxio_journal_folder='/opt/alluxio-1.2.0/journal': inside a release folder, which an upgrade replaces"),
    "an HDFS journal": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "10.0.1.8:2181", "alluxio_journal_folder": "hdfs://server03:8020/journal"}), "the tool reads the journal's format marker on the masters, which needs a path there"),
    "a relative journal folder": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "10.0.1.8:2181", "alluxio_journal_folder": "journal"}), "alluxio_journal_folder='journal': an absolute path"),
    "ZooKeeper without a port": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "10.0.1.8", "alluxio_journal_folder": "/mnt/shared/journal"}), "--data alluxio_zookeeper: '10.0.1.8' is not host:port"),
    "ZooKeeper on a host no node resolves": (dict(master=["server08", "server06"], data={"alluxio_zookeeper": "zk1:2181", "alluxio_journal_folder": "/mnt/shared/journal"}), "alluxio_zookeeper: zk1 is no host of the inventory: the nodes resolve only its hosts"),
    "ZooKeeper's key in alluxio_site": (dict(data={"alluxio_site": {"alluxio.zookeeper.address": "10.0.1.8:2181"}}), "alluxio_site['alluxio.zookeeper.address']: the tool sets it; declare alluxio_zookeeper instead"),
    "the journal folder's key in alluxio_site": (dict(data={"alluxio_site": {"alluxio.master.journal.folder": "/j/"}}), "declare alluxio_journal_folder (for fault-tolerant masters) instead"),
    "ZooKeeper as a -D": (dict(data={"alluxio_env": {"ALLUXIO_JAVA_OPTS": "-Dalluxio.zookeeper.enabled=true"}}), "alluxio_env['ALLUXIO_JAVA_OPTS']: -Dalluxio.zookeeper.enabled is the tool's to set"),
    "master not managed": (dict(master="server03"), "group alluxio_master: host server03 is resolve-only, not managed"),
    "no workers": (dict(workers=()), "group alluxio_workers: no workers declared"),
    "worker not in inventory": (dict(workers=("server06", "server09")), "group alluxio_workers: host server09 is not in the inventory"),
    "env name not an identifier": (dict(data={"alluxio_env": {"1BAD": "x"}}), "--data alluxio_env['1BAD']: not a shell variable name"),
    "env value with newline": (dict(data={"alluxio_env": {"OPTS": "a\nb"}}), "--data alluxio_env['OPTS']: the value has a newline or NUL"),
    "env value with NUL": (dict(data={"alluxio_env": {"OPTS": "a\0b"}}), "the value has a newline or NUL"),
    "unsupported release": (dict(data={"alluxio_version": "1.5.0"}), "--data alluxio_version='1.5.0': this tool supports Alluxio 1.2.0 and 1.3.0 only"),
    "restart mode unknown": (dict(data={"alluxio_restart": "sometimes"}), "--data alluxio_restart='sometimes': one of rolling, all"),
    "health wait not whole seconds": (dict(data={"alluxio_health_seconds": "soon"}), "--data alluxio_health_seconds='soon': whole seconds, 1 to 3600"),
    "1.4.0 not proven": (dict(data={"alluxio_version": "1.4.0"}), "this tool supports Alluxio 1.2.0 and 1.3.0 only"),
    "1.1.0 not proven": (dict(data={"alluxio_version": "1.1.0"}), "this tool supports Alluxio 1.2.0 and 1.3.0 only"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD))
def test_refuses_bad_inventories(case: str, tarball: Path) -> None:
    kwargs, message = BAD[case]
    kwargs = dict(kwargs)
    data = kwargs.pop("data", None)
    with pytest.raises(InventoryError) as caught:
        make(tarball, data=data, **kwargs)
    assert message in str(caught.value)


def test_refuses_bad_tarballs(tmp_path: Path) -> None:
    with pytest.raises(InventoryError, match="alluxio_tarball: required"):
        declare(HOSTS, "server08", ["server06"], {}, {})
    with pytest.raises(InventoryError, match="no such file"):
        make(tmp_path / "nope.tar.gz")
    (tmp_path / "text.tar.gz").write_text("not a tarball")
    with pytest.raises(InventoryError, match="not a gzip tar archive"):
        make(tmp_path / "text.tar.gz")
    with pytest.raises(InventoryError, match="not a gzip tar archive"):
        make(_tar(tmp_path / "plain.tar.gz", "alluxio-1.2.0", gz=False))
    with pytest.raises(
        InventoryError, match=r"top directory is alluxio-1.3.0, not the declared release alluxio-1.2.0"
    ):
        make(_tar(tmp_path / "other.tar.gz", "alluxio-1.3.0"))


# ----- from a pyinfra inventory: groups, and data from every source pyinfra reads --------------
def inventory(
    tarball: Path, override: dict | None = None, all_data: dict | None = None, **groups
) -> Inventory:
    """A pyinfra Inventory as inventory.py and group_data/*.py make one."""
    master = groups.pop("master", [("server08", {"ssh_hostname": "10.0.1.13"})])
    workers = groups.pop(
        "workers", [("server06", {"ssh_hostname": "10.0.1.11"}), ("server08", {"ssh_hostname": "10.0.1.13"})]
    )
    names = list(dict.fromkeys(n for n, _ in [*master, *workers]))
    data = {"alluxio_tarball": str(tarball), **(all_data or {})}
    return Inventory(
        (names, data),
        override_data=override or {},
        alluxio_master=(master, groups.pop("master_data", {})),
        alluxio_workers=(workers, groups.pop("workers_data", {})),
    )


def test_the_cluster_comes_from_pyinfra_groups_and_data(tarball: Path) -> None:
    c = build(inventory(tarball, all_data={"alluxio_env": {"ALLUXIO_WORKER_MEMORY_SIZE": "2GB"}}))
    assert (c.master, c.workers) == ("server08", ("server06", "server08"))
    assert dict(c.env) == {"ALLUXIO_WORKER_MEMORY_SIZE": "2GB"}  # from group_data/all.py
    # --data wins over group data, as pyinfra's precedence says
    c = build(
        inventory(tarball, override={"alluxio_restart": "all"}, all_data={"alluxio_restart": "rolling"})
    )
    assert c.restart == "all"
    # a master that is no worker
    c = build(inventory(tarball, workers=[("server06", {"ssh_hostname": "10.0.1.11"})]))
    assert c.workers == ("server06",) and c.master == "server08"


BAD_SOURCES = {
    "a bad value in group_data/all.py": (dict(all_data={"alluxio_env": {"BAD-NAME": "x"}}), "group_data/all.py alluxio_env['BAD-NAME']: not a shell variable name"),
    "a typo in group_data/all.py": (dict(all_data={"alluxio_evn": {}}), "group_data/all.py: unknown data key 'alluxio_evn' (did you mean 'alluxio_env'?)"),
    "a typo of a data key in --data": (dict(override={"alluxio_tarbal": "x"}), "--data: unknown data key 'alluxio_tarbal' (did you mean 'alluxio_tarball'?)"),
    "a typo in host data": (dict(master=[("server08", {"ssh_hostname": "10.0.1.13", "ssh_hostnme": "x"})]), "host server08's data in the inventory: unknown data key 'ssh_hostnme'"),
    "a typo in a group's data": (dict(workers_data={"alluxio_versoin": "1.3.0"}), "group_data/alluxio_workers.py: unknown data key 'alluxio_versoin'"),
    "a value that differs between hosts": (dict(master_data={"alluxio_version": "1.3.0"}), "alluxio_version: must be the same for every host, but server08: '1.3.0' (group_data/alluxio_master.py); server06: unset (default)"),
    "tiers that differ per worker": (dict(workers=[("server06", {"ssh_hostname": "10.0.1.11", "alluxio_tiers": [{"alias": "MEM"}, {"alias": "HDD", "dirs": ["/hdd"], "quotas": ["1GB"]}]}), ("server08", {"ssh_hostname": "10.0.1.13"})]), "alluxio_tiers: must be the same for every host, but server08: unset (default); server06: [{'alias': 'MEM'}, {'alias': 'HDD', 'dirs': ['/hdd'], 'quotas': ['1GB']}] (host server06's data in the inventory) (one alluxio-site.properties serves every node"),
    "two masters": (dict(master=[("server08", {"ssh_hostname": "10.0.1.13"}), ("server06", {"ssh_hostname": "10.0.1.11"})]), "group alluxio_master: 2 masters (server08, server06) elect their leader through ZooKeeper: declare alluxio_zookeeper"),
    "no master": (dict(master=[]), "group alluxio_master: no master declared"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_SOURCES))
def test_refuses_bad_inventories_naming_the_source(case: str, tarball: Path) -> None:
    kwargs, message = BAD_SOURCES[case]
    with pytest.raises(InventoryError) as caught:
        build(inventory(tarball, **kwargs))
    assert message in str(caught.value)
