"""Alluxio's configuration files: conf/workers and conf/alluxio-env.sh."""

from __future__ import annotations

from dataclasses import replace

from cluster import Cluster
from facts.node import NodeSnapshot
from layout import (
    ENV_PATH,
    MANAGED_MODES,
    WORKERS_PATH,
)
from resources.verdict import (
    Verdict,
    text_verdict,
)


def workers_file(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{WORKERS_PATH}"
    verdict = text_verdict(
        "workers_file",
        path,
        snap.workers_file.file,
        cluster.workers_file,
        " ".join(cluster.workers),
        MANAGED_MODES[WORKERS_PATH],
    )
    actual = " ".join(snap.workers_file.hosts) if snap.workers_file.file.exists else "absent"
    if snap.workers_file.file.exists and not verdict.in_sync and snap.workers_file.hosts == cluster.workers:
        actual += " (other text)"
    return replace(verdict, actual=actual)


def alluxio_env(cluster: Cluster, snap: NodeSnapshot) -> Verdict:
    path = f"{cluster.install_dir}/{ENV_PATH}"
    desired_settings = cluster.env_settings
    verdict = text_verdict(
        "alluxio_env",
        path,
        snap.alluxio_env.file,
        cluster.alluxio_env,
        " ".join(f"{k}={v}" for k, v in desired_settings.items()),
        MANAGED_MODES[ENV_PATH],
    )
    have = snap.alluxio_env.settings
    actual = "absent" if not snap.alluxio_env.file.exists else " ".join(f"{k}={v}" for k, v in have.items())
    return replace(verdict, actual=actual or "(no settings)")
